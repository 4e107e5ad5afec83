"""The folder tree is the architecture: these boundaries are checked, not just described."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "careers"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules a file imports (relative imports resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from . import x` imports the submodule x
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize(
    "package", ["careers.personio", "careers.sandbox", "careers.jobs", "careers.applications"]
)
def test_domain_and_personio_packages_never_import_flask_or_the_web_layer(package):
    for module, imports in MODULES.items():
        if _in(module, package):
            bad = {i for i in imports if _in(i, "flask") or _in(i, "careers.web")}
            assert not bad, f"{module} imports {bad}"


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


def test_no_two_modules_import_each_other():
    known = set(MODULES)
    for module, imports in MODULES.items():
        for other in imports & known:
            if other != module and not _in(module, other) and not _in(other, module):
                assert module not in MODULES[other], f"{module} <-> {other}"
