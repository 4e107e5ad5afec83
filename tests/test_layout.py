"""The folder tree is the architecture: these boundaries are checked, not just described.

Each part of careers — a subpackage (`careers.web`), a top-level module (`careers.config`) or
the root package itself (`careers`, which builds the app) — may import only the parts
`MAY_IMPORT` lists for it; no two parts import each other, however indirectly; and nothing
imports a `_`-prefixed module or name from another part. docs/architecture.md says the same
in words. Imports inside functions count as much as those at the top of a file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "careers"

# -- the rules ---------------------------------------------------------------------------------

# The shared kernel: plain Python that any part may import, and that imports nothing of careers
# but itself and other kernel modules. Form tokens, the origin check and email syntax (forms/),
# client addresses and rate-limit keys (network), package file locations (paths), the rate value
# type (ratelimit), hardened XML parsing (safexml), what the database may raise (store_errors:
# the domain catches it, and careers.db imports the domain, so it cannot live in careers.db).
KERNEL = {
    "careers.forms",
    "careers.network",
    "careers.paths",
    "careers.ratelimit",
    "careers.safexml",
    "careers.store_errors",
}
# Operational helpers of the command line and the composition root: logging setup, Prometheus
# metrics, the environment-file reader.
OPERATIONS = {"careers.logs", "careers.metrics", "careers.envfile"}
# Storage (issue 20): low-level, beside the domain. Others may import it; it may import the
# kernel and the domain's data types (applications' model and rules, mail's data types).
# The outbox's contract and data types (store.py), the sealing of personal data, the upload
# spool whose files the outbox takes, the feed copy's type and Personio's vocabulary too: the
# storage layer implements those contracts and stores those types.
DOMAIN_TYPES = {
    "careers.applications.model",
    "careers.applications.rules",
    "careers.applications.store",
    "careers.applications.sealing",
    "careers.applications.spool",
    "careers.mail.store",
    "careers.jobs.store",
    "careers.jobs.funnel",
    "careers.personio",
}

# Which parts each part may import, besides itself. A part missing here may import only the
# kernel. Entries may name a single module (`careers.applications.model`) rather than a part.
# Read top to bottom: the command line sees everything, the kernel nothing.
MAY_IMPORT: dict[str, set[str]] = {
    "careers.cli": {
        "careers",
        "careers.services",
        "careers.web",
        "careers.sandbox",
        "careers.mail",
        "careers.config",
        "careers.accounts",
        "careers.db",
        "careers.applications",
        "careers.jobs",
        "careers.personio",
        *OPERATIONS,
    },
    # create_app: settings, the composition root and the web layer.
    "careers": {"careers.config", "careers.services", "careers.web"},
    "careers.web": {
        "careers.services",
        "careers.mail",
        "careers.config",
        "careers.accounts",
        "careers.config_parsers",
        "careers.branding",
        "careers.db",
        "careers.applications",
        "careers.jobs",
        "careers.personio",
    },
    # The composition root: settings in, stores, clients, catalogue and workers out.
    "careers.services": {
        "careers.mail",
        "careers.config",
        "careers.accounts",
        "careers.db",
        "careers.applications",
        "careers.jobs",
        "careers.personio",
        "careers.metrics",
    },
    # Mails about jobs (alerts) and about the outbox (operator alerts). Not careers.db: db
    # imports mail's data types (mail/store.py), so mail importing db would close a cycle.
    "careers.mail": {
        "careers.config",
        "careers.accounts",
        "careers.applications",
        "careers.jobs",
        "careers.personio",
    },
    # Settings parse into the domain's types (the form schema, Personio's vocabulary).
    "careers.config": {
        "careers.accounts",
        "careers.config_parsers",
        "careers.branding",
        "careers.applications.form",
        "careers.applications.pay_history",
        "careers.jobs.pay",
        "careers.personio",
    },
    # Several Personio accounts (CAREERS_ACCOUNTS_FILE): parsed like the settings, each with
    # its form.
    "careers.accounts": {"careers.config_parsers", "careers.applications.form"},
    "careers.branding": {"careers.config_parsers"},
    "careers.config_parsers": {"careers.personio"},
    "careers.db": DOMAIN_TYPES,
    # The domain: plain Python over Personio's data, no Flask, no settings object.
    "careers.applications": {"careers.personio"},
    "careers.jobs": {"careers.personio"},
    "careers.sandbox": {"careers.personio"},
    "careers.personio": set(),
    **{name: set() for name in KERNEL},
    **{name: set() for name in OPERATIONS},
}

# -- reading the imports -----------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _raw_imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for each imported name; name is None for `import module`."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.extend((base, alias.name) for alias in node.names)
    return found


RAW = {_module_name(p): _raw_imports(p) for p in PACKAGE.rglob("*.py")}


def _resolve(module: str, name: str | None) -> tuple[str, str | None]:
    """`from careers import config` imports the module careers.config, not a name of careers."""
    if name is not None and f"{module}.{name}" in RAW:
        return f"{module}.{name}", None
    return module, name


# module -> the modules it imports (`from x import name` counts as importing x)
IMPORTS = {module: [_resolve(base, name) for base, name in found] for module, found in RAW.items()}
MODULES = {module: {base for base, _ in found} for module, found in IMPORTS.items()}


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def part_of(module: str) -> str | None:
    """The part of careers a module belongs to: `careers`, `careers.web`, `careers.config` …"""
    parts = module.split(".")
    if parts[0] != "careers":
        return None
    return ".".join(parts[:2])


def part_imports(modules: dict[str, set[str]]) -> dict[str, dict[str, set[str]]]:
    """part -> imported part -> the imports that make the edge ("careers.x.y -> careers.z")."""
    edges: dict[str, dict[str, set[str]]] = {}
    for module, imported in modules.items():
        here = part_of(module)
        for name in imported:
            there = part_of(name)
            if here and there and there != here:
                edges.setdefault(here, {}).setdefault(there, set()).add(f"{module} -> {name}")
    return edges


def cycles(edges: dict[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one part (Tarjan): each is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _within(name: str, entry: str) -> bool:
    """Whether an imported module is the table's entry or inside it (the root package's
    entry, `careers`, is that module alone)."""
    return name == entry or entry != "careers" and name.startswith(entry + ".")


def forbidden_imports(modules: dict[str, set[str]]) -> list[str]:
    """Imports between parts that MAY_IMPORT does not allow."""
    bad = []
    for module, imported in sorted(modules.items()):
        here = part_of(module)
        if here is None:
            continue
        allowed = MAY_IMPORT.get(here, set()) | KERNEL
        for name in sorted(imported):
            there = part_of(name)
            if there is None or there == here:
                continue
            if not any(_within(name, entry) for entry in allowed):
                bad.append(f"{module} imports {name} ({here} may not import {there})")
    return bad


def _private(dotted: str) -> bool:
    return any(p.startswith("_") and not p.startswith("__") for p in dotted.split("."))


def private_imports(imports: dict[str, list[tuple[str, str | None]]]) -> list[str]:
    """Imports of a `_`-prefixed module or name that another part owns."""
    bad = []
    for module, found in sorted(imports.items()):
        for base, name in found:
            owner = part_of(base)
            if owner is None or owner == part_of(module):
                continue
            if _private(base) or (name is not None and _private(name)):
                bad.append(f"{module} imports {base}{'.' + name if name else ''}")
    return bad


# -- the checks --------------------------------------------------------------------------------


def test_every_part_of_careers_has_a_row_in_the_table():
    parts = {part_of(m) for m in MODULES}
    assert parts <= set(MAY_IMPORT), f"add a row to MAY_IMPORT for {parts - set(MAY_IMPORT)}"


def test_the_table_itself_is_a_layering():
    """Whatever the table allows can be imported without closing a cycle."""
    allowed = {
        part: [p for p in {part_of(entry) for entry in entries} if p and p != part]
        for part, entries in MAY_IMPORT.items()
    }
    assert cycles(allowed) == []


def test_a_table_that_allows_a_cycle_is_caught(monkeypatch):
    monkeypatch.setitem(MAY_IMPORT, "careers.mail", MAY_IMPORT["careers.mail"] | {"careers.db"})
    with pytest.raises(AssertionError):
        test_the_table_itself_is_a_layering()


def test_each_part_imports_only_what_the_table_allows():
    bad = forbidden_imports(MODULES)
    assert not bad, "\n".join(bad)


def test_no_two_parts_import_each_other_even_through_others():
    edges = part_imports(MODULES)
    found = cycles({part: list(there) for part, there in edges.items()})
    described = [
        f"cycle between {', '.join(group)}:\n  "
        + "\n  ".join(sorted(e for a in group for b in group for e in edges.get(a, {}).get(b, ())))
        for group in found
    ]
    assert not found, "\n".join(described)


def test_nothing_imports_what_another_part_keeps_private():
    bad = private_imports(IMPORTS)
    assert not bad, "\n".join(bad)


def test_no_two_modules_import_each_other():
    known = set(MODULES)
    for module, imports in MODULES.items():
        for other in imports & known:
            if other != module and not _in(module, other) and not _in(other, module):
                assert module not in MODULES[other], f"{module} <-> {other}"


# The checks above must be able to fail: each made-up import below breaks one rule.
@pytest.mark.parametrize(
    ("module", "imported", "check"),
    [
        ("careers.applications.intake", "careers.web.apply", "forbidden"),  # upward
        ("careers.web.alerts", "careers.sandbox.server", "forbidden"),  # sideways, not listed
        ("careers.forms.tokens", "careers.applications.model", "forbidden"),  # kernel reaching up
        ("careers.config", "careers.services", "forbidden"),
        ("careers.applications.store", "careers.mail.store", "cycle"),  # mail imports applications
        ("careers.config", "careers", "cycle"),  # the root package imports config
        ("careers.personio.feed", "careers.jobs.store", "cycle"),
    ],
)
def test_a_bad_import_is_caught(module, imported, check):
    modules = {m: set(i) for m, i in MODULES.items()}
    modules[module].add(imported)
    if check == "forbidden":
        assert any(f"{module} imports {imported}" in line for line in forbidden_imports(modules))
    else:
        edges = part_imports(modules)
        assert cycles({part: list(there) for part, there in edges.items()})


def test_a_private_import_from_another_part_is_caught_and_one_within_a_part_is_not():
    imports = {m: list(i) for m, i in IMPORTS.items()}
    imports["careers.web.alerts"] = [("careers.mail.alert_links", "_signature")]
    imports["careers.web.pages"] = [("careers.web._helpers", "anything")]
    imports["careers.mail.worker"] = [("careers.mail.alert_links", "_signature")]
    assert private_imports(imports) == [
        "careers.web.alerts imports careers.mail.alert_links._signature"
    ]


# -- boundaries that read better as their own rule ---------------------------------------------


@pytest.mark.parametrize(
    "package", ["careers.personio", "careers.sandbox", "careers.jobs", "careers.applications"]
)
def test_domain_and_personio_packages_never_import_flask_or_the_web_layer(package):
    for module, imports in MODULES.items():
        if _in(module, package):
            bad = {i for i in imports if _in(i, "flask") or _in(i, "careers.web")}
            assert not bad, f"{module} imports {bad}"


def test_the_kernel_never_imports_flask():
    for module, imports in MODULES.items():
        if part_of(module) in KERNEL:
            assert not any(_in(i, "flask") for i in imports), module


def test_only_the_command_line_imports_the_sandbox():
    for module, imports in MODULES.items():
        if _in(module, "careers.sandbox") or _in(module, "careers.cli"):
            continue
        assert not any(_in(i, "careers.sandbox") for i in imports), module


def test_personio_package_holds_only_what_talks_to_personio():
    names = {m for m in MODULES if _in(m, "careers.personio")}
    assert names == {
        "careers.personio",
        "careers.personio.diagnosis",
        "careers.personio.errors",
        "careers.personio.feed",
        "careers.personio.model",
        "careers.personio.recruiting",
        "careers.personio.sanitize",
        "careers.personio.tokens",
        "careers.personio.vocabulary",
    }
