"""Delivery to the sandbox's Recruiting API: exactly once through every kind of failure."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from careers.applications.delivery import Deliverer, budget_window
from careers.db.database import open_database
from careers.personio.recruiting import RecruitingClient
from careers.ratelimit import RateLimit
from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN

from . import filegen
from .applying import JOB, Clock, apply_env, open_form, run_until_idle, send, submit, valid_fields
from .apps import SECRET


@pytest.fixture
def app(make_app, sandbox_server, tmp_path):
    return make_app(**apply_env(sandbox_server.url, tmp_path))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def deliverer_for(app, sandbox_server, clock):
    """A Deliverer on the app's database with a test clock and its own client."""
    made = []

    def make(url: str | None = None, timeout: float = 10.0) -> Deliverer:
        settings = app.extensions["careers"].settings
        database = open_database(settings.database_url, clock=clock)
        client = RecruitingClient(
            url or sandbox_server.url,
            SANDBOX_COMPANY_ID,
            SANDBOX_TOKEN,
            timeout=httpx.Timeout(timeout),
        )
        deliverer = Deliverer(database.outbox, client, database.limiter(1000, 60), clock=clock)
        made.append((deliverer, database, client))
        return deliverer

    yield make
    for _, database, client in made:
        client.close()
        database.close()


def row(app) -> sqlite3.Row:
    db = sqlite3.connect(app.extensions["careers"].settings.database_url.removeprefix("sqlite:///"))
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM applications").fetchone()
    finally:
        db.close()


def test_delivery_sends_exactly_personios_body_then_forgets_the_candidate(
    app, sandbox, tmp_path, deliverer_for, clock
):
    receipt = submit(app, tmp_path)
    stored_files = list(app.extensions["careers"].spool.stored.iterdir())
    hashes = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in stored_files)
    assert deliverer_for().deliver_next() == "delivered"

    [received] = sandbox.received_applications
    body = received["body"]
    assert body["job_position_id"] == JOB and isinstance(body["job_position_id"], int)
    assert (body["first_name"], body["last_name"], body["email"]) == (
        "Jürgen",
        "Müller",
        "juergen.mueller@example.com",
    )
    assert body["message"] == "Hallo!\nIch freue mich auf eure Antwort."
    assert body["attributes"] == [
        {"id": "phone", "value": "+49 40 1234567"},
        {"id": "birthday", "value": "1990-04-30"},
        {"id": "gender", "value": "male"},
        {"id": "custom_attribute_1002", "value": "friend"},
    ]
    assert sorted((f["category"], f["original_filename"]) for f in body["files"]) == [
        ("cover-letter", "Anschreiben.docx"),
        ("cv", "Lebenslauf Jürgen.pdf"),
    ]
    assert "application_date" not in body and "phone" not in body
    assert sorted(d.sha256 for d in sandbox.received_documents.values()) == hashes

    # GDPR: once Personio has it, only the receipt remains here.
    assert list(app.extensions["careers"].spool.stored.iterdir()) == []
    record = row(app)
    assert record["status"] == "delivered" and record["payload"] is None
    page = app.test_client().get(receipt).get_data(as_text=True)
    assert "has been forwarded" in page


def test_transient_failures_are_retried_until_delivered_once(
    app, sandbox, tmp_path, deliverer_for, clock
):
    submit(app, tmp_path)
    sandbox.inject(target="documents", kind="status", status=503, times=2)
    sandbox.inject(target="applications", kind="status", status=500, times=1)
    outcomes = run_until_idle(deliverer_for(), clock)
    assert outcomes == ["retry", "retry", "retry", "delivered"]
    assert len(sandbox.received_applications) == 1
    assert len(sandbox.received_documents) == 2  # each document stored once


def test_backoff_grows_and_honours_retry_after(app, sandbox, tmp_path, deliverer_for, clock):
    submit(app, tmp_path)
    deliverer = deliverer_for()
    sandbox.inject(target="recruiting", kind="status", status=429, retry_after=240, times=1)
    start = clock.now
    assert deliverer.deliver_next() == "retry"
    first = row(app)
    assert first["next_attempt_at"] - start >= 240
    assert first["last_reason"] == "rate_limited"
    assert deliverer.deliver_next() is None  # not due yet
    clock.advance(241)
    sandbox.inject(target="recruiting", kind="status", status=503, times=1)
    assert deliverer.deliver_next() == "retry"
    second = row(app)
    assert 7.5 <= second["next_attempt_at"] - clock.now <= 30  # 15 s * 2^(2-1), jittered


def test_a_lost_answer_comes_back_as_duplicate_and_counts_as_delivered(
    app, sandbox, tmp_path, deliverer_for, clock
):
    submit(app, tmp_path)
    sandbox.inject(target="applications", kind="drop_after", times=1)
    outcomes = run_until_idle(deliverer_for(), clock)
    assert outcomes == ["retry", "delivered_duplicate"]
    assert len(sandbox.received_applications) == 1
    assert row(app)["status"] == "delivered"


def test_timeouts_and_an_unreachable_personio_are_retried(
    app, sandbox, tmp_path, deliverer_for, clock, sandbox_server
):
    submit(app, tmp_path)
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert deliverer_for(url=closed).deliver_next() == "retry"
    assert row(app)["last_reason"] == "connect"
    clock.advance(3700)
    sandbox.inject(target="applications", kind="hang", delay=3, times=1)
    assert deliverer_for(timeout=0.5).deliver_next() == "retry"
    sandbox.release()
    assert run_until_idle(deliverer_for(), clock)[-1] in {"delivered", "delivered_duplicate"}
    assert len(sandbox.received_applications) == 1


def test_documents_are_never_uploaded_twice(app, sandbox, tmp_path, deliverer_for, clock):
    submit(app, tmp_path)
    sandbox.inject(target="applications", kind="status", status=502, times=3)
    run_until_idle(deliverer_for(), clock)
    uploads = [r for r in sandbox.requests if r["path"].endswith("/documents")]
    assert len(uploads) == 2 and len(sandbox.received_documents) == 2
    assert len(sandbox.received_applications) == 1


def test_permanent_errors_park_with_personios_reason_until_an_operator_retries(
    app, sandbox, tmp_path, deliverer_for, clock, monkeypatch, runner
):
    receipt = submit(app, tmp_path)
    sandbox.set_attributes({})  # Personio no longer knows custom_attribute_1002
    assert deliverer_for().deliver_next() == "parked"
    record = row(app)
    assert (
        record["status"] == "parked"
        and record["last_reason"] == "errors.attribute-validation.unknown"
    )
    assert record["payload"] is not None  # kept for the operator
    page = app.test_client().get(receipt).get_data(as_text=True)
    assert "needs a closer look" in page

    settings = app.extensions["careers"].settings
    env = {
        "CAREERS_PERSONIO_FEED_URL": settings.personio_feed_url,
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(settings.data_dir),
    }
    listing = runner.invoke(["outbox", "list", "--status", "parked"], env=env)
    assert listing.exit_code == 0 and "errors.attribute-validation.unknown" in listing.output
    assert "Müller" not in listing.output and "juergen" not in listing.output
    shown = runner.invoke(["outbox", "show", str(record["id"])], env=env)
    assert "parked" in shown.output and "cv: Lebenslauf Jürgen.pdf" in shown.output

    from careers.sandbox.recruiting import DEFAULT_ATTRIBUTES

    sandbox.set_attributes(DEFAULT_ATTRIBUTES)
    retried = runner.invoke(["outbox", "retry", str(record["id"])], env=env)
    assert retried.exit_code == 0, retried.output
    assert deliverer_for().deliver_next() == "delivered"
    assert len(sandbox.received_applications) == 1


def test_a_real_duplicate_on_the_first_try_is_told_as_already_applied(
    app, sandbox, tmp_path, deliverer_for, clock, sandbox_server
):
    # The candidate really applied twice: Personio has them, nothing failed.
    with RecruitingClient(sandbox_server.url, SANDBOX_COMPANY_ID, SANDBOX_TOKEN) as client:
        client.create_application(
            {
                "first_name": "J",
                "last_name": "M",
                "email": "juergen.mueller@example.com",
                "job_position_id": JOB,
            }
        )
    receipt = submit(app, tmp_path)
    assert deliverer_for().deliver_next() == "already_applied"
    record = row(app)
    assert record["status"] == "already_applied" and record["payload"] is None
    assert list(app.extensions["careers"].spool.stored.iterdir()) == []
    page = app.test_client().get(receipt).get_data(as_text=True)
    assert "You have already applied for this position" in page
    assert "needs a closer look" not in page


class InstantStop(threading.Event):
    """A stop event that is never set, whose waits pass at once on the test clock."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock, self.waited = clock, 0.0

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.clock.advance(timeout)
        self.waited += timeout
        return False


def test_requests_are_paced_under_the_shared_rate_limit(app, tmp_path, start_sandbox):
    for i in range(3):
        submit(app, tmp_path, email=f"c{i}@example.com")  # 3 x (2 uploads + 1 create) = 9 requests
    # The deliverer, its outbox and Personio's rate window all run on one test clock: the
    # pacing waits take no real time, and Personio sees exactly the moments we paced for.
    clock = Clock()
    personio = start_sandbox(rate_limit=(4, 1.0), clock=clock)
    stop = InstantStop(clock)
    settings = app.extensions["careers"].settings
    database = open_database(settings.database_url, clock=clock)
    client = RecruitingClient(personio.url, SANDBOX_COMPANY_ID, SANDBOX_TOKEN)
    try:
        budget = database.limiter(4, budget_window(RateLimit(4, 1)))
        deliverer = Deliverer(database.outbox, client, budget, clock=clock, stop=stop)
        outcomes = [deliverer.deliver_next() for _ in range(3)]
    finally:
        client.close()
        database.close()
    assert outcomes == ["delivered"] * 3  # not one 429 from the sandbox
    assert len(personio.sandbox.received_applications) == 3
    # 9 requests at 4 per window (1 s plus our 0.5 s margin) need two waits of a window each.
    assert stop.waited == pytest.approx(3.0, abs=0.01)


def _worker(app, sandbox_url: str, tmp_path: Path) -> subprocess.Popen:
    settings = app.extensions["careers"].settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    env.update(
        CAREERS_PERSONIO_FEED_URL=settings.personio_feed_url,
        CAREERS_PERSONIO_API_URL=sandbox_url,
        CAREERS_PERSONIO_COMPANY_ID=SANDBOX_COMPANY_ID,
        CAREERS_PERSONIO_RECRUITING_TOKEN=SANDBOX_TOKEN,
        CAREERS_SECRET_KEY=SECRET,
        CAREERS_DATA_DIR=str(settings.data_dir),
        CAREERS_PRIVACY_URL=settings.privacy_url,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "careers.cli", "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.mark.system
def test_a_worker_killed_mid_delivery_resumes_without_a_duplicate(
    app, sandbox, tmp_path, sandbox_server
):
    submit(app, tmp_path)
    # Personio takes its time with the create request; the worker dies while it waits.
    sandbox.inject(target="applications", kind="slow", delay=1.5, times=1)
    worker = _worker(app, sandbox_server.url, tmp_path)
    try:
        _wait(lambda: any(r["path"] == "/v1/recruiting/applications" for r in sandbox.requests))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        _wait(lambda: len(sandbox.received_applications) == 1)  # Personio got it anyway
        assert row(app)["status"] == "pending"  # ...but we never heard the answer
        worker = _worker(app, sandbox_server.url, tmp_path)
        _wait(lambda: row(app)["status"] == "delivered")
    finally:
        worker.kill()
        worker.wait(timeout=10)
    assert len(sandbox.received_applications) == 1
    assert len(sandbox.received_documents) == 2
    assert row(app)["payload"] is None


def test_an_operator_retry_never_takes_a_lease_away(app, sandbox, tmp_path, deliverer_for, clock):
    submit(app, tmp_path)
    worker = deliverer_for()
    job = worker.outbox.claim(worker.owner, 300)
    assert job is not None
    assert not worker.outbox.requeue(job.id)  # a worker holds it
    assert worker.outbox.claim("other-host:1:x", 300) is None
    clock.advance(301)
    assert worker.outbox.requeue(job.id)  # the lease ran out: an operator may push it


def test_a_worker_that_lost_its_lease_stops_touching_the_application(
    app, sandbox, tmp_path, deliverer_for, clock
):
    submit(app, tmp_path)
    slow, fast = deliverer_for(), deliverer_for()
    job = slow.outbox.claim(slow.owner, 300)
    clock.advance(301)  # slow stalls past its lease; fast takes over
    assert fast.deliver_next() == "delivered"
    assert slow._deliver(job) == "lease_lost"
    assert len(sandbox.received_applications) == 1
    assert len(sandbox.received_documents) == 2


def test_outbox_purge_deletes_parked_applications_and_their_files(
    app, sandbox, tmp_path, deliverer_for, runner
):
    submit(app, tmp_path)
    sandbox.set_attributes({})
    assert deliverer_for().deliver_next() == "parked"
    spool = app.extensions["careers"].spool
    assert len(list(spool.stored.iterdir())) == 2
    settings = app.extensions["careers"].settings
    env = {
        "CAREERS_PERSONIO_FEED_URL": settings.personio_feed_url,
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(settings.data_dir),
    }
    kept = runner.invoke(["outbox", "purge"], env=env)  # parked today: kept
    assert kept.exit_code == 0 and row(app) is not None
    db = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
    with db:  # make it a month old
        db.execute("UPDATE applications SET updated_at = updated_at - 31 * 86400")
    db.close()
    purged = runner.invoke(["outbox", "purge"], env=env)
    assert purged.exit_code == 0 and "2 documents deleted" in purged.output
    assert row(app) is None and list(spool.stored.iterdir()) == []


def test_jpeg_and_tiff_reach_personio_under_the_extensions_it_lists(
    app, sandbox, tmp_path, deliverer_for
):
    """Personio's upload endpoint lists jpg and tif, not jpeg and tiff (docs/personio.md
    §2.2), and the sandbox enforces that list: the same bytes go as `.jpg` / `.tif`."""
    client = app.test_client()
    folder = tmp_path / "images"
    folder.mkdir()
    photo, scan = filegen.make_jpeg(folder / "photo.jpeg"), filegen.make_tiff(folder / "s.tiff")
    files = [
        ("cv", filegen.make_pdf(folder / "cv.pdf"), "Lebenslauf.pdf"),
        ("cover-letter", photo, "Zeugnis Jürgen.v2.JPEG"),  # the sample form's inputs
        ("cover-letter", scan, "Scan.tiff"),
    ]
    response = send(client, valid_fields(open_form(client)), files)
    assert response.status_code == 303
    assert deliverer_for().deliver_next() == "delivered"

    documents = {d.filename: d for d in sandbox.received_documents.values()}
    assert sorted(documents) == ["Lebenslauf.pdf", "Scan.tif", "Zeugnis Jürgen.v2.jpg"]
    assert (
        documents["Zeugnis Jürgen.v2.jpg"].sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    )
    assert documents["Scan.tif"].sha256 == hashlib.sha256(scan.read_bytes()).hexdigest()
    [received] = sandbox.received_applications
    assert sorted(f["original_filename"] for f in received["body"]["files"]) == sorted(documents)


@pytest.mark.parametrize("name", ["photo.jpeg", "scan.TIFF"])
def test_the_sandbox_refuses_extensions_personio_does_not_list(sandbox, sandbox_server, name):
    response = httpx.post(
        f"{sandbox_server.url}/v1/recruiting/applications/documents",
        headers={"Authorization": f"Bearer {SANDBOX_TOKEN}", "X-Company-ID": SANDBOX_COMPANY_ID},
        files={"file": (name, b"\xff\xd8\xff\xe0 not much of an image")},
    )
    assert response.status_code == 422
    assert sandbox.received_documents == {}
