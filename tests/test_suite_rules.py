"""The test suite's own rules, so a maintainer can run part of it and trust each part.

A test module that imports another test module runs that module's tests' set-up (and its
fixtures become its own under other names); one that imports conftest.py gets a second copy
of it, since pytest loads conftest.py itself. Shared code lives in helper modules
(tests/apps.py, applying.py, browser.py, mailing.py, pg.py, servers.py, upgrading.py, …) and
shared fixtures in conftest.py. The `browser` marker's own guard is in conftest.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _imported(tree: ast.Module) -> set[str]:
    """Module names under tests/ that a file imports (`.x`, `tests.x`, `from . import x`)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.removeprefix("tests.") for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            inside = node.level == 1 or node.module in {"tests", None}
            if node.module and (node.level == 1 or node.module.startswith("tests.")):
                names.add(node.module.removeprefix("tests."))
            elif inside:  # `from . import x` / `from tests import x` imports the module x
                names |= {alias.name for alias in node.names}
    return names


def _forbidden(name: str) -> bool:
    first = name.split(".")[0]
    return first == "conftest" or first.startswith("test_")


def test_no_test_module_or_conftest_is_imported():
    offenders = {
        path.name: sorted(filter(_forbidden, _imported(ast.parse(path.read_text("utf-8")))))
        for path in sorted(TESTS.glob("*.py"))
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_rule_sees_every_spelling():
    spellings = [
        "from .test_cli import free_port",
        "from . import test_mail_flow as flow",
        "from .conftest import SECRET",
        "from tests.test_cli import free_port",
        "from tests import conftest",
        "import tests.test_cli",
    ]
    for source in spellings:
        assert any(map(_forbidden, _imported(ast.parse(source)))), source
    for source in ["from . import filegen", "from .servers import free_port", "import testing"]:
        assert not any(map(_forbidden, _imported(ast.parse(source)))), source
