"""Shared fixtures: the Personio sandbox as a real loopback server, apps pointed at it, a
browser, PostgreSQL databases and the mail flow. Only fixtures and hooks live here; code
that tests import lives in helper modules (tests/apps.py, applying.py, mailing.py, …)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from careers import create_app
from careers.cli import main
from careers.sandbox.mailcatcher import MailCatcher
from careers.sandbox.recruiting import DEFAULT_ATTRIBUTES, DEFAULT_RATE_LIMIT
from careers.sandbox.sample_data import sample_feeds
from careers.sandbox.server import Sandbox, SandboxServer

from .applying import Clock, apply_env
from .apps import SECRET
from .mailing import OPS, SENDER, SITE, Harness

# The two-database harness of the contract suites: its fixtures for every test module.
pytest_plugins = ("tests.databases",)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox for the whole run; `sandbox` below resets it around every test."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer):
    """The sandbox with its sample board, no faults and an empty request log."""
    sb = sandbox_server.sandbox
    sb.rearm()  # the previous test's teardown released slow/hang faults
    sb.clear_recruiting()
    sb.set_rate_limit(DEFAULT_RATE_LIMIT)
    sb.set_attributes(DEFAULT_ATTRIBUTES)
    boards = sample_feeds()
    for lang in sb.languages():
        if lang not in boards:
            sb.drop_language(lang)  # a board an earlier test added (fr, es, …)
    for lang, positions in boards.items():
        sb.set_positions(lang, positions)
    sb.clear_faults()
    sb.clear_requests()
    yield sb
    sb.release()
    sb.clear_faults()


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Start a private sandbox, e.g. `start_sandbox(clock=fake)` for a rate window on a test
    clock (`Sandbox` keyword arguments); stopped after the test."""
    servers: list[SandboxServer] = []

    def start(**options: Any) -> SandboxServer:
        server = SandboxServer(Sandbox(**options)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def make_app(
    tmp_path: Path, sandbox, sandbox_server: SandboxServer
) -> Iterator[Callable[..., Flask]]:
    """Build apps against the sandbox; keyword overrides are CAREERS_* names in lower case."""
    apps: list[Flask] = []

    def make(data_dir: Path | None = None, **overrides: str) -> Flask:
        env = {
            "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
            "CAREERS_SECRET_KEY": SECRET,
            "CAREERS_DATA_DIR": str(data_dir or tmp_path / "data"),
            "CAREERS_COMPANY_NAME": "Nordlicht Robotics",
            # A site that takes applications or job alerts needs one (careers/config.py).
            "CAREERS_PRIVACY_URL": "https://nordlicht.example/privacy",
        }
        env.update({f"CAREERS_{k.upper()}": str(v) for k, v in overrides.items()})
        app = create_app(env)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["careers"].catalogue.wait_idle()
        app.extensions["careers"].feed_client.close()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


class CareersRunner:
    """The `careers` command in-process (like Flask's `app.test_cli_runner()`)."""

    def __init__(self) -> None:
        self.cli = CliRunner()

    def invoke(self, args: Sequence[str], env: dict[str, str] | None = None, **kwargs) -> Result:
        """Run `careers ARGS...`; `env` is added to the environment for the call."""
        return self.cli.invoke(main, list(args), env=env, **kwargs)


@pytest.fixture
def runner() -> CareersRunner:
    return CareersRunner()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that uses Chromium must say so (`pytest.mark.browser`), or the fast tier
    (`-m "not browser and not system"`) would start a browser after all."""
    unmarked = [
        item.nodeid
        for item in items
        if "browser" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("browser")
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests that use the `browser` fixture need the `browser` marker: " + ", ".join(unmarked)
        )


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright, shared by every browser test."""
    from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


# -- PostgreSQL (tests/pg.py): skipped without a server, failed without one under CI=true ----


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """One throwaway database per test module (creating one takes a few tenths of a second)."""
    from .pg import fresh_database

    with fresh_database() as url:
        yield url


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """The module's database, every table emptied (its schema is kept)."""
    from .pg import empty_tables, require_postgres

    require_postgres(request.node)
    url: str = request.getfixturevalue("pg_database")
    empty_tables(url)
    return url


@pytest.fixture
def fresh_pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of its own, without any table, for tests that change the schema."""
    from .pg import fresh_database, require_postgres

    require_postgres(request.node)
    with fresh_database() as url:
        yield url


# -- Mail (tests/mailing.py): a real SMTP server on loopback, and the site's stores on a clock --


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    with MailCatcher() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mail_app(make_app, sandbox_server, tmp_path, catcher):
    """An app that takes applications and sends mail to `catcher`; operators' alerts go to OPS."""
    return make_app(
        **apply_env(sandbox_server.url, tmp_path),
        smtp_url=catcher.smtp_url,
        mail_from=SENDER,
        public_url=SITE,
        alert_email=OPS,
        pay_transparency="off",  # the sample board lacks pay: tests/test_pay.py
    )


@pytest.fixture
def harness(mail_app, clock) -> Iterator[Harness]:
    made = Harness(mail_app, clock)
    yield made
    made.close()
