"""Schema migrations: a database made by the first release carries its pending application
forward through `careers db upgrade` (start-up does the same by default:
test_migrate_on_start.py); with migrating at start off, a schema behind is refused in one
line, and a schema ahead is refused always."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from careers import create_app
from careers.config import ConfigError

from .applying import deliver_all
from .apps import SECRET
from .upgrading import env_for, first_release_database


def test_a_first_release_database_is_carried_forward_with_its_pending_application(
    sandbox, sandbox_server, tmp_path, runner
):
    data_dir = tmp_path / "data"
    cv = first_release_database(data_dir)
    env = env_for(sandbox_server, tmp_path, data_dir) | {"CAREERS_MIGRATE_ON_START": "false"}

    with pytest.raises(ConfigError) as refused:
        create_app(env)
    assert refused.value.problems == [
        "CAREERS_DATABASE_URL: the outbox schema is at version 1, this release needs 3:"
        " run `careers db upgrade`"
    ]
    check = runner.invoke(["check"], env=env)
    assert check.exit_code == 2 and "careers db upgrade" in check.output

    upgraded = runner.invoke(["db", "upgrade"], env={"CAREERS_DATA_DIR": str(data_dir)})
    assert upgraded.exit_code == 0, upgraded.output
    assert "applied 2: used form nonces" in upgraded.output
    assert "applied 3: mail queue" in upgraded.output
    again = runner.invoke(["db", "upgrade"], env={"CAREERS_DATA_DIR": str(data_dir)})
    assert "schema at version 3 (nothing to do)" in again.output

    app = create_app(env)
    try:
        [pending] = app.extensions["careers"].outbox.summaries()
        assert pending.status == "pending" and pending.public_id == "legacy-receipt-0001"
        assert deliver_all(app) == ["delivered"]
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
    assert result.exit_code == 0 and "schema at version 3 (nothing to do)" in result.output


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
