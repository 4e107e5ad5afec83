"""No attacker text in a company's mail, and fair limits on it (docs/mail.md#privacy-and-abuse).

Through the real flow: the list page's job-alert form, the mail store, the mail worker and a
real SMTP server on loopback (the sandbox's MailCatcher); parked applications through the
Personio sandbox. Whatever an attacker puts in a request must not arrive, from the
company's sender, at an address that never asked for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from careers.jobs import search
from careers.mail.store import MAX_FILTER_VALUES

from . import filegen
from .applying import deliverer_of, open_form, send, valid_fields
from .mailing import OPS, Harness, link, press_button, subscribe

PHISH = "Your account is locked: sign in at https://evil.example/login"
VICTIM = "victim@example.org"


def _board(harness: Harness) -> dict[str, frozenset[str]]:
    snapshot = harness.services.catalogue.snapshot("en")
    assert snapshot is not None
    return search.board_values(snapshot.positions)


def _all_mail(catcher) -> str:
    return "\n".join(m.message.as_string() for m in catcher.messages())


def test_a_made_up_facet_value_never_reaches_a_mail(harness, catcher, mail_app):
    client = mail_app.test_client()
    query = urlencode({"department": PHISH})
    assert subscribe(client, VICTIM, query=query).status_code == 303  # told what anyone is
    assert harness.drain() == []  # … and nothing was stored or queued
    assert catcher.messages() == []
    assert harness.mail.subscription_count() == {"confirmed": 0, "unconfirmed": 0}


def test_made_up_values_beside_real_ones_are_dropped(harness, catcher, mail_app):
    client = mail_app.test_client()
    query = urlencode([("department", "Engineering"), ("department", PHISH)])
    assert subscribe(client, VICTIM, query=query).status_code == 303
    assert harness.drain() == ["sent"]
    (confirmation,) = catcher.messages()
    assert "Department: Engineering" in confirmation.text
    assert "evil.example" not in confirmation.message.as_string()
    assert "locked" not in confirmation.message.as_string()


@pytest.mark.system
def test_nine_hundred_values_make_no_mail(harness, catcher, mail_app):
    """The 734 kB mail: 900 made-up offices. Too large a body now (413); shorter ones are
    refused as made up; even real values are capped."""
    client = mail_app.test_client()
    query = urlencode([("office", f"Office {n} {PHISH}") for n in range(900)])
    assert subscribe(client, VICTIM, query=query).status_code == 413
    query = urlencode([("office", f"o{n}") for n in range(900)])
    assert subscribe(client, VICTIM, query=query).status_code == 303
    assert harness.drain() == []
    assert harness.mail.subscription_count() == {"confirmed": 0, "unconfirmed": 0}
    board = _board(harness)
    real = [(name, v) for name, values in board.items() for v in sorted(values)]
    assert len(real) > 0
    too_many = (real * (MAX_FILTER_VALUES // len(real) + 2))[: MAX_FILTER_VALUES + 1]
    assert subscribe(client, VICTIM, query=urlencode(too_many)).status_code == 303
    assert harness.drain() == []
    assert harness.mail.subscription_count() == {"confirmed": 0, "unconfirmed": 0}
    assert catcher.messages() == []


def test_search_words_are_not_quoted_to_an_address_that_has_not_confirmed(
    harness, catcher, mail_app
):
    client = mail_app.test_client()
    query = urlencode({"department": "Engineering", "q": PHISH})
    assert subscribe(client, VICTIM, query=query).status_code == 303
    assert harness.drain() == ["sent"]
    (confirmation,) = catcher.messages()
    raw = confirmation.message.as_string()
    assert "evil.example" not in raw and "locked" not in raw
    assert "Your search words (shown when you confirm)" in confirmation.text
    # The person who opens the link sees what they are confirming, words included.
    page = client.get(link(confirmation, "/confirm").removeprefix("http://careers.test"))
    assert PHISH in page.get_data(as_text=True)


def test_sub_addresses_of_one_mailbox_share_its_daily_limit(harness, catcher, mail_app):
    """box+1@ … box+8@, each for another alert: one mailbox, at most 3 mails a day."""
    client = mail_app.test_client()
    board = _board(harness)
    alerts = [(name, v) for name, values in sorted(board.items()) for v in sorted(values)][:8]
    assert len(alerts) == 8
    for n, (name, value) in enumerate(alerts, start=1):
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n}"  # past the per-client limit
        answer = subscribe(client, f"box+{n}@example.org", query=urlencode({name: value}))
        assert answer.status_code == 303
    assert harness.drain() == ["sent"] * 3
    assert len(catcher.messages()) == 3


def _key_store_commits(harness: Harness) -> int:
    """SQLite's file change counter (header bytes 24–27) of the mail key store: one more for
    every committed write transaction (rollback journal mode)."""
    database = Path(harness.services.settings.database_url.removeprefix("sqlite:///"))
    keys = database.with_name(database.name.removesuffix(".db") + "-mail-keys.db")
    return int.from_bytes(keys.read_bytes()[24:28], "big")


def test_asking_for_an_alert_one_already_has_does_the_same_work(harness, catcher, mail_app):
    """A new subscription commits a key; asking again must cost the same commit, or the
    answer's time tells whether an address is subscribed. Counted, not timed."""
    client = mail_app.test_client()
    before = _key_store_commits(harness)
    assert subscribe(client, VICTIM).status_code == 303  # new: a key
    new = _key_store_commits(harness) - before
    assert harness.drain() == ["sent"]
    press_button(client, link(catcher.messages()[0], "/confirm"))
    for _ in range(3):  # confirmed already: suppressed, nothing queued
        before = _key_store_commits(harness)
        assert subscribe(client, VICTIM).status_code == 303
        assert _key_store_commits(harness) - before == new == 1
    assert harness.drain() == []
    assert harness.mail.subscription_count() == {"confirmed": 1, "unconfirmed": 0}


PERSONIO_REFUSAL = {
    "errors": [
        {
            "field": "email",
            "errors": [{"reason": "errors.attribute-validation.invalid-email-format"}],
        },
        {"id": "7a1", "status": "422", "title": "Unprocessable", "detail": PHISH},
        {"id": "7a2", "status": "422", "detail": "'Jürgen Müller' is not allowed here"},
    ]
}


def test_personio_free_text_never_reaches_an_operator(
    harness, sandbox, catcher, mail_app, tmp_path, clock
):
    """Only Personio's reason codes and field names are kept and sent on."""
    client = mail_app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    fields = valid_fields(open_form(client), email="juergen.mueller@example.com")
    assert send(client, fields, [("cv", cv, "cv.pdf")]).status_code == 303
    sandbox.inject(
        target="applications",
        kind="status",
        status=422,
        body=json.dumps(PERSONIO_REFUSAL),
        content_type="application/json",
    )
    with deliverer_of(mail_app, clock) as deliverer:
        assert deliverer.deliver_next() == "parked"
    (parked,) = harness.outbox.summaries("parked")
    assert parked.last_detail == "email: errors.attribute-validation.invalid-email-format"
    assert harness.drain() == ["sent"]
    (alert,) = catcher.messages()
    assert alert.rcpt_to == (OPS,)
    raw = alert.message.as_string()
    assert "errors.attribute-validation.invalid-email-format" in alert.text
    for text in ("evil.example", "locked", "Jürgen", "Müller", "not allowed"):
        assert text not in raw, text


@pytest.mark.parametrize(
    ("detail", "reasons", "kept"),
    [
        ("email: errors.x.y; " + PHISH, ["errors.x.y"], "email: errors.x.y"),
        ("", ["errors.job-position.not-published"], "errors.job-position.not-published"),
        ("Applicant Anna Berg already applied.", [], ""),
        ("Anna Berg: errors.x.y", ["errors.x.y"], "errors.x.y"),
        ("files[1].original_filename: errors.a.b", ["errors.a.b"], "files[1].original_filename: errors.a.b"),
    ],
)  # fmt: skip
def test_only_codes_and_field_names_are_kept(detail, reasons, kept):
    from careers.personio.recruiting import PermanentError

    assert (
        PermanentError("http_422", status=422, detail=detail, reasons=reasons).operator_detail
        == kept
    )
