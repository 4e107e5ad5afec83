"""`careers check` against real servers: the Personio sandbox, a mail server on loopback, and
a process without libmagic. What it must tell apart: a site that can serve (exit 0, warnings
included) from one that cannot (exit 1) and a broken installation (exit 2)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from careers.cli.check import feed_misconfigured
from careers.config import load_settings
from careers.db import migrate
from careers.personio.feed import FeedError
from careers.personio.recruiting import RecruitingClient
from careers.sandbox import SANDBOX_COMPANY_ID, SANDBOX_TOKEN
from careers.services import build_services

from .apps import SECRET, deployment_env, store_copy
from .servers import ROOT, free_port

APPLICATIONS = "/v1/recruiting/applications"
LIBMAGIC_LINE = (
    "careers: libmagic is missing: install Debian's libmagic1 (apt-get install libmagic1) "
    "or your system's file/libmagic package"
)
# Loaded by the interpreter before anything else (PYTHONPATH), it hides libmagic from
# ctypes the way a machine without libmagic1 does: python-magic's own loader then fails.
NO_LIBMAGIC = """
import ctypes, ctypes.util
_find = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if name == "magic" else _find(name)
class _NoMagic(ctypes.CDLL):
    def __init__(self, name, *args, **kwargs):
        if name and "magic" in str(name):
            raise OSError(f"{name}: cannot open shared object file: No such file or directory")
        super().__init__(name, *args, **kwargs)
ctypes.CDLL = _NoMagic
"""


@pytest.fixture
def env(sandbox, sandbox_server, tmp_path: Path) -> dict[str, str]:
    """A deployment with Recruiting API credentials, all pointed at the sandbox."""
    return deployment_env(sandbox_server.url, tmp_path)


def probes(sandbox) -> list[dict]:
    return [r for r in sandbox.requests if r["path"] == APPLICATIONS]


# -- the Recruiting API key ------------------------------------------------------------------


def test_good_credentials_are_ok_and_nothing_is_created(runner, sandbox, env):
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "recruiting API: credentials ok, delivery uses API v1: the key is accepted"
        f" (company {SANDBOX_COMPANY_ID})" in (result.output)
    )
    assert "careers check: ok" in result.output
    assert sandbox.received_applications == [] and sandbox.received_documents == {}
    [probe] = probes(sandbox)  # one request of Personio's budget, and only one
    assert probe["method"] == "POST"


@pytest.mark.parametrize(
    "variable, value",
    [("CAREERS_PERSONIO_RECRUITING_TOKEN", "wrong-token"), ("CAREERS_PERSONIO_COMPANY_ID", "99")],
)
def test_a_key_personio_does_not_know_is_rejected(runner, sandbox, env, variable, value):
    result = runner.invoke(["check"], env={**env, variable: value})
    assert result.exit_code == 1, result.output
    assert (
        "recruiting API: FAILED credentials rejected: token and/or company id not recognised"
        in (result.output)
    )
    assert "careers check: FAILED (1 problem)" in result.output
    assert sandbox.received_applications == []
    assert "wrong-token" not in result.output


def test_an_account_without_the_api_is_rejected_with_personios_reason(runner, sandbox, env):
    body = (
        '{"errors": [{"field": "company", "errors": [{"reason": "feature.public-api.disabled"}]}]}'
    )
    sandbox.inject("applications", "status", status=403, body=body)
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 1, result.output
    assert "credentials rejected: the account may not do this: feature.public-api.disabled" in (
        result.output
    )


def test_an_unreachable_recruiting_api_is_a_warning(runner, sandbox, env):
    sandbox.inject("applications", "status", status=503)
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert "recruiting API: WARNING unreachable (http_503 (HTTP 503)" in result.output
    assert "careers check: ok, with 1 warning" in result.output


def test_read_only_mode_says_credentials_are_not_configured(runner, sandbox, env):
    del env["CAREERS_PERSONIO_COMPANY_ID"], env["CAREERS_PERSONIO_RECRUITING_TOKEN"]
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert "recruiting API: credentials not configured: candidates apply on Personio's" in (
        result.output
    )
    assert probes(sandbox) == []


def test_the_probe_waits_for_the_deployments_budget(runner, sandbox, env):
    """The check takes its request from the budget the delivery workers share."""
    result = runner.invoke(["check"], env={**env, "CAREERS_PERSONIO_RATE_LIMIT": "1/60"})
    assert result.exit_code == 0, result.output
    again = runner.invoke(["check"], env={**env, "CAREERS_PERSONIO_RATE_LIMIT": "1/60"})
    assert again.exit_code == 0, again.output
    assert "recruiting API: WARNING credentials not checked: the deployment's Personio budget" in (
        again.output
    )
    assert len(probes(sandbox)) == 1


def test_the_client_probe_classifies_a_dead_api():
    with RecruitingClient(
        f"http://127.0.0.1:{free_port()}", SANDBOX_COMPANY_ID, SANDBOX_TOKEN
    ) as client:
        result = client.check_credentials()
    assert (result.outcome, result.ok) == ("unreachable", False)
    assert result.detail == "connect: ConnectError"


# -- the feed: unreachable with a copy, unreachable without, misconfigured --------------------


def test_an_unreachable_feed_with_a_last_good_copy_is_a_warning(
    runner, sandbox, sandbox_server, env
):
    data_dir = Path(env["CAREERS_DATA_DIR"])
    for language in ("en", "de"):
        store_copy(sandbox_server.url, data_dir, language, age=3 * 3600 + 60)
    sandbox.inject("feed", "status", status=503)
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "feed en: WARNING unreachable (http_status: HTTP 503), serving the last good copy"
        " from 3 hours ago (15 positions)"
    ) in result.output
    assert "careers check: ok, with 2 warnings" in result.output


def test_a_dead_feed_host_with_a_copy_is_a_warning(runner, sandbox_server, env):
    store_copy(sandbox_server.url, Path(env["CAREERS_DATA_DIR"]), "en", age=90)
    env["CAREERS_PERSONIO_FEED_URL"] = f"http://127.0.0.1:{free_port()}/xml"
    result = runner.invoke(["check"], env={**env, "CAREERS_LANGUAGES": "en"})
    assert result.exit_code == 0, result.output
    assert (
        "feed en: WARNING unreachable (transport: ConnectError), serving the last good copy"
        " from 1 minute ago (15 positions)"
    ) in result.output


def test_with_postgresql_a_copy_another_host_stored_counts(runner, sandbox, env, pg_url, tmp_path):
    """A new host with an empty disk serves the copy in the database: no reason to fail."""
    params = conninfo_to_dict(pg_url)
    env["CAREERS_DATABASE_URL"] = (
        f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', 5432)}/{params['dbname']}"
    )
    other_host = build_services(load_settings({**env, "CAREERS_DATA_DIR": str(tmp_path / "a")}))
    try:
        assert other_host.catalogue.refresh_all() == {"en": "ok", "de": "ok"}
    finally:
        other_host.close()
    sandbox.inject("feed", "status", status=502)
    result = runner.invoke(["check"], env=env)  # its own, empty data directory
    assert result.exit_code == 0, result.output
    assert "feed de: WARNING unreachable (http_status: HTTP 502), serving the last good copy" in (
        result.output
    )


def test_an_unreachable_feed_without_a_copy_fails(runner, sandbox, sandbox_server, env):
    store_copy(sandbox_server.url, Path(env["CAREERS_DATA_DIR"]), "en", age=60)
    sandbox.inject("feed", "drop")  # the connection closes without an answer
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 1, result.output
    assert "feed de: FAILED unreachable (transport: RemoteProtocolError), and there is no last" in (
        result.output
    )
    assert "feed en: WARNING unreachable" in result.output  # that one has its copy


def test_a_wrong_feed_address_fails_even_with_a_copy(runner, sandbox, sandbox_server, env):
    """A copy does not excuse a 404: the address changed, and would stay wrong."""
    store_copy(sandbox_server.url, Path(env["CAREERS_DATA_DIR"]), "en", age=60)
    sandbox.inject("feed", "status", status=404, language="en")
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 1, result.output
    assert (
        "feed en: FAILED (unknown_account) Personio knows no account or feed at 127.0.0.1"
        " (HTTP 404): check CAREERS_PERSONIO_FEED_URL"
    ) in result.output
    assert "feed de: 15 positions" in result.output


def test_a_typo_in_the_host_is_misconfigured_but_a_dns_outage_is_not():
    failure = FeedError("transport", "ConnectError")
    url = "https://acme-typo.jobs.personio.de/xml"

    def typo(host: str, port: object) -> object:
        if host == "acme-typo.jobs.personio.de":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [("an address",)]

    def outage(host: str, port: object) -> object:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    def nothing_resolves(host: str, port: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert feed_misconfigured(failure, url, typo) == (
        "the host acme-typo.jobs.personio.de does not exist: check CAREERS_PERSONIO_SUBDOMAIN"
    )
    assert feed_misconfigured(failure, url, outage) is None
    assert feed_misconfigured(failure, url, nothing_resolves) is None  # no network yet
    assert feed_misconfigured(FeedError("http_status", "HTTP 502"), url) is None
    assert feed_misconfigured(FeedError("http_status", "HTTP 429"), url) is None
    assert feed_misconfigured(FeedError("redirect", "HTTP 301"), url)


# -- variables ---------------------------------------------------------------------------------


def test_an_unknown_variable_is_a_warning_with_a_suggestion(runner, sandbox, env):
    env["CAREERS_PERSONIO_SUBDOMIAN"] = "acme"
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "variables: WARNING unknown variable CAREERS_PERSONIO_SUBDOMIAN (did you mean"
        " CAREERS_PERSONIO_SUBDOMAIN?)"
    ) in result.stdout
    assert result.stderr == ""  # listed once, among the checks


def test_every_command_warns_of_unknown_variables_at_start(runner, env):
    result = runner.invoke(["outbox", "list"], env={**env, "CAREERS_FEED_TTTL": "60"})
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "careers: warning: unknown variable CAREERS_FEED_TTTL (did you mean CAREERS_FEED_TTL?)"
    ]


# -- libmagic, in a process that cannot load it -------------------------------------------------


def run_without_libmagic(
    tmp_path: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess:
    hook = tmp_path / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(NO_LIBMAGIC, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    return subprocess.run(
        [sys.executable, "-m", "careers.cli", *args],
        env={**clean, **env, "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)])},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.system
@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["demo", "--port", "0"]])
def test_without_libmagic_a_command_says_so_in_one_line(tmp_path, env, command):
    result = run_without_libmagic(tmp_path, env, *command)
    assert (result.returncode, result.stderr.splitlines()) == (2, [LIBMAGIC_LINE])
    assert "Traceback" not in result.stdout


@pytest.mark.system
def test_without_libmagic_check_reports_a_failed_check(tmp_path, env):
    result = run_without_libmagic(tmp_path, env, "check")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"libmagic: FAILED {LIBMAGIC_LINE.removeprefix('careers: ')}" in result.stdout
    assert "feed en: 15 positions" in result.stdout  # the other checks still ran
    assert result.stderr == ""


def test_with_libmagic_check_names_its_version(runner, env):
    result = runner.invoke(["check"], env=env)
    assert "libmagic: ok (libmagic 5." in result.output


# -- mail, against a real SMTP server on loopback (aiosmtpd) -----------------------------------


def mail_env(env: dict[str, str], smtp_url: str) -> dict[str, str]:
    return {
        **env,
        "CAREERS_SMTP_URL": smtp_url,
        "CAREERS_MAIL_FROM": "Nordlicht Careers <jobs@nordlicht.example>",
        "CAREERS_PUBLIC_URL": "https://jobs.nordlicht.example",
    }


def test_a_mail_server_that_takes_the_login_is_described(runner, env):
    from careers.sandbox.mailcatcher import MailCatcher

    with MailCatcher(credentials=("careers", "s3cret-pass")) as catcher:
        settings = {
            **mail_env(env, catcher.smtp_url),
            "CAREERS_ALERT_EMAIL": "ops@nordlicht.example, oncall@nordlicht.example",
            "CAREERS_ALERT_WEBHOOK_URL": "https://hooks.example.com/services/T0/B0/secret-part",
            "CAREERS_REPORT_EMAIL": "recruiting@nordlicht.example",
        }
        result = runner.invoke(["check"], env=settings)
    assert result.exit_code == 0, result.output
    assert f"mail server: 127.0.0.1:{catcher.port}, no TLS, authenticated" in result.output
    assert "alerts: by mail to 2 addresses, by webhook to hooks.example.com" in result.output
    assert "funnel: counted without cookies; a weekly mail to 1 address" in result.output
    for secret in ("s3cret-pass", "secret-part", "ops@", "oncall@", "recruiting@"):
        assert secret not in result.output


def test_a_mail_server_that_refuses_the_login_fails(runner, env):
    from careers.sandbox.mailcatcher import MailCatcher

    with MailCatcher(credentials=("careers", "right")) as catcher:
        wrong = catcher.smtp_url.replace(":right@", ":pa55-guessed@")
        result = runner.invoke(["check"], env=mail_env(env, wrong))
    assert result.exit_code == 1, result.output
    assert f"mail server: FAILED 127.0.0.1:{catcher.port}: authentication failed (535" in (
        result.output
    )
    assert "pa55-guessed" not in result.output


def test_a_mail_server_that_is_down_is_a_warning(runner, env):
    """Mail waits in the queue for the server; the site serves meanwhile."""
    from careers.sandbox.mailcatcher import MailCatcher

    catcher = MailCatcher().start()
    catcher.stop()  # an outage: the port is known, nothing listens on it
    result = runner.invoke(["check"], env=mail_env(env, catcher.smtp_url))
    assert result.exit_code == 0, result.output
    assert (
        f"mail server: WARNING unreachable (127.0.0.1:{catcher.port}: connection refused): mail"
        " waits in the queue until the server answers"
    ) in result.output


def test_without_a_mail_server_check_says_who_is_not_told(runner, env):
    result = runner.invoke(["check"], env=env)
    assert "mail server: not configured" in result.output
    assert "alerts: none configured: parked applications show only in `careers outbox list`" in (
        result.output
    )
    assert (
        "funnel: counted without cookies; `careers report` shows it (set CAREERS_REPORT_EMAIL"
        " for a weekly mail)"
    ) in result.output


def test_jobs_left_without_structured_data_are_named(runner, sandbox, env):
    del env["CAREERS_DEFAULT_COUNTRY"]
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    for lang in ("en", "de"):
        for job_id in (1843560, 1843801):  # remote only, no country
            assert f"feed {lang}: WARNING position {job_id} (" in result.output
    assert "no applicantLocationRequirements (set CAREERS_DEFAULT_COUNTRY" in result.output


# -- the database ------------------------------------------------------------------------------


def test_the_sqlite_database_is_named_with_its_schema_version(runner, sandbox, env):
    path = Path(env["CAREERS_DATA_DIR"]) / "careers.db"
    first = runner.invoke(["check"], env=env)
    assert first.exit_code == 0, first.output
    assert f"database: SQLite {path}, empty: schema version" in first.output
    again = runner.invoke(["check"], env=env)  # the first check's start created it
    latest = migrate.latest(migrate.steps("sqlite"))
    assert f"database: SQLite {path}, schema version {latest} (current)" in again.output


def test_the_postgresql_database_is_named_without_its_password(runner, sandbox, env, pg_url):
    params = conninfo_to_dict(pg_url)
    host, port = params.get("host", "127.0.0.1"), params.get("port", 5432)
    user = params.get("user", "postgres")
    # trust authentication ignores the password: the URL may carry one that must not show
    env["CAREERS_DATABASE_URL"] = f"postgresql://{user}:pa55-word@{host}:{port}/{params['dbname']}"
    assert runner.invoke(["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    latest = migrate.latest(migrate.steps("postgresql"))
    assert (
        f"database: PostgreSQL {host}:{port}/{params['dbname']}, schema version {latest} (current)"
        in result.output
    )
    assert "pa55-word" not in result.output


def test_an_unreachable_database_fails_like_an_unreachable_feed(runner, sandbox, env):
    port = free_port()
    env["CAREERS_DATABASE_URL"] = f"postgresql://careers@127.0.0.1:{port}/careers"
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 1, result.output  # not 2: the settings are right
    assert f"database: FAILED PostgreSQL 127.0.0.1:{port}/careers cannot be reached (" in (
        result.output
    )
    # The rest is still judged: the feed, and why the key was not asked about.
    assert "feed en: 15 positions" in result.output
    assert "recruiting API: WARNING credentials not checked: the outbox database" in result.output
    assert "configuration error" not in result.output


def test_a_database_url_libpq_cannot_read_is_a_configuration_error(runner, env):
    env["CAREERS_DATABASE_URL"] = "postgresql://careers:s%ZZcret@db.internal:5432/careers"
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 2, result.output
    assert "careers: configuration error: CAREERS_DATABASE_URL: not a URL libpq can read" in (
        result.stderr
    )
    assert "s%ZZcret" not in result.output


@pytest.mark.parametrize(
    ("version", "says"),
    [
        (1, "schema version 1, this release needs {latest}: run `careers db upgrade`"),
        (99, "schema version 99, newer than this release knows ({latest})"),
    ],
)
def test_a_schema_this_release_cannot_use_fails(runner, sandbox, env, version, says):
    data_dir = Path(env["CAREERS_DATA_DIR"])
    data_dir.mkdir(parents=True)
    db = sqlite3.connect(data_dir / "careers.db")
    db.execute(f"PRAGMA user_version = {version}")
    db.close()
    # Behind is migrated by the next start unless that is turned off (test_migrate_on_start).
    result = runner.invoke(["check"], env={**env, "CAREERS_MIGRATE_ON_START": "false"})
    assert result.exit_code == 2, result.output  # serve would refuse it: run a command first
    latest = migrate.latest(migrate.steps("sqlite"))
    assert (
        f"database: FAILED SQLite {data_dir / 'careers.db'}, " + says.format(latest=latest)
        in result.output
    )


# -- what a first installation gets wrong --------------------------------------------------------


def test_a_misspelt_name_is_named_when_it_leaves_a_setting_missing(runner, env):
    del env["CAREERS_SECRET_KEY"]
    env["CAREERS_SECRET_KY"] = SECRET
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "careers: warning: unknown variable CAREERS_SECRET_KY (did you mean CAREERS_SECRET_KEY?)",
        "careers: configuration error: CAREERS_SECRET_KEY: required (e.g. the output of"
        " `openssl rand -hex 32`)",
    ]


def test_a_name_too_far_for_a_typo_still_gets_a_suggestion(runner, sandbox, env):
    env["CAREERS_TOKEN"] = "x"
    result = runner.invoke(["check"], env=env)
    assert (
        "variables: WARNING unknown variable CAREERS_TOKEN (did you mean CAREERS_METRICS_TOKEN"
        " or CAREERS_PERSONIO_RECRUITING_TOKEN?)"
    ) in result.output


def test_a_site_named_after_its_feed_host_is_a_warning(runner, sandbox, env):
    del env["CAREERS_COMPANY_NAME"]
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "company name: WARNING CAREERS_COMPANY_NAME is not set, so pages, mails and JSON-LD"
        " name the company '127.0.0.1' after the feed's host"
    ) in result.output
    named = runner.invoke(["check"], env={**env, "CAREERS_COMPANY_NAME": "Nordlicht Robotics"})
    assert "company name: Nordlicht Robotics" in named.output


def test_applications_without_a_privacy_policy_are_a_configuration_error(runner, env):
    del env["CAREERS_PRIVACY_URL"]
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "careers: configuration error: CAREERS_PRIVACY_URL: required to take applications"
    )


def test_a_comment_after_a_value_is_a_warning(runner, sandbox, env):
    env["CAREERS_COMPANY_NAME"] = "ACME GmbH   # shown in titles"
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "variables: WARNING CAREERS_COMPANY_NAME holds what looks like a comment"
    ) in result.output


def test_open_application_job_is_checked_against_the_feed(runner, sandbox, env):
    del env["CAREERS_DEFAULT_COUNTRY"]
    env["CAREERS_OPEN_APPLICATION_JOB"] = "1843801"
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert "open applications: position 1843801, kept off the board" in result.output
    # Off the board on purpose: no JobPosting warning about it (1843560 still gets one).
    assert "WARNING position 1843801 (" not in result.output
    assert "WARNING position 1843560 (" in result.output
    env["CAREERS_OPEN_APPLICATION_JOB"] = "999999"
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "open applications: WARNING position 999999 (CAREERS_OPEN_APPLICATION_JOB) is not in"
        " the feed" in result.output
    )
