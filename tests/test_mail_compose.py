"""What the mails say and carry: parts, headers, RFC 8058 on digests only, links that stay on
the site and carry the campaign, the reader's language, escaping, operator alerts, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import lxml.html
import pytest

from careers.config import Settings, load_settings
from careers.mail import alert_links
from careers.mail.alerts import AlertKind
from careers.mail.compose import (
    SIGNATURE_HEADER,
    Composer,
    webhook_body,
    webhook_signature,
)
from careers.mail.store import Filters, Subscription
from careers.personio.model import Position

from .apps import SECRET

SITE = "https://jobs.nordlicht.example"
TOKEN = "7.0123456789abcdef0123456789abcdef"
CONSENT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC).timestamp()
ENGINEERING = Filters({"department": ("Engineering",), "employment_type": ("permanent",)}, "rust")


def settings(tmp_path: Path, **extra: str) -> Settings:
    env = {
        "CAREERS_PERSONIO_FEED_URL": "http://127.0.0.1:9/xml",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(tmp_path),
        "CAREERS_COMPANY_NAME": "Nordlicht Robotics",
        "CAREERS_LANGUAGES": "en,de",
        "CAREERS_PUBLIC_URL": SITE,
        "CAREERS_SMTP_URL": "smtp://127.0.0.1:2525",
        "CAREERS_MAIL_FROM": "Nordlicht Robotics Careers <jobs@nordlicht.example>",
        "CAREERS_ALERT_EMAIL": "ops@nordlicht.example, oncall@nordlicht.example",
        "CAREERS_REPORT_EMAIL": "recruiting@nordlicht.example",
        "CAREERS_PRIVACY_URL": "https://nordlicht.example/privacy",
        **extra,
    }
    return load_settings(env)


@pytest.fixture
def composer(tmp_path: Path) -> Composer:
    return Composer(settings(tmp_path))


def subscription(language: str = "en", filters: Filters = ENGINEERING) -> Subscription:
    return Subscription(
        id=7,
        salt="s4lt",
        address="anna@example.org",
        filters=filters,
        language=language,
        created_at=CONSENT - 60,
        confirmed_at=CONSENT,
        digest_mark=CONSENT,
    )


def job(position_id: int, name: str, **fields: object) -> Position:
    defaults: dict[str, object] = {
        "office": "Hamburg",
        "additional_offices": ("Berlin",),
        "department": "Engineering",
        "employment_type": "permanent",
        "schedule": "full-time",
        "created_at": datetime(2026, 10, 14, 23, 30, tzinfo=UTC),  # the 15th in Berlin
    }
    return Position(id=position_id, name=name, **{**defaults, **fields})


JOBS = [job(101, "Rust Engineer (m/f/d)"), job(102, "Robotics Engineer", office="Munich")]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def hrefs(html: str) -> list[str]:
    return [a.get("href") for a in lxml.html.fromstring(html).iter("a")]


def text_urls(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def test_confirmation_has_both_parts_the_headers_and_no_unsubscribe(composer: Composer) -> None:
    message = composer.confirmation(subscription(), TOKEN)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"] == "Nordlicht Robotics Careers <jobs@nordlicht.example>"
    assert message["To"] == "anna@example.org"
    assert message["Subject"] == "Confirm your job alert"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "en"
    assert message["Message-ID"].endswith("@nordlicht.example>")
    sent = parsedate_to_datetime(message["Date"])
    assert abs(sent.timestamp() - datetime.now(UTC).timestamp()) < 60
    for name in ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"):
        assert name not in message  # not subscribed yet


def test_confirmation_names_the_filters_links_the_button_page_and_says_what_happens(
    composer: Composer,
) -> None:
    text, html = parts(composer.confirmation(subscription(), TOKEN))
    confirm = alert_links.confirm_url(SITE, "en", TOKEN)
    assert confirm in text_urls(text)
    assert confirm in hrefs(html)
    searched = "Search: Your search words (shown when you confirm)"
    for words in ("Department: Engineering", "Employment type: Permanent", searched):
        assert words in text
        assert words in html
    assert "permanent" not in text  # Personio's code, not the site's word
    # The search words are anyone's free text: not quoted to an address that has not
    # confirmed (the digest, after consent, does).
    assert "rust" not in text and "rust" not in html
    for part in (text, html):
        assert "nothing more" in part
        assert "48 hours" in part


def test_confirmation_without_filters_says_all_jobs(composer: Composer) -> None:
    text, _ = parts(composer.confirmation(subscription(filters=Filters()), TOKEN))
    assert "All new jobs" in text


def test_digest_lists_the_jobs_with_tracked_links_and_the_filtered_list(
    composer: Composer,
) -> None:
    message = composer.digest(subscription(), TOKEN, JOBS)
    assert message["Subject"] == "2 new jobs at Nordlicht Robotics"
    text, html = parts(message)
    for position in JOBS:
        url = alert_links.job_url(SITE, "en", position.id, position.name)
        assert url in hrefs(html)
        assert url in text_urls(text)
        assert parse_qs(urlsplit(url).query)["utm_source"] == ["job-alert"]
        assert position.name in text
    assert "Hamburg, Berlin · Permanent · Full-time" in text
    assert "Posted on October 15, 2026" in text  # the site's timezone (Europe/Berlin)
    [listing] = [h for h in hrefs(html) if urlsplit(h).path == "/en/jobs" and urlsplit(h).query]
    assert parse_qsl(urlsplit(listing).query) == [
        ("department", "Engineering"),
        ("employment_type", "permanent"),
        ("q", "rust"),
        ("utm_source", "job-alert"),
        ("utm_medium", "email"),
    ]
    assert listing in text_urls(text)


def test_a_digest_of_one_job_says_so(composer: Composer) -> None:
    message = composer.digest(subscription(), TOKEN, JOBS[:1])
    assert message["Subject"] == "1 new job at Nordlicht Robotics"


def test_digest_offers_one_click_unsubscribe_in_headers_and_body(composer: Composer) -> None:
    message = composer.digest(subscription(), TOKEN, JOBS)
    unsubscribe = alert_links.unsubscribe_url(SITE, "en", TOKEN)
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "Nordlicht Robotics job alerts <job-alerts.nordlicht.example>"
    # On the wire the URL stays one readable value, not folded into RFC 2047 encoded words.
    raw = message.as_bytes()
    assert f"List-Unsubscribe: <{unsubscribe}>\n".encode() in raw
    assert all(len(line) <= 998 for line in raw.split(b"\n"))
    text, html = parts(message)
    assert unsubscribe in hrefs(html)
    assert unsubscribe in text_urls(text)


# A weekly funnel as the mail worker queues it: [job id, title, channel, list views, job
# views, forms opened, submitted, delivered]; job 0 is the list.
REPORT = {
    "week": "2026-W48",
    "from": "2026-11-23",
    "to": "2026-11-29",
    "rows": [
        [101, "Rust Engineer (m/f/d)", "linkedin", 0, 40, 10, 4, 4],
        [101, "Rust Engineer (m/f/d)", "", 0, 10, 2, 1, 0],
        [0, "", "linkedin", 100, 0, 0, 0, 0],
    ],
}


@pytest.mark.parametrize("kind", ["confirmation", "digest", "alert", "report"])
def test_no_images_and_no_link_leaves_the_site(composer: Composer, kind: str) -> None:
    if kind == "confirmation":
        message = composer.confirmation(subscription(), TOKEN)
    elif kind == "digest":
        message = composer.digest(subscription(), TOKEN, JOBS)
    elif kind == "report":
        message = composer.report(REPORT)
    else:
        message = composer.alert(AlertKind.BACKLOG, {"pending": 3, "oldest_age": 7200})
    text, html = parts(message)
    tree = lxml.html.fromstring(html)
    assert not list(tree.iter("img", "link", "script", "style", "iframe"))
    assert not [e for e in tree.iter() if e.get("src") or e.get("background")]
    assert "url(" not in html  # no CSS fetching anything either
    for url in hrefs(html) + text_urls(text):
        assert urlsplit(url).netloc == "jobs.nordlicht.example", url


def test_html_escapes_a_hostile_job_title(composer: Composer) -> None:
    hostile = job(103, '<script>alert("x")</script> Engineer')
    text, html = parts(composer.digest(subscription(), TOKEN, [hostile]))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert '<script>alert("x")</script> Engineer' in text  # plain text is shown as text


def test_report_escapes_a_hostile_title_and_draws_its_bars_in_markup_only(
    composer: Composer,
) -> None:
    hostile = {**REPORT, "rows": [[101, '<img src="https://evil.example/x">', "x", 0, 5, 1, 0, 0]]}
    message = composer.report(hostile)
    assert message["To"] == "recruiting@nordlicht.example"
    text, html = parts(message)
    assert "<img" not in html and "&lt;img" in html
    bars = lxml.html.fromstring(html).xpath("//div[@data-bar]")
    assert [bar.get("style").split(";")[0] for bar in bars] == [
        "width:100%",
        "width:20%",
        "width:0%",
        "width:0%",
    ]
    assert "Job page views: 5" in text and "Forms opened: 1 (20%)" in text


def test_german_subscription_gets_german_words_dates_and_links(composer: Composer) -> None:
    message = composer.digest(subscription("de"), TOKEN, JOBS)
    assert message["Content-Language"] == "de"
    text, html = parts(message)
    assert "15. Oktober 2026" in text
    assert "Abteilung: Engineering" in text  # the site's catalogue, already translated
    assert "Festanstellung · Vollzeit" in text
    assert lxml.html.fromstring(html).get("lang") == "de"
    assert alert_links.unsubscribe_url(SITE, "de", TOKEN) in message["List-Unsubscribe"]
    assert all(urlsplit(u).path.startswith("/de/") for u in hrefs(html))


def test_parked_alert_tells_operators_what_to_run_without_personal_data(
    composer: Composer,
) -> None:
    params = {
        "alert": "application_parked",
        "receipt": "K7QD-2M4X",
        "application_id": 42,
        "position_id": 1842907,
        "position_title": "Rust Engineer (m/f/d)",
        "reason": "errors.posting-validation.channel-not-found",
        "detail": "channel 2001 not found",
        "at": "2026-10-14T09:12:44+00:00",
    }
    message = composer.alert(AlertKind.PARKED, params)
    assert message["To"] == "ops@nordlicht.example, oncall@nordlicht.example"
    assert message["Subject"] == "[careers] Nordlicht Robotics: application K7QD-2M4X needs you"
    assert message["Content-Language"] == "en"
    assert "List-Unsubscribe" not in message
    text, html = parts(message)
    for part in (text, html):
        assert "K7QD-2M4X" in part
        assert "1842907" in part
        assert "errors.posting-validation.channel-not-found" in part
        assert "channel 2001 not found" in part
        assert "careers outbox show 42" in part
        assert "careers outbox retry 42" in part
        assert "2026-10-14 11:12:44 Europe/Berlin" in part


def test_feed_down_alert_says_since_when_and_what_visitors_see(composer: Composer) -> None:
    params = {
        "languages": ["de", "en"],
        "failing_since": "2026-10-14T08:00:00+00:00",
        "last_error": "503 from Personio",
        "copy_age": 5400,
        "at": "2026-10-14T09:30:00+00:00",
    }
    message = composer.alert(AlertKind.FEED_DOWN, params)
    assert message["Subject"] == "[careers] Nordlicht Robotics: the Personio job feed is failing"
    text, _ = parts(message)
    assert "Languages: de, en" in text
    assert "Failing since: 2026-10-14 10:00:00 Europe/Berlin" in text
    assert "Last error: 503 from Personio" in text
    assert "the last good copy, 90 minutes old" in text
    no_copy, _ = parts(composer.alert(AlertKind.FEED_DOWN, {**params, "copy_age": None}))
    assert "there is no good copy yet" in no_copy


def test_backlog_alert_gives_the_count_the_age_and_the_command(composer: Composer) -> None:
    params = {
        "pending": 12,
        "oldest_receipt": "ZX81-0001",
        "oldest_age": 7200,
        "last_reason": "personio_5xx",
        "command": "careers outbox list",
    }
    text, _ = parts(composer.alert(AlertKind.BACKLOG, params))
    for words in ("Waiting: 12", "ZX81-0001", "2 hours", "personio_5xx", "careers outbox list"):
        assert words in text


def test_webhook_body_and_signature() -> None:
    params = {"alert": "backlog_stuck", "pending": 3, "oldest_age": 60}
    body = webhook_body(AlertKind.BACKLOG, params, SITE)
    data = json.loads(body)
    assert data["kind"] == "backlog_stuck"
    assert data["site"] == SITE
    assert data["params"] == {"pending": 3, "oldest_age": 60}
    assert data["text"].startswith("[careers] ")
    assert data["commands"] == ["careers outbox list"]
    signature = webhook_signature("hook-secret", 1_700_000_000, body)
    expected = hmac.new(b"hook-secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature == f"t=1700000000,v1={expected}"
    assert SIGNATURE_HEADER == "X-Careers-Signature"
