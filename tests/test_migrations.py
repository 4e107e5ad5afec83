"""Schema migrations: a database of every earlier schema version (the first release's
included) carries its pending application forward through `careers db upgrade` and delivers
it (start-up does the same by default: test_migrate_on_start.py); with migrating at start
off, a schema behind is refused in one line, and a schema ahead is refused always."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime

import pytest

from careers import create_app
from careers.applications.model import Application, Attachment
from careers.config import ConfigError
from careers.db import database, migrate
from careers.db.database import open_database
from careers.jobs.funnel import Step
from careers.mail.alert_links import address_hash
from careers.mail.store import Filters
from careers.personio.vocabulary import DocumentCategory

from . import filegen
from .applying import JOB, deliver_all
from .apps import SECRET
from .pg import as_url
from .upgrading import (
    env_for,
    first_release_database,
    write_as_before_funnel,
    write_chunks_as_before_pieces,
)

SQLITE_LATEST = migrate.latest(migrate.steps("sqlite"))


def test_a_first_release_database_is_carried_forward_with_its_pending_application(
    sandbox, sandbox_server, tmp_path, runner
):
    data_dir = tmp_path / "data"
    cv = first_release_database(data_dir)
    env = env_for(sandbox_server, tmp_path, data_dir) | {"CAREERS_MIGRATE_ON_START": "false"}

    with pytest.raises(ConfigError) as refused:
        create_app(env)
    assert refused.value.problems == [
        f"CAREERS_DATABASE_URL: the outbox schema is at version 1, this release needs {SQLITE_LATEST}:"
        " run `careers db upgrade`"
    ]
    check = runner.invoke(["check"], env=env)
    assert check.exit_code == 2 and "careers db upgrade" in check.output

    upgraded = runner.invoke(["db", "upgrade"], env={"CAREERS_DATA_DIR": str(data_dir)})
    assert upgraded.exit_code == 0, upgraded.output
    assert "applied 2: used form nonces" in upgraded.output
    assert "applied 3: mail queue" in upgraded.output
    assert "applied 4: funnel counters" in upgraded.output
    assert "applied 6: kept files" in upgraded.output
    again = runner.invoke(["db", "upgrade"], env={"CAREERS_DATA_DIR": str(data_dir)})
    assert f"schema at version {SQLITE_LATEST} (nothing to do)" in again.output

    app = create_app(env)
    try:
        [pending] = app.extensions["careers"].outbox.summaries()
        assert pending.status == "pending" and pending.public_id == "legacy-receipt-0001"
        assert deliver_all(app) == ["delivered"]
        # Received before the funnel existed: its delivery is counted, under no channel.
        today = datetime.now(UTC).date()
        [delivered] = app.extensions["careers"].storage.database.funnel.totals(today, today)
        assert (delivered.position_id, delivered.channel, delivered.step, delivered.n) == (
            pending.position_id,
            "",
            Step.DELIVERED,
            1,
        )
    finally:
        app.extensions["careers"].close()
    [received] = sandbox.received_applications
    body = received["body"] if "body" in received else received
    assert body["first_name"] == "Grace" and body["email"] == "grace.hopper@example.com"
    assert {"id": "phone", "value": "+49 30 1234567"} in body["attributes"]
    [document] = sandbox.received_documents.values()
    assert document.sha256 == hashlib.sha256(cv).hexdigest()


def test_a_schema_newer_than_this_release_is_refused(sandbox, sandbox_server, tmp_path):
    data_dir = tmp_path / "data"
    env = env_for(sandbox_server, tmp_path, data_dir)
    create_app(env).extensions["careers"].close()
    db = sqlite3.connect(data_dir / "careers.db")
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(ConfigError) as refused:
        create_app(env)
    [problem] = refused.value.problems
    assert problem.startswith("CAREERS_DATABASE_URL: the outbox schema is at version 99, newer")


def test_a_new_database_starts_at_the_latest_version(sandbox, sandbox_server, tmp_path, runner):
    data_dir = tmp_path / "data"
    create_app(env_for(sandbox_server, tmp_path, data_dir)).extensions["careers"].close()
    result = runner.invoke(["db", "upgrade"], env={"CAREERS_DATA_DIR": str(data_dir)})
    assert (
        result.exit_code == 0
        and f"schema at version {SQLITE_LATEST} (nothing to do)" in result.output
    )


@pytest.mark.parametrize("args", [["db", "upgrade"], ["outbox", "list"], ["worker"]])
def test_a_database_url_libpq_cannot_read_never_shows_its_password(runner, tmp_path, args):
    """libpq quotes the token it cannot read (`invalid percent-encoded token: "<password>"`);
    raised at start-up it reached the journal in a traceback. Refused as a setting instead."""
    env = {
        "CAREERS_PERSONIO_SUBDOMAIN": "acme",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(tmp_path / "data"),
        "CAREERS_DATABASE_URL": "postgresql://careers:Sup3r%zzSecret@127.0.0.1:1/careers",
    }
    result = runner.invoke(args, env=env)
    assert result.exit_code == 2, result.output
    assert "CAREERS_DATABASE_URL: not a URL libpq can read" in result.output
    assert "Sup3r" not in result.output
    assert isinstance(result.exception, SystemExit)  # a refusal, not a traceback


# Every schema version a release shipped below this release's, per dialect (the first
# release's unnumbered SQLite schema is the test above).
EARLIER = [("sqlite", 1), ("sqlite", 2), ("sqlite", 3), ("postgresql", 1), ("postgresql", 3)]


@pytest.mark.parametrize(("dialect", "version"), EARLIER)
def test_a_database_of_every_earlier_version_upgrades_and_delivers(
    dialect, version, request, sandbox, sandbox_server, tmp_path, runner, monkeypatch
):
    data_dir = tmp_path / "data"
    env = env_for(sandbox_server, tmp_path, data_dir) | {"CAREERS_MIGRATE_ON_START": "false"}
    url = f"sqlite:///{data_dir / 'careers.db'}"
    if dialect == "postgresql":
        url = as_url(request.getfixturevalue("fresh_pg_url"))
        env["CAREERS_DATABASE_URL"] = url
    earlier = tuple(step for step in migrate.steps(dialect) if step.version <= version)
    assert earlier[-1].version == version
    stored = data_dir / "spool" / "stored"
    stored.mkdir(parents=True)
    cv = filegen.make_pdf(stored / "7c1e0b", text="Katherine Johnson, orbits")
    data = cv.read_bytes()  # the file goes once delivered
    made = open_database(url, steps=earlier)  # as the release of that version made it
    if version < 4:
        write_as_before_funnel(monkeypatch, dialect)
    if dialect == "postgresql" and version < 9:
        write_chunks_as_before_pieces(monkeypatch)
    try:
        made.outbox.add(
            Application(
                position_id=JOB,
                language="en",
                first_name="Katherine",
                last_name="Johnson",
                email="katherine.johnson@example.com",
                documents=(Attachment(DocumentCategory.CV, "Johnson CV.pdf", str(cv), len(data)),),
            )
        )
    finally:
        made.close()
        monkeypatch.undo()
    latest = migrate.latest(migrate.steps(dialect))
    assert database.schema_version(url) == (version, latest)
    with pytest.raises(ConfigError, match=f"version {version}, this release needs {latest}"):
        create_app(env)

    upgraded = runner.invoke(["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    applied = [step for step in migrate.steps(dialect) if step.version > version]
    assert upgraded.output.splitlines() == [
        *(f"applied {step.version}: {step.description}" for step in applied),
        f"schema at version {latest}",
    ]

    app = create_app(env)
    services = app.extensions["careers"]
    try:
        [pending] = services.outbox.summaries()
        assert pending.document_names == ("cv: Johnson CV.pdf",)
        assert deliver_all(app) == ["delivered"]
        # The funnel's table works, and the application from before it counts as delivered.
        today = datetime.now(UTC).date()
        counts = services.storage.database.funnel.totals(today, today)
        assert [(c.position_id, c.channel, c.step, c.n) for c in counts] == [
            (JOB, "", Step.DELIVERED, 1)
        ]
        # The tables the upgrade added work: a job alert is asked for and read back.
        address = "katherine.johnson@example.com"
        services.mail.request_subscription(
            address,
            address_hash(SECRET, address),
            Filters(),
            "en",
            resend_after=3600,
            per_address_per_day=3,
        )
        [subscription] = [s for s in map(services.mail.subscription, range(1, 5)) if s]
        assert subscription.address == address
    finally:
        services.close()
    [received] = sandbox.received_applications
    body = received["body"] if "body" in received else received
    assert body["email"] == "katherine.johnson@example.com"
    [document] = sandbox.received_documents.values()
    assert document.sha256 == hashlib.sha256(data).hexdigest()
