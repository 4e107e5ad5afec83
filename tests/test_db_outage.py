"""PostgreSQL going away while careers runs: pages keep serving, the form answers a readable
503 and stores nothing half, /readyz says why, delivery pauses and resumes by itself.

The outage is real: the app reaches the database through a TCP relay on loopback that the
test cuts (every connection dropped, new ones refused) and restores.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from psycopg.conninfo import conninfo_to_dict

from careers import create_app

from . import filegen
from .applying import JOB, apply_env, open_form, send, valid_fields
from .apps import SECRET
from .servers import eventually
from .tcpproxy import Relay

pytestmark = pytest.mark.system


@pytest.fixture
def relay(pg_url) -> Iterator[Relay]:
    params = conninfo_to_dict(pg_url)
    relay = Relay(params.get("host", "127.0.0.1"), int(params.get("port", 5432)))
    yield relay
    relay.close()


@pytest.fixture
def app(relay, pg_url, sandbox, sandbox_server, tmp_path):
    params = conninfo_to_dict(pg_url)
    env = {f"CAREERS_{k.upper()}": v for k, v in apply_env(sandbox_server.url, tmp_path).items()}
    env |= {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(tmp_path / "data"),
        "CAREERS_DATABASE_URL": (
            f"postgresql://{params.get('user', 'postgres')}@127.0.0.1:{relay.port}"
            f"/{params['dbname']}?connect_timeout=2"
        ),
    }
    app = create_app(env)
    yield app
    app.extensions["careers"].close()


def test_an_outage_pauses_applications_and_delivery_and_both_resume(app, relay, sandbox, tmp_path):
    client = app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    before = send(
        client, valid_fields(open_form(client), email="before@example.com"), [("cv", cv, "cv.pdf")]
    )
    assert before.status_code == 303  # accepted while the database was there

    relay.cut()
    workers = app.extensions["careers"].start_workers()  # starts during the outage
    try:
        assert client.get("/en/jobs").status_code == 200  # pages never needed the database
        assert client.get(f"/en/jobs/{JOB}", follow_redirects=True).status_code == 200
        token = open_form(client)
        refused = send(
            client, valid_fields(token, email="during@example.com"), [("cv", cv, "cv.pdf")]
        )
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "30"
        assert "Nothing you sent was stored" in refused.get_data(as_text=True)
        widget = client.post(f"/embed/en/jobs/{JOB}/apply", data={"form_token": token})
        assert widget.status_code == 503  # the widget's form too, not a crash page
        assert widget.headers["Connection"] == "close"  # its body was never read
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert any("database" in reason for reason in ready.get_json()["reasons"])
        assert sandbox.received_applications == []  # delivery is paused, not failing

        relay.restore()
        # Delivery resumes by itself (its loop retries every few seconds) ...
        assert eventually(lambda: len(sandbox.received_applications) == 1, 30)
        assert sandbox.received_applications[0]["body"]["email"] == "before@example.com"
        # ... and so does the form, with the same token the candidate already had.
        assert eventually(lambda: client.get("/readyz").status_code == 200, 15)
        again = send(
            client, valid_fields(token, email="during@example.com"), [("cv", cv, "cv.pdf")]
        )
        assert again.status_code == 303
        statuses = sorted(s.status for s in app.extensions["careers"].outbox.summaries())
        assert statuses in (["delivered", "pending"], ["delivered", "delivered"])
    finally:
        workers.set()


def test_an_unreachable_database_at_start_is_one_line_naming_the_variable(runner, tmp_path):
    env = {
        "CAREERS_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/careers?connect_timeout=2",
        "CAREERS_DATA_DIR": str(tmp_path),
    }
    result = runner.invoke(["outbox", "list"], env=env)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("careers: configuration error: CAREERS_DATABASE_URL: cannot reach")


def test_the_form_accepts_again_within_seconds_of_the_database_coming_back(app, relay, tmp_path):
    """Issue 18: after a 10 s cut one host kept refusing applications for 16 s, its pool
    waiting out an exponential backoff. Candidates keep trying all through the cut, as they
    would; once the database is back the form must accept again within 3 s, and every
    application answered 303 must be in the outbox."""
    client = app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    sent = itertools.count()

    def apply() -> int:
        token = open_form(client)
        email = f"candidate{next(sent)}@example.com"
        return send(client, valid_fields(token, email=email), [("cv", cv, "cv.pdf")]).status_code

    answers = [apply()]
    assert answers == [303]
    relay.cut()
    cut_until = time.monotonic() + 10  # the outage's length, not a wait for something
    while time.monotonic() < cut_until:
        answers.append(apply())
    assert set(answers[1:]) == {503}
    relay.restore()
    restored = time.monotonic()
    while (status := apply()) != 303 and time.monotonic() - restored < 10:
        answers.append(status)
    answers.append(status)
    took = time.monotonic() - restored
    assert status == 303
    assert took < 3, f"the form accepted again only {took:.1f} s after the database came back"
    outbox = app.extensions["careers"].outbox
    assert len(outbox.summaries()) == answers.count(303)  # nothing accepted was lost
