"""Mail end to end: the site, its store and the mail worker against a real SMTP server on
loopback (the sandbox's MailCatcher) and the Personio sandbox.

The worker runs step by step on a test clock (its store takes the same clock), so digests,
backoffs and expiries need no real waiting; the feed and SMTP are real.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from careers.personio.model import Salary
from careers.sandbox.mailcatcher import CaughtMail
from careers.sandbox.sample_data import sample_positions
from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN

from . import filegen
from .applying import apply_env, deliverer_of, open_form, send, valid_fields
from .apps import SECRET
from .mailing import HOUR, OPS, SENDER, SITE, Harness, link, press_button, subscribe
from .pg import as_url
from .servers import eventually

LENA = "lena.schmidt@example.org"


def new_job(position_id: int, name: str, department: str, lang: str = "en"):
    base = sample_positions(lang)[1]
    return replace(base, id=position_id, name=name, department=department)


def publish(harness: Harness, sandbox, *jobs, lang: str = "en") -> None:
    """Personio publishes jobs; the site's next feed refresh sees them."""
    sandbox.set_positions(lang, [*sandbox.positions(lang), *jobs])
    harness.services.catalogue.refresh(lang)


def subscribed_and_confirmed(harness, sandbox, catcher, address=LENA, lang="en") -> CaughtMail:
    client = harness.app.test_client()
    assert subscribe(client, address, lang=lang).status_code == 303
    assert harness.drain() == ["sent"]
    confirmation = catcher.messages()[-1]
    assert confirmation.rcpt_to == (address,)
    assert press_button(client, link(confirmation, "/confirm")).status_code == 200
    assert len(harness.mail.confirmed()) == 1
    return confirmation


# -- job alerts ------------------------------------------------------------------------------


def test_a_candidate_gets_exactly_the_new_engineering_jobs_once_and_leaves_with_one_click(
    harness, sandbox, catcher, mail_app
):
    _whole_job_alert(harness, sandbox, catcher, mail_app)
    data_dir = harness.services.settings.data_dir
    holding = [p for p in data_dir.rglob("*") if p.is_file() and LENA.encode() in p.read_bytes()]
    assert holding == []


def test_the_same_job_alert_on_postgresql(
    make_app, sandbox_server, tmp_path, catcher, clock, sandbox, pg_url
):
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        database_url=as_url(pg_url),
        smtp_url=catcher.smtp_url,
        mail_from=SENDER,
        public_url=SITE,
        alert_email=OPS,
        pay_transparency="off",  # the sample board lacks pay: tests/test_pay.py
    )
    harness = Harness(app, clock)
    try:
        _whole_job_alert(harness, sandbox, catcher, app)
    finally:
        harness.close()
        app.extensions["careers"].storage.close()


def _whole_job_alert(harness, sandbox, catcher, mail_app) -> None:
    client = mail_app.test_client()
    assert subscribe(client, LENA).status_code == 303
    assert catcher.messages() == []  # nothing is sent from the request
    assert harness.drain() == ["sent"]
    confirmation = catcher.messages()[0]
    assert "List-Unsubscribe" not in confirmation.message  # not subscribed yet
    confirm = link(confirmation, "/confirm")

    # A mail scanner opening the link changes nothing: only the button does.
    assert client.get(urlsplit(confirm).path).status_code == 200
    assert harness.mail.confirmed() == []
    assert press_button(client, confirm).status_code == 200
    assert [s.filters.facets for s in harness.mail.confirmed()] == [
        {"department": ("Engineering",)}
    ]

    assert harness.later(HOUR) == []  # the jobs open when she subscribed are not new
    publish(
        harness,
        sandbox,
        new_job(1900001, "Perception Engineer (m/f/d)", "Engineering"),
        new_job(1900002, "Sales Development Representative", "Sales"),
    )
    assert harness.later(HOUR / 2) == []  # one digest per interval, not per change
    assert harness.later(HOUR / 2) == ["sent"]
    digest = catcher.messages()[-1]
    assert digest.rcpt_to == (LENA,)
    assert "Perception Engineer" in digest.text and "Perception Engineer" in digest.html
    assert "Sales Development" not in digest.text
    assert "Embedded Systems Engineer" not in digest.text  # open before: not new
    job_link = link(digest, "/jobs/1900001-")
    assert "utm_source=job-alert" in job_link
    assert digest.one_click and digest.unsubscribe_url.startswith(f"{SITE}/en/job-alerts/")
    assert digest.unsubscribe_url in digest.text  # a link in the body as well

    assert harness.later(HOUR) == []  # told once

    # RFC 8058: the mail client POSTs by itself, without cookies or form tokens.
    left = client.post(
        urlsplit(digest.unsubscribe_url).path, data={"List-Unsubscribe": "One-Click"}
    )
    assert left.status_code == 200
    assert harness.mail.confirmed() == [] and harness.mail.subscription_count() == {
        "confirmed": 0,
        "unconfirmed": 0,
    }
    publish(harness, sandbox, new_job(1900003, "Controls Engineer", "Engineering"))
    assert harness.later(HOUR) == []


def test_the_mail_server_down_then_up_loses_nothing(harness, catcher, mail_app):
    catcher.stop()
    assert subscribe(mail_app.test_client(), LENA).status_code == 303
    assert harness.drain() == ["retry"]
    assert harness.mail.mail_counts()["pending"] == 1
    catcher.start()
    assert harness.drain() == []  # waits for its backoff
    assert harness.later(HOUR) == ["sent"]
    assert [m.rcpt_to for m in catcher.messages()] == [(LENA,)]
    assert harness.mail.mail_counts() == {"pending": 0, "sent": 1, "failed": 0}


def test_a_refused_recipient_is_given_up_at_once(harness, catcher, mail_app):
    catcher.refuse(LENA)
    assert subscribe(mail_app.test_client(), LENA).status_code == 303
    assert harness.drain() == ["failed"]
    assert harness.later(HOUR) == []
    assert catcher.messages() == []
    assert harness.mail.mail_counts()["failed"] == 1


def test_asking_again_within_hours_sends_no_second_mail(harness, catcher, mail_app):
    client = mail_app.test_client()
    for _ in range(3):
        assert subscribe(client, LENA).status_code == 303
    assert harness.drain() == ["sent"]
    assert len(catcher.messages()) == 1


def test_an_unconfirmed_request_vanishes_after_48_hours(harness, catcher, mail_app):
    client = mail_app.test_client()
    assert subscribe(client, LENA).status_code == 303
    harness.drain()
    confirm = urlsplit(link(catcher.messages()[0], "/confirm")).path
    harness.later(47 * HOUR)
    assert client.get(confirm).status_code == 200
    harness.later(2 * HOUR)
    assert harness.mail.subscription_count() == {"confirmed": 0, "unconfirmed": 0}
    assert client.get(confirm).status_code == 404


# -- operator alerts ---------------------------------------------------------------------------


def _parked_application(app, sandbox, tmp_path, clock) -> str:
    """Apply through the form; Personio then refuses it for good, so it is parked."""
    client = app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    fields = valid_fields(open_form(client), email="juergen.mueller@example.com")
    response = send(client, fields, [("cv", cv, "Lebenslauf Jürgen Müller.pdf")])
    assert response.status_code == 303
    sandbox.set_attributes({})  # Personio no longer knows custom_attribute_1002
    with deliverer_of(app, clock) as deliverer:
        assert deliverer.deliver_next() == "parked"
    return response.headers["Location"]


def test_a_parked_application_reaches_the_operators_once_without_personal_data(
    harness, sandbox, catcher, mail_app, tmp_path, clock
):
    receipt_url = _parked_application(mail_app, sandbox, tmp_path, clock)
    receipt = harness.outbox.summaries("parked")[0].public_id
    page = mail_app.test_client().get(urlsplit(receipt_url).path).get_data(as_text=True)
    assert "has been told" not in page  # nobody has been, yet

    assert harness.drain() == ["sent"]  # the first monitor turn
    alert = catcher.messages()[0]
    assert alert.rcpt_to == (OPS,)
    assert receipt in alert.subject or receipt in alert.text
    for fact in (receipt, "1842958", "errors.attribute-validation.unknown"):
        assert fact in alert.text
    application_id = harness.outbox.summaries("parked")[0].id
    assert f"careers outbox retry {application_id}" in alert.text
    raw = alert.message.as_string()
    for personal in ("Jürgen", "Müller", "juergen.mueller", "Lebenslauf", "+49 40"):
        assert personal not in raw
    page = mail_app.test_client().get(urlsplit(receipt_url).path).get_data(as_text=True)
    assert "has been told" in page

    assert harness.later(HOUR) == []  # one alert per application
    assert len(catcher.messages()) == 1


class _Hook(BaseHTTPRequestHandler):
    answers: list[int]
    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(self.answers.pop(0) if self.answers else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[type[_Hook]]:
    handler = type("Hook", (_Hook,), {"answers": [500], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.url = f"http://127.0.0.1:{server.server_port}/careers-alerts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler
    server.shutdown()
    server.server_close()


def test_the_webhook_is_signed_and_retried(
    make_app, sandbox, sandbox_server, tmp_path, clock, webhook
):
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        alert_webhook_url=webhook.url,
        pay_transparency="off",
    )
    harness = Harness(app, clock)
    try:
        _parked_application(app, sandbox, tmp_path, clock)
        receipt = harness.outbox.summaries("parked")[0].public_id
        assert harness.drain() == ["retry"]  # the receiver answered 500
        assert harness.later(HOUR) == ["sent"]
        assert harness.later(HOUR) == []
    finally:
        harness.close()
    assert len(webhook.received) == 2
    headers, body = webhook.received[-1]
    event = json.loads(body)
    assert event["kind"] == "application_parked"
    assert event["params"]["receipt"] == receipt
    assert event["params"]["reason"] == "errors.attribute-validation.unknown"
    stamp, signature = re.fullmatch(
        r"t=(\d+),v1=([0-9a-f]{64})", headers["X-Careers-Signature"]
    ).groups()
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert b"juergen" not in body.lower() and "Jürgen".encode() not in body


def test_a_backlog_older_than_the_threshold_is_reported_once(
    harness, catcher, mail_app, tmp_path, clock
):
    client = mail_app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    assert send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")]).status_code == 303
    assert harness.drain() == []  # young: nothing to say
    assert harness.later(HOUR + 60) == ["sent"]
    alert = catcher.messages()[0]
    assert "careers outbox list" in alert.text and "1" in alert.text
    assert harness.later(HOUR) == []


@pytest.mark.system
def test_careers_worker_tells_the_operators_of_a_parked_application_within_a_minute(
    mail_app, sandbox, sandbox_server, catcher, tmp_path
):
    """The real `careers worker` process: it delivers, Personio refuses, and the alert
    mail arrives on the SMTP server (the monitors run every 30 seconds)."""
    import os
    import subprocess
    import sys

    client = mail_app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    assert send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")]).status_code == 303
    sandbox.set_attributes({})  # Personio will refuse it for good
    settings = mail_app.extensions["careers"].settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    env.update(
        CAREERS_PERSONIO_FEED_URL=settings.personio_feed_url,
        CAREERS_PERSONIO_API_URL=sandbox_server.url,
        CAREERS_PERSONIO_COMPANY_ID=SANDBOX_COMPANY_ID,
        CAREERS_PERSONIO_RECRUITING_TOKEN=SANDBOX_TOKEN,
        CAREERS_SECRET_KEY=SECRET,
        CAREERS_DATA_DIR=str(settings.data_dir),
        CAREERS_FORM_FILE=str(settings.form_file),
        CAREERS_SMTP_URL=catcher.smtp_url,
        CAREERS_MAIL_FROM=SENDER,
        CAREERS_PUBLIC_URL=SITE,
        CAREERS_ALERT_EMAIL=OPS,
        CAREERS_PAY_TRANSPARENCY="off",
        CAREERS_PRIVACY_URL=settings.privacy_url,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "careers.cli", "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        (alert,) = catcher.wait_for(1, timeout=60)
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    assert worker.returncode == 0, errors
    assert alert.rcpt_to == (OPS,) and "needs you" in alert.subject
    assert "errors.attribute-validation.unknown" in alert.text
    assert "juergen" not in alert.message.as_string().lower()


def test_a_feed_failing_longer_than_the_threshold_is_reported_once_per_outage(
    make_app, sandbox, sandbox_server, catcher, tmp_path, clock
):
    app = make_app(
        smtp_url=catcher.smtp_url,
        mail_from=SENDER,
        public_url=SITE,
        alert_email=OPS,
        pay_transparency="off",  # the sample board lacks pay: tests/test_pay.py
        feed_ttl="1",
        alert_feed_after="1",
    )
    harness = Harness(app, clock)
    try:
        assert app.test_client().get("/en/jobs").status_code == 200  # a good copy
        sandbox.inject(target="feed", kind="status", status=503)
        assert eventually(lambda: "sent" in harness.later(31), 20)
        assert harness.later(HOUR) == []  # the same outage: told once
    finally:
        harness.close()
    (alert,) = catcher.messages()
    assert alert.rcpt_to == (OPS,)
    assert "feed" in alert.subject.lower()
    assert "en" in alert.text and "last good copy" in alert.text.lower()


def test_a_subscriber_hears_in_the_language_they_subscribed_in(harness, sandbox, catcher):
    lang, subject = "de", "1 neue Stelle bei Nordlicht Robotics"
    subscribed_and_confirmed(harness, sandbox, catcher, lang=lang)
    publish(
        harness, sandbox, new_job(1900001, "Perception Engineer", "Engineering", lang), lang=lang
    )
    assert harness.later(HOUR) == ["sent"]
    digest = catcher.messages()[-1]
    assert digest.message["Content-Language"] == lang
    assert subject in digest.subject
    english = "1 new job at Nordlicht Robotics"
    assert english not in digest.subject and "Unsubscribe" not in digest.text
    assert f"{SITE}/{lang}/jobs/1900001-" in digest.text


def test_an_alert_with_a_minimum_pay_tells_only_of_jobs_paying_that(harness, sandbox, catcher):
    """The list's `min_salary` is one of the alert's filters: kept, quoted, and applied."""
    client = harness.app.test_client()
    assert subscribe(client, LENA, "department=Engineering&min_salary=60000").status_code == 303
    assert harness.drain() == ["sent"]
    confirmation = catcher.messages()[-1]
    assert "Minimum pay a year: 60,000" in confirmation.text
    assert press_button(client, link(confirmation, "/confirm")).status_code == 200
    (found,) = harness.mail.confirmed()
    assert found.filters.min_salary == 60000

    yearly = Salary(min=70000, max=80000, currency_symbol="€", currency_code="EUR", type="yearly")
    monthly = Salary(min=4000, currency_symbol="€", currency_code="EUR", type="monthly")
    publish(
        harness,
        sandbox,
        replace(new_job(1900001, "Perception Engineer", "Engineering"), salary=yearly),
        replace(new_job(1900002, "Controls Engineer", "Engineering"), salary=monthly),
        new_job(1900003, "Test Engineer", "Engineering"),  # no pay stated
    )
    assert harness.later(HOUR) == ["sent"]
    digest = catcher.messages()[-1]
    assert "Perception Engineer" in digest.text
    assert "Controls Engineer" not in digest.text  # 48,000 a year
    assert "Test Engineer" not in digest.text
    assert "Minimum pay a year: 60,000" in digest.text
    assert "min_salary=60000" in digest.text  # the link to the list, filtered the same way
