"""Job alerts on the web: the form on the list, asking, confirming and leaving (docs/routes.md).

Against the real app and its real mail store; the end-to-end test sends the confirmation
through the mail worker to a real SMTP server on loopback and follows the links in it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from html import unescape
from urllib.parse import urlencode

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server

from careers.mail import alert_links
from careers.mail.alerts import AlertKind, mail_key, webhook_key
from careers.mail.store import Filters, MailKind, MailStore, Subscription
from careers.web.alerts import interval_text

from . import filegen
from .applying import apply_env, open_form, send, valid_fields
from .apps import SECRET
from .browser import BUDGET, Recorder, audit, new_page
from .mailing import SITE, mail_env, token_in
from .servers import free_port

PUBLIC = SITE  # the public URL mail_env() configures
ADDRESS = "anna.berg@example.com"
CLIENT = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture
def app(make_app, sandbox):
    return make_app(**mail_env(), privacy_url="https://nordlicht.example/privacy")


@pytest.fixture
def client(app):
    return app.test_client()


def store(app) -> MailStore:
    return app.extensions["careers"].mail


def html(response) -> str:
    return response.get_data(as_text=True)


def hidden(page: str) -> list[tuple[str, str]]:
    """The job-alert form's hidden fields as (name, value), token left out."""
    form = re.search(r'<form class="job-alert".*?</form>', page, re.S)
    assert form, "no job-alert form"
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form[0])
    return [(name, unescape(value)) for name, value in pairs if name != "form_token"]


def ask(client, lang: str = "en", *, prefix: str = "", email: str = ADDRESS, **fields):
    """Open the list with these filters and send its job-alert form, as a browser does."""
    query = urlencode([(k, v) for k, values in fields.items() for v in _list(values)])
    page = client.get(f"{prefix}/{lang}/jobs?{query}", environ_base=CLIENT)
    assert page.status_code == 200
    data = [*hidden(html(page)), ("form_token", token_in(html(page))), ("email", email)]
    data.append(("website", ""))
    return client.post(f"{prefix}/{lang}/job-alerts", data=MultiDict(data), environ_base=CLIENT)


def _list(values) -> list[str]:
    return [values] if isinstance(values, str) else list(values)


def confirmations(app) -> list[int]:
    """Subscription ids of the CONFIRM mails queued (claimed here, so each is seen once)."""
    found = []
    while (item := store(app).claim_mail("test")) is not None:
        assert item.kind is MailKind.CONFIRM
        found.append(item.subscription_id)
    return found


def only_subscription(app) -> Subscription:
    (sub_id,) = confirmations(app)
    found = store(app).subscription(sub_id)
    assert found is not None
    return found


def token_of(sub: Subscription) -> str:
    return alert_links.subscription_token(SECRET, sub.id, sub.salt)


# -- the form on the list --------------------------------------------------------------------


def test_the_form_is_offered_only_when_mail_is_configured(make_app, sandbox):
    plain = make_app().test_client()
    assert 'class="job-alert"' not in html(plain.get("/en/jobs"))
    assert plain.get("/en/job-alerts").status_code == 404
    assert plain.post("/en/job-alerts", data={"email": ADDRESS}).status_code == 404
    page = html(make_app(**mail_env()).test_client().get("/en/jobs"))
    assert 'action="/en/job-alerts"' in page
    assert "Get new jobs like these by email" in page
    assert 'type="email"' in page and 'name="website"' in page


def test_links_from_earlier_mails_still_unsubscribe_once_mail_is_turned_off(
    make_app, sandbox, tmp_path
):
    data_dir = tmp_path / "shared"
    with_mail = make_app(data_dir, **mail_env())
    assert ask(with_mail.test_client(), department="Engineering").status_code == 303
    token = token_of(only_subscription(with_mail))
    without = make_app(data_dir).test_client()  # the operator removed CAREERS_SMTP_URL
    assert without.get("/en/job-alerts").status_code == 404
    assert without.get(f"/en/job-alerts/{token}/unsubscribe").status_code == 200
    left = without.post(
        f"/en/job-alerts/{token}/unsubscribe", data={"List-Unsubscribe": "One-Click"}
    )
    assert left.status_code == 200
    assert store(with_mail).subscription_count() == {"confirmed": 0, "unconfirmed": 0}


def test_the_form_carries_the_lists_filters_and_language(client):
    page = html(client.get("/de/jobs?department=Engineering&schedule=full-time&q=Roboter&bogus=1"))
    assert hidden(page) == [
        ("department", "Engineering"),
        ("schedule", "full-time"),
        ("q", "Roboter"),
    ]
    assert 'action="/de/job-alerts"' in page
    assert 'href="https://nordlicht.example/privacy"' in page
    assert "when you confirmed" in page or "bestätigt" in page


# -- asking ----------------------------------------------------------------------------------


def test_asking_queues_one_confirmation_and_answers_303(app, client):
    response = ask(client, department="Engineering", q="robot", bogus="x")
    assert response.status_code == 303
    assert response.headers["Location"] == "/en/job-alerts/requested"
    sub = only_subscription(app)
    assert sub.address == ADDRESS
    assert sub.filters == Filters({"department": ("Engineering",)}, "robot")  # bogus dropped
    assert sub.language == "en" and sub.confirmed_at is None
    page = client.get("/en/job-alerts/requested")
    assert "Check your inbox" in html(page)
    assert page.headers["Cache-Control"] == "no-store"


def test_a_minimum_pay_on_the_list_is_kept_with_the_alert(app, client):
    page = html(client.get("/en/jobs?department=Engineering&min_salary=55%2C000"))
    assert ("min_salary", "55000") in hidden(page)
    assert ask(client, department="Engineering", min_salary="55000").status_code == 303
    sub = only_subscription(app)
    assert sub.filters == Filters({"department": ("Engineering",)}, "", 55000)


def test_filters_stored_before_a_minimum_pay_existed_read_the_same():
    """A subscription's filters are part of its key: without a minimum pay the text is the
    one earlier releases stored, and that text reads back as before."""
    old = '{"facets":{"department":["Engineering"]},"q":"robot"}'
    assert Filters({"department": ("Engineering",)}, "robot").to_json() == old
    assert Filters.from_json(old) == Filters({"department": ("Engineering",)}, "robot", None)
    assert Filters.from_json(Filters({}, "", 0).to_json()).min_salary == 0


def test_asking_twice_queues_one_mail_and_reads_the_same(app, client):
    first = ask(client, department="Engineering")
    second = ask(client, department="Engineering")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(confirmations(app)) == 1


def test_an_invalid_address_is_refused_with_the_form_kept(app, client, caplog):
    caplog.set_level(logging.INFO)
    response = ask(client, email="anna.berg@", department=["Engineering", "Sales"], q="lead")
    assert response.status_code == 422
    assert response.headers["Cache-Control"] == "no-store"
    page = html(response)
    assert 'value="anna.berg@"' in page
    assert hidden(page) == [("department", "Engineering"), ("department", "Sales"), ("q", "lead")]
    assert 'id="error-summary"' in page and 'href="#job-alert-email"' in page
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="job-alert-email-error job-alert-privacy"' in page
    assert "name@example.com" in page
    assert confirmations(app) == []
    assert "anna.berg" not in caplog.text


def test_the_address_never_reaches_the_log(client, caplog):
    caplog.set_level(logging.DEBUG)
    assert ask(client, department="Engineering").status_code == 303
    assert "anna.berg" not in caplog.text
    assert "job alert requested" in caplog.text


@pytest.mark.parametrize(
    ("headers", "data"),
    [
        ({"Origin": "https://evil.example"}, None),
        ({"Sec-Fetch-Site": "cross-site"}, None),
        ({}, {"form_token": "forged", "email": ADDRESS}),
        ({}, {"email": ADDRESS}),
    ],
)
def test_posts_not_from_our_form_are_refused(app, client, headers, data):
    token = token_in(html(client.get("/en/jobs")))
    response = client.post(
        "/en/job-alerts", data=data or {"form_token": token, "email": ADDRESS}, headers=headers
    )
    assert response.status_code == 403
    assert confirmations(app) == []


def test_the_token_of_another_language_is_refused(app, client):
    token = token_in(html(client.get("/de/jobs")))
    response = client.post("/en/job-alerts", data={"form_token": token, "email": ADDRESS})
    assert response.status_code == 403


def test_a_filled_honeypot_stores_and_sends_nothing_but_reads_the_same(app, client):
    token = token_in(html(client.get("/en/jobs")))
    response = client.post(
        "/en/job-alerts", data={"form_token": token, "email": ADDRESS, "website": "spam.example"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/en/job-alerts/requested"
    assert confirmations(app) == []


def test_a_client_asking_too_often_gets_429(app, client):
    for i in range(5):
        assert ask(client, email=f"a{i}@example.com").status_code == 303
    refused = ask(client, email="a5@example.com")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "try again in" in html(refused)
    assert len(confirmations(app)) == 5
    # Another client is not held up by this one.
    token = token_in(html(client.get("/en/jobs")))
    other = client.post(
        "/en/job-alerts",
        data={"form_token": token, "email": "b@example.com"},
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    assert other.status_code == 303


def test_get_asks_nothing(app, client):
    page = client.get(f"/en/job-alerts?department=Engineering&email={ADDRESS}")
    assert page.status_code == 200
    assert hidden(html(page)) == [("department", "Engineering")]
    assert ADDRESS not in html(page)
    assert confirmations(app) == []


# -- the links in mails ----------------------------------------------------------------------


def test_opening_the_confirmation_link_changes_nothing(app, client):
    ask(client, department="Engineering")
    sub = only_subscription(app)
    for _ in range(3):  # a mail scanner, a preview, the candidate
        page = client.get(f"/en/job-alerts/{token_of(sub)}/confirm")
        assert page.status_code == 200
    assert store(app).subscription(sub.id).confirmed_at is None
    text = html(page)
    assert "Engineering" in text and ADDRESS not in text
    assert f'action="/en/job-alerts/{token_of(sub)}/confirm"' in text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_the_button_confirms(app, client):
    ask(client, department="Engineering")
    sub = only_subscription(app)
    url = f"/en/job-alerts/{token_of(sub)}/confirm"
    button = token_in(html(client.get(url)))
    done = client.post(url, data={"form_token": button})
    assert done.status_code == 200
    assert "at most one email every 1 hour" in html(done)
    assert done.headers["Referrer-Policy"] == "no-referrer"
    assert store(app).subscription(sub.id).confirmed_at is not None
    again = client.get(url)
    assert "already confirmed" in html(again)


def test_confirming_needs_the_button(app, client):
    ask(client)
    sub = only_subscription(app)
    url = f"/en/job-alerts/{token_of(sub)}/confirm"
    assert client.post(url).status_code == 403
    button = token_in(html(client.get(url)))
    assert (
        client.post(
            url, data={"form_token": button}, headers={"Origin": "https://evil.example"}
        ).status_code
        == 403
    )
    assert store(app).subscription(sub.id).confirmed_at is None


def test_one_click_unsubscribe_without_form_token(app, client):
    ask(client, department="Engineering")
    sub = only_subscription(app)
    url = f"/en/job-alerts/{token_of(sub)}/unsubscribe"
    # What a mail client sends (RFC 8058): no cookie, no Origin, no form token.
    response = client.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "unsubscribed" in html(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert store(app).subscription(sub.id) is None
    # Again, or once the subscription is gone for another reason: 404 before the body.
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert client.get(url).status_code == 404


def test_the_unsubscribe_page_has_a_button_and_changes_nothing(app, client):
    ask(client)
    sub = only_subscription(app)
    url = f"/en/job-alerts/{token_of(sub)}/unsubscribe"
    page = client.get(url)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert store(app).subscription(sub.id) is not None
    # Without the one-click body, only the page's button may unsubscribe.
    assert client.post(url, data={"List-Unsubscribe": "yes"}).status_code == 403
    assert store(app).subscription(sub.id) is not None
    done = client.post(url, data={"form_token": token_in(html(page))})
    assert done.status_code == 200
    assert store(app).subscription(sub.id) is None


@pytest.mark.parametrize(
    "token",
    ["1.0123456789abcdef0123456789abcdef", "x", "0.0123456789abcdef0123456789abcdef"],
)
def test_a_bad_link_says_it_is_no_longer_valid(app, client, token):
    ask(client)
    sub = only_subscription(app)
    for method, action in [("get", "confirm"), ("get", "unsubscribe"), ("post", "confirm")]:
        response = getattr(client, method)(f"/en/job-alerts/{token}/{action}")
        if method == "post":
            assert response.status_code in (403, 404)  # no form token either
            continue
        assert response.status_code == 404
        assert "no longer valid" in html(response)
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert store(app).subscription(sub.id).confirmed_at is None


def test_a_forged_link_neither_confirms_nor_unsubscribes(app, client):
    ask(client)
    sub = only_subscription(app)
    forged = f"{sub.id}.{'0' * 32}"
    page = client.get(f"/en/job-alerts/{token_of(sub)}/confirm")
    button = token_in(html(page))
    assert (
        client.post(f"/en/job-alerts/{forged}/confirm", data={"form_token": button}).status_code
        == 404
    )
    gone = client.post(
        f"/en/job-alerts/{forged}/unsubscribe", data={"List-Unsubscribe": "One-Click"}
    )
    assert gone.status_code == 404  # answered before its body is read …
    assert store(app).subscription(sub.id) is not None  # … and does nothing
    assert client.post("/en/job-alerts/nonsense/unsubscribe").status_code == 404


def test_from_the_list_to_one_click_unsubscribe_over_real_smtp(make_app, sandbox):
    """The whole way: ask on the list, the confirmation mail over SMTP, its link and button,
    a digest with a new Engineering job, and the digest's RFC 8058 one-click POST."""
    from careers.sandbox.mailcatcher import MailCatcher
    from careers.sandbox.sample_data import sample_positions

    with MailCatcher() as catcher:
        app = make_app(**mail_env(catcher.smtp_url))
        client = app.test_client()
        svc = app.extensions["careers"]
        worker = svc.mail_worker()
        assert worker.digest_run() == 0  # the jobs open today are never "new"
        assert ask(client, department="Engineering").status_code == 303
        assert worker.send_next() == "sent"
        (confirmation,) = catcher.wait_for(1)
        assert confirmation.rcpt_to == (ADDRESS,)
        link = re.search(rf"{PUBLIC}(/en/job-alerts/[0-9a-f.]+/confirm)", confirmation.text)
        page = client.get(link[1])
        assert page.status_code == 200
        assert client.post(link[1], data={"form_token": token_in(html(page))}).status_code == 200

        board = sample_positions("en")
        new = replace(board[0], id=1999001, name="Robotics Engineer", department="Engineering")
        sandbox.set_positions("en", [*board, new])
        svc.catalogue.refresh_all()
        assert worker.digest_run() == 1
        assert worker.send_next() == "sent"
        digest = catcher.wait_for(2)[1]
        assert "Robotics Engineer" in digest.text and digest.one_click
        path = digest.unsubscribe_url.removeprefix(PUBLIC)
        left = client.post(
            path,
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert left.status_code == 200
        assert svc.mail.confirmed() == []
        assert svc.mail.subscription_count() == {"confirmed": 0, "unconfirmed": 0}


@pytest.fixture
def pg_app(make_app, pg_url) -> Iterator[tuple]:
    """An app whose PostgreSQL is reached through a relay the test can cut (tcpproxy.py)."""
    from psycopg.conninfo import conninfo_to_dict

    from .tcpproxy import Relay

    params = conninfo_to_dict(pg_url)
    relay = Relay(params.get("host", "127.0.0.1"), int(params.get("port", 5432)))
    url = (
        f"postgresql://{params.get('user', 'postgres')}@127.0.0.1:{relay.port}"
        f"/{params['dbname']}?connect_timeout=2"
    )
    try:
        app = make_app(**mail_env(), database_url=url)
        yield app, relay
        app.extensions["careers"].close()
    finally:
        relay.close()


@pytest.mark.system
def test_a_database_outage_answers_503_and_changes_nothing(pg_app):
    """Every alert page says to come back, the one-click POST too (mail clients retry it),
    and nothing is half done."""
    app, relay = pg_app
    client = app.test_client()
    assert ask(client, department="Engineering").status_code == 303
    sub = only_subscription(app)
    unsubscribe = f"/en/job-alerts/{token_of(sub)}/unsubscribe"
    relay.cut()
    for response in (
        ask(client, email="other@example.com"),
        client.get(f"/en/job-alerts/{token_of(sub)}/confirm"),
        client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}),
    ):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert "try again in a few minutes" in html(response)
    relay.restore()
    assert store(app).subscription(sub.id) is not None
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert store(app).subscription(sub.id) is None


# -- inside the widget -----------------------------------------------------------------------


def test_the_widget_keeps_the_alert_in_its_frame_without_cookies(app, client):
    page = client.get("/embed/en/jobs?department=Engineering")
    assert 'action="/embed/en/job-alerts"' in html(page)
    response = ask(client, prefix="/embed", department="Engineering")
    assert response.status_code == 303
    assert response.headers["Location"] == "/embed/en/job-alerts/requested"
    done = client.get(response.headers["Location"])
    assert done.status_code == 200
    assert "X-Frame-Options" not in done.headers
    assert "frame-ancestors 'self'" in done.headers["Content-Security-Policy"]
    assert 'class="embedded"' in html(done)
    refused = ask(client, prefix="/embed", email="nope")
    assert refused.status_code == 422 and 'action="/embed/en/job-alerts"' in html(refused)
    for answer in (page, response, done, refused):
        assert "Set-Cookie" not in answer.headers
    assert len(confirmations(app)) == 1


# -- the receipt's promise -------------------------------------------------------------------


def test_the_receipt_says_the_team_was_told_only_once_it_was(make_app, sandbox_server, tmp_path):
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        **mail_env(),
        alert_email="ops@nordlicht.example",
    )
    client = app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    sent = send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")])
    assert sent.status_code == 303
    svc = app.extensions["careers"]
    job = svc.outbox.claim("test", 60)
    svc.outbox.park(job.id, "validation", "Personio refused it")

    receipt = html(client.get(sent.headers["Location"]))
    assert "Needs attention" in receipt
    assert "has been told" not in receipt
    assert "Our team will look at it" in receipt

    key = mail_key(AlertKind.PARKED, job.public_id)
    assert svc.mail.enqueue(MailKind.ALERT, language="en", params={}, dedupe_key=key)
    assert "has been told" not in html(client.get(sent.headers["Location"]))  # queued ≠ told
    item = svc.mail.claim_mail("test")
    svc.mail.mail_sent(item.id)
    assert "Our team has been told" in html(client.get(sent.headers["Location"]))


def test_a_webhook_alert_counts_as_told(make_app, sandbox_server, tmp_path):
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        alert_webhook_url="https://hooks.nordlicht.example/careers",
    )
    client = app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    sent = send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")])
    svc = app.extensions["careers"]
    job = svc.outbox.claim("test", 60)
    svc.outbox.park(job.id, "validation", "")
    key = webhook_key(AlertKind.PARKED, job.public_id)
    svc.mail.enqueue(MailKind.WEBHOOK, language="en", params={}, dedupe_key=key)
    svc.mail.mail_sent(svc.mail.claim_mail("test").id)
    assert "Our team has been told" in html(client.get(sent.headers["Location"]))


# -- words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (3600, "1 hour"),
        (7200, "2 hours"),
        (86400, "1 day"),
        (5400, "90 minutes"),
        (90, "90 seconds"),
        (3 * 86400, "3 days"),
    ],
)
def test_the_interval_in_words_is_exact(app, seconds, words):
    with app.test_request_context("/en/jobs"):
        assert interval_text(seconds) == words


# -- in a real browser: accessible, light, first-party ---------------------------------------


@contextmanager
def serving(app, port: int) -> Iterator[None]:
    """The app on this loopback port (its CAREERS_PUBLIC_URL) in a thread."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "de"])
def test_alert_pages_pass_axe_and_stay_light(browser, make_app, sandbox, tmp_path, lang):
    port = free_port()
    base = f"http://127.0.0.1:{port}"  # the public URL: posts must come from its origin
    app = make_app(**{**mail_env(), "public_url": base}, privacy_url="https://x.example/p")
    with serving(app, port):
        context, page = new_page(browser)  # axe needs script; the pages use none of theirs
        recorder = Recorder(page)
        for path in (f"/{lang}/jobs?department=Engineering", f"/embed/{lang}/jobs"):
            recorder.reset()
            page.goto(base + path)
            assert recorder.bytes < BUDGET, (path, recorder.bytes)
            assert "job-alert" in page.content()
            audit(page, f"{lang} {path}")
        page.goto(f"{base}/{lang}/jobs?department=Engineering")
        page.evaluate("document.querySelector('form.job-alert').noValidate = true")
        page.fill("#job-alert-email", "anna.berg@")
        page.click("form.job-alert button[type=submit]")
        page.wait_for_selector("#error-summary")
        assert page.evaluate("document.activeElement.id") == "job-alert-email"
        audit(page, f"{lang} job alert with an invalid address")
        page.fill("#job-alert-email", ADDRESS)
        page.click("form.job-alert button[type=submit]")
        page.wait_for_url(f"**/{lang}/job-alerts/requested")
        audit(page, f"{lang} check your inbox")

        sub = only_subscription(app)
        page.goto(f"{base}/{lang}/job-alerts/{token_of(sub)}/confirm")
        audit(page, f"{lang} confirm")
        page.click("form.alert-page__action button")
        page.wait_for_load_state()
        audit(page, f"{lang} confirmed")
        assert store(app).subscription(sub.id).confirmed_at is not None
        page.goto(f"{base}/{lang}/job-alerts/{token_of(sub)}/unsubscribe")
        audit(page, f"{lang} unsubscribe")
        page.click("form.alert-page__action button")
        page.wait_for_load_state()
        audit(page, f"{lang} unsubscribed")
        assert store(app).subscription(sub.id) is None
        page.goto(f"{base}/{lang}/job-alerts/{token_of(sub)}/unsubscribe")
        audit(page, f"{lang} link no longer valid")
        assert recorder.hosts <= {base.removeprefix("http://")}
        context.close()
