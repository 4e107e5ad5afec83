"""A 401/403 from Personio pauses delivery instead of parking the backlog (docs/operations.md):
/readyz says why, the operators hear it once, and delivery resumes by itself once the
credentials work again — each application delivered exactly once."""

from __future__ import annotations

import httpx
import pytest

from careers.applications.delivery import (
    CREDENTIALS_PAUSE,
    CREDENTIALS_PAUSE_MAX,
    Deliverer,
    DeliveryHealth,
)
from careers.personio.recruiting import RecruitingClient
from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN

from . import filegen
from .applying import open_form, run_until_idle, send, valid_fields
from .mailing import HOUR, OPS, Harness

EMAILS = ("ada@example.org", "grace@example.org", "edsger@example.org")
REJECTED = "Personio rejected the API credentials"


def _deliverer(harness: Harness, sandbox_url: str, health: DeliveryHealth) -> Deliverer:
    """A delivery worker as `careers serve` makes one, on the test clock."""
    client = RecruitingClient(sandbox_url, SANDBOX_COMPANY_ID, SANDBOX_TOKEN)
    return Deliverer(
        harness.outbox,
        client,
        harness.database.limiter(1000, 60),
        clock=harness.clock,
        on_paused=harness.worker.credentials_rejected,
        health=health,
    )


def _ready(app) -> tuple[int, list[str]]:
    answer = app.test_client().get("/readyz")
    return answer.status_code, answer.get_json().get("reasons", [])


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_pause_delivery_and_it_resumes_by_itself(
    harness, mail_app, sandbox, sandbox_server, catcher, clock, tmp_path, status
):
    web = mail_app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    for email in EMAILS:
        form = valid_fields(open_form(web), email=email)
        assert send(web, form, [("cv", cv, "cv.pdf")]).status_code == 303
    assert _ready(mail_app)[0] == 200

    # The key was rotated at Personio: every recruiting call answers 401 (or 403).
    sandbox.inject(target="recruiting", kind="status", status=status)
    health = mail_app.extensions["careers"].delivery_health
    here, there = _deliverer(harness, sandbox_server.url, health), None
    try:
        assert here.deliver_next() == "paused"
        asked = len(sandbox.requests)
        assert here.deliver_next() is None  # paused: no request, nothing claimed
        assert len(sandbox.requests) == asked
        code, reasons = _ready(mail_app)
        assert code == 503 and any(REJECTED in r for r in reasons), reasons
        # A deliverer of another process claims the application put back, and pauses too.
        there = _deliverer(harness, sandbox_server.url, DeliveryHealth())
        assert there.deliver_next() == "paused"
        assert there.health.problem and REJECTED in there.health.problem

        counts = harness.outbox.counts()
        assert counts.get("parked", 0) == 0 and counts.get("pending") == len(EMAILS)
        assert harness.drain() == ["sent"]  # one alert, though two deliverers paused
        [alert] = catcher.messages()
        assert alert.rcpt_to == (OPS,) and REJECTED in alert.text
        assert "ada@" not in alert.message.as_string()

        # Still refused at the probe after the pause: the pause grows, nothing is parked.
        clock.advance(CREDENTIALS_PAUSE + 1)
        assert here.deliver_next() == "paused"
        clock.advance(CREDENTIALS_PAUSE + 1)
        assert here.deliver_next() is None  # now paused for twice as long
        assert harness.outbox.counts().get("parked", 0) == 0

        # The operator fixes the key; the next probe gets through and the backlog follows.
        sandbox.clear_faults()
        clock.advance(CREDENTIALS_PAUSE_MAX)
        outcomes = run_until_idle(here, clock)
        assert outcomes == ["delivered"] * len(EMAILS)
        assert _ready(mail_app)[0] == 200
        assert there.deliver_next() is None  # nothing left for the other one
        received = sorted(a["body"]["email"] for a in sandbox.received_applications)
        assert received == sorted(EMAILS)  # each exactly once
        assert harness.later(HOUR) == []  # no second alert, no backlog alert
        assert len(catcher.messages()) == 1
    finally:
        here.client.close()
        if there is not None:
            there.client.close()


def test_the_sandbox_really_answers_the_injected_status(sandbox, sandbox_server):
    """The fault is on the wire: a real 401 from a real server, as Personio sends it."""
    sandbox.inject(target="recruiting", kind="status", status=401, times=1)
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}", "X-Company-ID": SANDBOX_COMPANY_ID}
    answer = httpx.post(f"{sandbox_server.url}/v1/recruiting/applications", headers=headers)
    assert answer.status_code == 401


def test_a_pause_ends_when_another_process_delivered_the_backlog(
    harness, mail_app, sandbox, sandbox_server, clock, tmp_path
):
    """Two processes pause; the first to probe delivers everything. The other one finds
    nothing left at its probe: its /readyz must stop saying "paused" (else a load balancer
    keeps that process out until an application happens to come and go through it)."""
    web = mail_app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    form = valid_fields(open_form(web), email=EMAILS[0])
    assert send(web, form, [("cv", cv, "cv.pdf")]).status_code == 303
    sandbox.inject(target="recruiting", kind="status", status=401)
    here = _deliverer(harness, sandbox_server.url, DeliveryHealth())
    there = _deliverer(harness, sandbox_server.url, mail_app.extensions["careers"].delivery_health)
    try:
        assert here.deliver_next() == "paused"
        assert there.deliver_next() == "paused"
        assert _ready(mail_app)[0] == 503
        sandbox.clear_faults()
        clock.advance(CREDENTIALS_PAUSE + 1)
        assert here.deliver_next() == "delivered"
        assert here.health.problem is None
        assert there.deliver_next() is None  # its probe: nothing is waiting any more
        assert there.health.problem is None
        assert _ready(mail_app)[0] == 200
    finally:
        here.client.close()
        there.client.close()


def test_the_pause_keeps_no_free_text_from_personio(harness, mail_app, sandbox_server, tmp_path):
    """Issue 18 §6: operators see Personio's reason codes, never its free text (which may
    quote anything) — the pause's stored detail and alert too, as for a parked application."""
    from careers.applications.delivery import CREDENTIALS_REJECTED
    from careers.personio.recruiting import CredentialsRejected

    web = mail_app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    form = valid_fields(open_form(web), email=EMAILS[0])
    assert send(web, form, [("cv", cv, "cv.pdf")]).status_code == 303
    told: list[str] = []
    deliverer = _deliverer(harness, sandbox_server.url, DeliveryHealth())
    deliverer.on_paused = told.append
    text = "Your account is locked: sign in at https://evil.example/"
    job = harness.outbox.claim(deliverer.owner, 60)
    assert job is not None
    try:
        deliverer._paused(job, CredentialsRejected("unauthorized", status=401, detail=text))
    finally:
        deliverer.client.close()
    [summary] = harness.outbox.summaries("pending", limit=5)
    assert summary.last_reason == CREDENTIALS_REJECTED
    assert "evil" not in (summary.last_detail or "") and "unauthorized" in summary.last_detail
    assert told and all("evil" not in detail for detail in told)
