"""The release installs the way the docs say: `pip install personio-careers` into a new venv.

The sdist is built from the checkout and the wheel from the unpacked sdist (what `python -m
build` and PyPI's users do), so a file the sdist forgets fails the build here. The wheel is
installed into a fresh virtual environment with its dependencies from the package index
(pip's cache keeps that to a few tens of seconds) and its command runs from outside the
checkout.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from .servers import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
DIST = PYPROJECT["project"]["name"].replace("-", "_")
# Templates, static files and compiled catalogues the running site reads.
ASSETS = (
    "templates/base.html",
    "templates/jobs/list.html",
    "static/careers.css",
    "static/embed.js",
    "translations/de/LC_MESSAGES/messages.mo",
    "translations/de/LC_MESSAGES/informal.mo",  # CAREERS_ADDRESS=informal
    # The storage layer's statements and schema are files of the package, read at run time.
    "db/queries/portable.sql",
    "db/queries/sqlite.sql",
    "db/queries/postgresql.sql",
    "db/schema/sqlite/001_applications.sql",
    "db/schema/sqlite/003_mail.sql",
    "db/schema/postgresql/003_mail.sql",
    # The sandbox's board, which `careers demo` serves.
    "sandbox/board/shared.toml",
    "sandbox/board/jobs/1842907-senior-robotics-software-engineer-motion.toml",
)


def hook(name: str, source: Path, out: Path) -> Path:
    """Run the build backend's PEP 517 hook in `source`, as a build frontend would."""
    result = subprocess.run(
        [sys.executable, "-c", f"import hatchling.build as b; print(b.{name}({str(out)!r}))"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out / result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel), the wheel built from the unpacked sdist."""
    out = tmp_path_factory.mktemp("dist")
    sdist = hook("build_sdist", ROOT, out)
    with tarfile.open(sdist) as archive:
        archive.extractall(out / "unpacked", filter="data")
    wheel = hook("build_wheel", out / "unpacked" / f"{DIST}-{VERSION}", out)
    return sdist, wheel


@pytest.mark.system
def test_sdist_holds_the_sources_and_nothing_private(built):
    sdist, _ = built
    assert sdist.name == f"{DIST}-{VERSION}.tar.gz"
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    # Templates and static files sit at the top of the checkout; the catalogues in careers/.
    sources = [a if a.startswith(("templates", "static")) else f"careers/{a}" for a in ASSETS]
    for needed in ("pyproject.toml", "README.md", "LICENSE", "careers/__init__.py", *sources):
        assert needed in names, needed
    for private in (".venv", "careers.env", ".env", "instance"):
        assert not any(n == private or n.startswith(private + "/") for n in names), private


@pytest.mark.system
def test_wheel_is_self_contained(built):
    _, wheel = built
    assert wheel.name == f"{DIST}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"{DIST}-{VERSION}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    for asset in ASSETS:
        assert f"careers/{asset}" in names, asset
    assert not any(name.startswith("tests/") for name in names)
    assert f"Version: {VERSION}\n" in metadata
    assert "Requires-Python: >=3.11\n" in metadata
    assert "careers = careers.cli:main" in entry_points


@pytest.mark.system
def test_wheel_installs_into_a_clean_venv_and_runs(built, tmp_path):
    _, wheel = built
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        # From outside the checkout, so nothing of it can be imported by accident.
        return subprocess.run(
            args,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin"},
        )

    careers = str(venv / "bin" / "careers")
    assert run(careers, "--version").stdout == f"careers {VERSION}\n"
    helped = run(careers, "check", "--help")
    assert helped.returncode == 0 and helped.stdout.startswith("Usage: careers check"), helped
    where = run(
        str(venv / "bin" / "python"),
        "-c",
        "import careers; print(careers.__file__); print(careers.asset_dir('templates'))",
    )
    package, templates = (Path(line) for line in where.stdout.splitlines())
    assert package.is_relative_to(venv) and templates.is_relative_to(venv), where
    assert (templates / "base.html").is_file()
    board = run(
        str(venv / "bin" / "python"),
        "-c",
        "from careers.sandbox.sample_data import sample_feeds; "
        "print(*(len(jobs) for jobs in sample_feeds().values()))",
    )
    assert board.stdout == "15 15\n", board
    # The schema and the named statements come from the installed package: a new database
    # is made at the latest version and answers.
    opened = run(
        str(venv / "bin" / "python"),
        "-c",
        "from careers.db.database import open_database, schema_version;"
        f" url = 'sqlite:///{tmp_path / 'data' / 'careers.db'}';"
        " d = open_database(url); print(d.outbox.counts(), schema_version(url)); d.close()",
    )
    assert opened.stdout == "{} (3, 3)\n", opened


def test_every_install_line_in_the_docs_names_the_published_distribution():
    name = PYPROJECT["project"]["name"]
    pages = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("*.md"))]
    lines = [
        (page.name, line)
        for page in pages
        for line in page.read_text(encoding="utf-8").splitlines()
        if "pip install" in line
    ]
    assert lines
    for page, line in lines:
        assert ".whl" not in line, f"{page}: {line}"
        # The command's own words: up to the next command, comment or end of inline code.
        installed = re.split(r"&&|;|\||#|`", line.split("pip install", 1)[1])[0].split()
        targets = [arg for arg in installed if not arg.startswith("-")]
        # From PyPI by its name, or a checkout (`-e .`, `-e '.[dev]'`) for developers.
        assert all(t.startswith(name) or t.strip("'\"").startswith(".") for t in targets), (
            f"{page}: {line}"
        )


def test_declared_flask_lets_a_view_raise_its_own_body_limit():
    """MAX_CONTENT_LENGTH is the small-body limit (64 KiB) and the application form raises it
    for its own request (`request.max_content_length = …`, web/apply.py). Only Flask 3.1 made
    that settable; on 3.0 the assignment raises AttributeError and every application is a 500.
    So the declared range must not admit 3.0."""
    from packaging.requirements import Requirement

    [flask] = [
        Requirement(line)
        for line in PYPROJECT["project"]["dependencies"]
        if Requirement(line).name == "flask"
    ]
    assert not flask.specifier.contains("3.0.3"), flask
    assert flask.specifier.contains("3.1.0"), flask
