"""A feed that says what is wrong: Personio's five conditions (an unknown account, a feed
switched off, a moved feed, an empty board, the weekly maintenance window), each produced by
the sandbox as a real HTTP server, each with its own words in `careers check`, /readyz and
the operator alert (careers/personio/diagnosis.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from careers.mail.alerts import AlertKind
from careers.mail.compose import webhook_body
from careers.personio import diagnosis
from careers.personio.diagnosis import Condition, diagnose, in_maintenance
from careers.personio.feed import FeedClient, FeedError, parse_feed

from .apps import deployment_env, store_copy


@pytest.fixture
def env(sandbox, sandbox_server, tmp_path: Path) -> dict[str, str]:
    """A deployment with Recruiting API credentials, all pointed at the sandbox."""
    return deployment_env(sandbox_server.url, tmp_path)


BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY_NIGHT = datetime(2026, 12, 8, 22, 30, tzinfo=BERLIN)  # inside the window (CET)
MONDAY_NIGHT = datetime(2026, 12, 7, 22, 30, tzinfo=BERLIN)
# fault kind, its parameters, the condition, and words only its message has
CONDITIONS = [
    ("unknown_account", {}, Condition.UNKNOWN_ACCOUNT, "Personio knows no account"),
    ("feed_off", {}, Condition.FEED_OFF, "the feed is switched off or not in its Personio plan"),
    (
        "moved",
        {"to": "https://acme-robotics.jobs.personio.com"},
        Condition.MOVED,
        "the feed has moved to https://acme-robotics.jobs.personio.com/xml (careers does not"
        " follow redirects): set CAREERS_PERSONIO_SUBDOMAIN=acme-robotics and"
        " CAREERS_PERSONIO_DOMAIN=jobs.personio.com",
    ),
    ("maintenance", {}, Condition.MAINTENANCE, "Personio's weekly maintenance"),
]


def fetch_condition(sandbox_server, kind: str, params: dict, now: datetime):
    """Fetch the sandbox's feed with the fault in place; the diagnosis of what came back."""
    sandbox_server.sandbox.inject("feed", kind, **params)
    url = f"{sandbox_server.url}/xml"
    client = FeedClient(url)
    try:
        result = client.fetch("en")
        positions = parse_feed(result.body or b"")
    except FeedError as exc:
        return diagnose(exc, url, now)
    finally:
        client.close()
    return diagnosis.empty_board("en") if not positions else None


@pytest.mark.parametrize(("kind", "params", "condition", "words"), CONDITIONS)
def test_each_condition_is_told_apart_on_the_wire(
    sandbox, sandbox_server, kind, params, condition, words
):
    found = fetch_condition(sandbox_server, kind, params, TUESDAY_NIGHT)
    assert found is not None and found.condition is condition
    assert words in found.message


def test_the_five_conditions_have_five_messages(sandbox, sandbox_server):
    messages = set()
    for kind, params, _, _ in CONDITIONS:
        sandbox.clear_faults()
        messages.add(fetch_condition(sandbox_server, kind, params, TUESDAY_NIGHT).message)
    sandbox.clear_faults()
    empty = fetch_condition(sandbox_server, "empty", {}, TUESDAY_NIGHT)
    assert empty.condition is Condition.EMPTY
    messages.add(empty.message)
    assert len(messages) == 5


def test_a_redirect_to_the_accounts_own_pages_is_a_feed_switched_off(sandbox, sandbox_server):
    found = fetch_condition(sandbox_server, "redirect", {"location": "/"}, MONDAY_NIGHT)
    assert found.condition is Condition.FEED_OFF
    assert "a redirect to a page instead of its XML feed" in found.message


def test_a_503_outside_the_window_is_an_outage(sandbox, sandbox_server):
    found = fetch_condition(sandbox_server, "maintenance", {}, MONDAY_NIGHT)
    assert found.condition is Condition.OUTAGE and not found.expected


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (datetime(2026, 12, 8, 21, 59, 59, tzinfo=BERLIN), False),
        (datetime(2026, 12, 8, 22, 0, tzinfo=BERLIN), True),
        (datetime(2026, 12, 8, 23, 59, 59, tzinfo=BERLIN), True),
        (datetime(2026, 12, 9, 0, 0, tzinfo=BERLIN), False),
        (datetime(2026, 7, 14, 20, 30, tzinfo=UTC), True),  # 22:30 CEST
        (datetime(2026, 12, 8, 20, 30, tzinfo=UTC), False),  # 21:30 CET
        (MONDAY_NIGHT, False),
    ],
)
def test_the_maintenance_window_is_tuesday_night_in_berlin(moment, inside):
    assert in_maintenance(moment) is inside


@pytest.mark.parametrize(
    ("location", "condition"),
    [
        ("https://acme.jobs.personio.de/", Condition.FEED_OFF),  # its own career page
        ("https://www.personio.de/", Condition.FEED_OFF),  # Personio's homepage
        ("https://acme.jobs.personio.com/xml?language=en", Condition.MOVED),
        ("https://acme-new.jobs.personio.de/xml", Condition.MOVED),
    ],
)
def test_where_a_redirect_points_says_what_it_means(location, condition):
    error = FeedError("redirect", f"HTTP 301 to {location}", status=301, location=location)
    found = diagnose(error, "https://acme.jobs.personio.de/xml", MONDAY_NIGHT)
    assert found.condition is condition


# -- /readyz -------------------------------------------------------------------------------


def ready_app(make_app, catalogue_clock: float | None = None, **overrides: str):
    app = make_app(**overrides)
    catalogue = app.extensions["careers"].catalogue
    catalogue.wait_idle()
    if catalogue_clock is not None:
        catalogue.clock = lambda: catalogue_clock
    catalogue.refresh_all()
    return app


@pytest.mark.parametrize(("kind", "params", "condition", "words"), CONDITIONS[:3])
def test_readyz_names_the_condition(make_app, sandbox, kind, params, condition, words):
    sandbox.inject("feed", kind, **params)
    answer = ready_app(make_app).test_client().get("/readyz")
    assert answer.status_code == 503
    [first, _] = answer.get_json()["reasons"]
    assert first.startswith("feed en: no copy yet: ") and words in first


def test_readyz_notes_an_empty_board_and_stays_ready(make_app, sandbox):
    sandbox.inject("feed", "empty", language="de")
    answer = ready_app(make_app).test_client().get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json()["notes"] == [
        "feed de: the board is empty: Personio publishes no position in 'de' (none published,"
        " or the language is not switched on for the career page)"
    ]


def test_a_copy_that_ages_in_the_maintenance_window_keeps_the_site_ready(make_app, sandbox):
    app = ready_app(make_app)  # a good copy of both languages, confirmed now (a Sunday)
    sandbox.inject("feed", "maintenance")
    catalogue = app.extensions["careers"].catalogue
    # Days later, well past /readyz's limit, Personio answers 503 once more.
    for moment, status in ((TUESDAY_NIGHT, 200), (MONDAY_NIGHT, 503)):
        catalogue.clock = moment.timestamp
        catalogue.refresh_all()
        answer = app.test_client().get("/readyz")
        said = answer.get_json()
        assert answer.status_code == status, said
        if status == 200:
            assert "last confirmed" in said["notes"][0]
            assert "Personio's weekly maintenance" in said["notes"][0]
        else:
            assert "no usable answer from Personio" in said["reasons"][0]


# -- the operator alert --------------------------------------------------------------------


def alerts(app) -> list[dict]:
    """Run the monitor once; the alert params it queued."""
    services = app.extensions["careers"]
    services.mail_worker().monitor()
    queued = []
    while (mail := services.mail.claim_mail("test")) is not None:
        queued.append(mail.params)
        services.mail.mail_sent(mail.id)
    return queued


# The sample board lacks pay: its daily alert is tests/test_pay.py's, not these tests'.
HOOK = {"alert_webhook_url": "https://hooks.example/careers", "pay_transparency": "off"}


@pytest.mark.parametrize(("kind", "params", "condition", "words"), CONDITIONS[:3])
def test_the_alert_names_the_condition(make_app, sandbox, kind, params, condition, words):
    sandbox.inject("feed", kind, **params)
    app = ready_app(make_app, **HOOK)
    [alert] = alerts(app)
    assert alert["alert"] == AlertKind.FEED_DOWN and alert["condition"] == condition
    assert words in alert["last_error"]
    text = json.loads(webhook_body(AlertKind.FEED_DOWN, alert, "https://jobs.example"))["text"]
    assert "is failing" not in text  # its own headline, not the generic one


def test_maintenance_alerts_nobody_but_an_outage_does(make_app, sandbox):
    sandbox.inject("feed", "maintenance")
    app = ready_app(make_app, TUESDAY_NIGHT.timestamp(), **HOOK)
    assert alerts(app) == []
    app.extensions["careers"].catalogue.clock = lambda: MONDAY_NIGHT.timestamp()
    app.extensions["careers"].catalogue.refresh_all()
    [alert] = alerts(app)
    assert alert["condition"] == Condition.OUTAGE
    text = json.loads(webhook_body(AlertKind.FEED_DOWN, alert, "https://jobs.example"))["text"]
    assert "the Personio job feed is failing" in text


def test_an_empty_board_is_told_once(make_app, sandbox):
    sandbox.inject("feed", "empty", language="de")
    app = ready_app(make_app, **HOOK)
    [alert] = alerts(app)
    assert alert["alert"] == AlertKind.FEED_EMPTY and alert["language"] == "de"
    app.extensions["careers"].catalogue.refresh_all()
    assert alerts(app) == []  # the same empty board: not again


# -- careers check -------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "params", "condition", "words"), CONDITIONS[:3])
def test_check_fails_with_the_condition(runner, sandbox, env, kind, params, condition, words):  # noqa: F811
    sandbox.inject("feed", kind, language="en", **params)
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 1, result.output
    assert f"feed en: FAILED ({condition}) " in result.output and words in result.output


def test_check_warns_of_an_empty_board(runner, sandbox, env):  # noqa: F811
    sandbox.inject("feed", "empty", language="de")
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert "feed de: WARNING the board is empty" in result.output


def test_check_names_the_maintenance_window(runner, sandbox, sandbox_server, env, monkeypatch):  # noqa: F811
    store_copy(sandbox_server.url, Path(env["CAREERS_DATA_DIR"]), "en", age=600)
    sandbox.inject("feed", "maintenance", language="en")
    monkeypatch.setattr(diagnosis, "in_maintenance", lambda moment: True)
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "feed en: WARNING Personio's weekly maintenance (Tuesday 22:00-24:00 Berlin time):"
        " failures are expected until it ends (http_status: HTTP 503), serving the last good"
        " copy from 10 minutes ago (15 positions)"
    ) in result.output
