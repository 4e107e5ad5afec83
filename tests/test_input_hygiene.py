"""Input hygiene: invisible characters, email addresses and file names (docs/security.md,
"Text fields, emails and file names")."""

from __future__ import annotations

import unicodedata
from datetime import date

import lxml.html
import pytest

from careers.applications.files import clean_filename
from careers.applications.form import ExtraField, FormSchema
from careers.applications.intake import Invalid, intake
from careers.applications.model import Application
from careers.applications.rules import FieldProblem
from careers.applications.upload import Submission
from careers.forms.email import normalize_email
from careers.forms.text import clean_text, strip_invisible

from . import filegen
from .applying import apply_env, open_form, send, valid_fields

ZWSP, ZWNJ, ZWJ, LRM, RLM, RLO, WJ, BOM = (
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202e",
    "\u2060",
    "\ufeff",
)

# --- text fields ------------------------------------------------------------------------------

ONE_LINE = [
    (f"Jü{ZWSP}rgen", "Jürgen"),
    (f"{BOM}Anna", "Anna"),
    (f"Anna{WJ}-Lena", "Anna-Lena"),
    (f"Mü{ZWJ}ller", "Müller"),  # a joiner inside a Latin name means nothing
    (f"{ZWNJ}Zoë{ZWNJ}", "Zoë"),
    (f"{RLO}nnA", "nnA"),  # the override goes: the name reads as it is stored
    ("\u2066Anna\u2069", "Anna"),  # isolates
    ("\u202aAnna\u202c", "Anna"),  # embedding and pop
    (f"Anna{LRM}{RLM}\u061c", "Anna"),  # marks, Arabic letter mark
    ("Mo\u00adritz", "Moritz"),  # soft hyphen
    ("Anna\U000e0041\U000e007f", "Anna"),  # tag characters
    ("An\x9bna\x85Lena", "Anna Lena"),  # C1 controls: CSI goes, NEL is a line break
    ("\u3164", ""),  # Hangul filler: looks filled in, is empty
    ("Mu\u0308ller", "Müller"),  # NFC
    (f"Mu{ZWSP}\u0308ller", "Müller"),  # composes once the space between is gone
    ("  Anna \t\n Lena\u00a0 ", "Anna Lena"),
    ("\u2028Anna\u2029", "Anna"),
    # What scripts need stays.
    (f"علی{ZWNJ}زاده", f"علی{ZWNJ}زاده"),  # Persian half space (Alizadeh)
    (f"مُ{ZWNJ}حمد", f"مُ{ZWNJ}حمد"),  # with a vowel mark before it
    (f"क्{ZWJ}ष", f"क्{ZWJ}ष"),  # Devanagari half form
    (f"क्{ZWNJ}ष", f"क्{ZWNJ}ष"),  # no conjunct
    (f"ශ්{ZWJ}රී", f"ශ්{ZWJ}රී"),  # Sinhala rakaransaya
    (f"علی{ZWNJ}{ZWNJ}زاده", f"علی{ZWNJ}زاده"),  # but never two in a row
    (f"علی{ZWNJ}", "علی"),  # nor at an end
    (f"क्{ZWJ}", "क्"),
    (f"Ali{ZWNJ}zadeh", "Alizadeh"),
    (
        "Anna \U0001f469\u200d\U0001f4bb",
        "Anna \U0001f469\u200d\U0001f4bb",
    ),  # one emoji: woman technologist
]


@pytest.mark.parametrize(("raw", "clean"), ONE_LINE)
def test_one_line_fields_lose_invisible_characters(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    assert clean_text(clean) == clean  # idempotent


MULTILINE = [
    (f"Hallo{ZWSP}!\r\nBis bald", "Hallo!\nBis bald"),
    (f"{RLO}Hallo\rBis bald{BOM}", "Hallo\nBis bald"),
    ("Hallo\u2028Bis\u2029bald", "Hallo\nBis\nbald"),
    ("Hallo\x85\tBis\x00\x1b[2J bald\x7f", "Hallo\n\tBis[2J bald"),
    ("\n\n  Hallo  \n\n", "Hallo"),
]


@pytest.mark.parametrize(("raw", "clean"), MULTILINE)
def test_the_message_keeps_lines_and_loses_invisible_characters(raw: str, clean: str) -> None:
    assert clean_text(raw, multiline=True) == clean


def test_no_format_character_but_the_contextual_joiners_survives() -> None:
    """Every Cf character of this Python's Unicode goes between Latin letters."""
    for code in range(0x110000):
        c = chr(code)
        if unicodedata.category(c) == "Cf":
            assert strip_invisible(f"a{c}b") == clean_text(f"a{c}b") == "ab", hex(code)
            assert clean_filename(f"a{c}b.pdf") == "ab.pdf", hex(code)


# --- email addresses --------------------------------------------------------------------------

ACCEPTED = [
    ("juergen.mueller@example.com", "juergen.mueller@example.com"),
    ("Juergen.Mueller@Example.COM", "Juergen.Mueller@example.com"),  # local part's case kept
    ("anna+jobs@sub.example.org", "anna+jobs@sub.example.org"),
    ("  anna@example.com ", "anna@example.com"),
    (f"anna{ZWSP}@example.com", "anna@example.com"),  # pasted from a chat
    (f"{BOM}anna@example.com", "anna@example.com"),
    ("anna@müller.de", "anna@xn--mller-kva.de"),  # IDN: stored as IDNA
    ("anna@XN--MLLER-KVA.de", "anna@xn--mller-kva.de"),
    ("anna@ＥＸＡＭＰＬＥ.com", "anna@example.com"),  # full-width domain
    ("o'brien@example.ie", "o'brien@example.ie"),
]


@pytest.mark.parametrize(("raw", "stored"), ACCEPTED)
def test_valid_emails_are_stored_normalized(raw: str, stored: str) -> None:
    assert normalize_email(raw) == stored


REFUSED = [
    "a" * 250 + "@x.de",  # local part over 64 characters (255 in all: not "too long")
    "a" * 65 + "@example.com",  # RFC 5321's 64, which email-validator 2.3+ no longer checks
    "a@b_c.de",
    "a@[127.0.0.1]",
    "a@[IPv6:::1]",
    "<svg/onload=alert(1)>@x.de",
    '"anna maria"@example.com',  # quoted local part
    "Anna <anna@example.com>",  # display name
    "anna@example",
    "anna@localhost",
    "anna@example.test",
    "anna@printer.local",
    "anna..maria@example.com",
    ".anna@example.com",
    "anna@example.com.",
    "anna@-example.com",
    "anna@@example.com",
    "anna@example..com",
    "anna@123.123.123.123",
    "jürgen@müller.de",  # non-ASCII local part: SMTPUTF8, not taken (see normalize_email)
    f"anna{RLO}@example.com",  # bidi controls are refused, not stripped
    f"moc.elpmaxe@anna{RLO}",
    f"anna@example.com{LRM}",
    "\u2066anna@example.com\u2069",
    "",
]


@pytest.mark.parametrize("raw", REFUSED)
def test_invalid_emails_are_refused(raw: str) -> None:
    assert normalize_email(raw) is None


def _intake(**fields: str) -> Application | Invalid:
    schema = FormSchema(
        system={"phone": "optional", "message": "optional"},
        fields=(ExtraField("custom_attribute_7", "text", False, {"en": "Portfolio"}),),
        documents={"cv": "optional"},
    )
    sent = {
        "first_name": "Anna",
        "last_name": "Schmidt",
        "email": "anna@example.com",
        "consent": "yes",
        **fields,
    }
    return intake(
        Submission({k: [v] for k, v in sent.items()}),
        schema,
        position_id=1,
        language="en",
        allowed_extensions=("pdf",),
        today=date(2025, 1, 1),
    )


def test_intake_cleans_every_text_field() -> None:
    application = _intake(
        first_name=f"{RLO}An{ZWSP}na",
        last_name=f"Schmi{ZWJ}dt{BOM}",
        email=f"Anna{WJ}@Example.COM",
        phone=f"+49 40{ZWSP} 123",
        custom_attribute_7=f"https://anna{ZWSP}.example{RLO}",
        message=f"Hallo{ZWSP}\r\n{RLO}Anna",
    )
    assert isinstance(application, Application)
    assert (application.first_name, application.last_name) == ("Anna", "Schmidt")
    assert application.email == "Anna@example.com"
    assert application.message == "Hallo\nAnna"
    assert {a.id: a.value for a in application.attributes} == {
        "phone": "+49 40 123",
        "custom_attribute_7": "https://anna.example",
    }


@pytest.mark.parametrize(
    "email", ["a" * 250 + "@x.de", "a@b_c.de", "a@[127.0.0.1]", "<svg/onload=alert(1)>@x.de"]
)
def test_intake_refuses_bad_emails_with_the_email_code(email: str) -> None:
    invalid = _intake(email=email)
    assert isinstance(invalid, Invalid)
    assert invalid.errors == {"email": FieldProblem.EMAIL}
    assert invalid.values["email"] == email  # kept for the candidate to fix


def test_intake_keeps_a_bidi_email_without_its_controls_to_show_again() -> None:
    invalid = _intake(email=f"anna@example.com{RLO}")
    assert isinstance(invalid, Invalid)
    assert invalid.errors == {"email": FieldProblem.EMAIL}
    assert invalid.values["email"] == "anna@example.com"


# --- file names -------------------------------------------------------------------------------

FILE_NAMES = [
    ("CON.pdf", "_CON.pdf"),
    ("con.PDF", "_con.PDF"),
    ("COM1.pdf", "_COM1.pdf"),
    ("com0.pdf", "_com0.pdf"),
    ("LPT9.docx", "_LPT9.docx"),
    ("LPT¹.docx", "_LPT¹.docx"),  # Windows counts superscript digits too
    ("NUL", "_NUL"),
    ("AUX.txt", "_AUX.txt"),
    ("prn.tar.gz", "_prn.tar.gz"),  # what precedes the first dot decides
    ("CON .pdf", "_CON.pdf"),
    ("CON. .pdf", "_CON.pdf"),
    ("CON .tar.gz", "_CON .tar.gz"),
    ("CON.", "_CON"),
    ("conin$.txt", "_conin$.txt"),
    (".CON.pdf", "_CON.pdf"),
    (f"CO{ZWSP}N.pdf", "_CON.pdf"),  # invisible characters cannot hide a device name
    ("../NUL.pdf", "_NUL.pdf"),
    ("CONSOLE.pdf", "CONSOLE.pdf"),
    ("COM10.pdf", "COM10.pdf"),
    ("Lebenslauf CON.pdf", "Lebenslauf CON.pdf"),
    ("_CON.pdf", "_CON.pdf"),
    (f"علی{ZWNJ}زاده.pdf", f"علی{ZWNJ}زاده.pdf"),  # the same joiner rule as text fields
    (f"क्{ZWJ}ष.pdf", f"क्{ZWJ}ष.pdf"),
    (f"cv{ZWJ}.pdf", "cv.pdf"),
    ("cv\ue000.pdf", "cv.pdf"),  # private use: never shown
    ("a" * 1000 + ".pdf", "a" * 116 + ".pdf"),
    ("a" * 1000, "a" * 120),
    ("CON." + "a" * 1000 + ".pdf", "_CON." + "a" * 111 + ".pdf"),
    ("ü" * 1000 + ".docx", "ü" * 115 + ".docx"),
]


@pytest.mark.parametrize(("raw", "clean"), FILE_NAMES)
def test_file_names_are_safe_on_windows_and_bounded(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean
    assert clean_filename(clean) == clean  # idempotent


# --- end to end -------------------------------------------------------------------------------


@pytest.fixture
def app(make_app, sandbox_server, tmp_path):
    return make_app(**apply_env(sandbox_server.url, tmp_path))


@pytest.fixture
def cv(tmp_path):
    return filegen.make_pdf(tmp_path / "cv.pdf")


def _errors(response) -> list[str]:
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    return [a.get("href") for a in doc.xpath("//*[@id='error-summary']//a")]


def _claim(app):
    job = app.extensions["careers"].outbox.claim("test:1:x", 60)
    assert job is not None
    return job


@pytest.mark.parametrize(
    "email",
    [
        f"juergen.mueller@example.com{RLO}",
        f"{RLO}moc.elpmaxe@rellueum.negreuj",
        "juergen\u2066.mueller@example.com",
    ],
)
def test_an_email_with_bidi_controls_is_refused(app, client, sandbox, cv, email):
    response = send(client, valid_fields(open_form(client), email=email), [("cv", cv, "cv.pdf")])
    assert response.status_code == 422
    assert _errors(response) == ["#field-email"]
    page = response.get_data(as_text=True)
    assert RLO not in page and "\u2066" not in page  # shown again without the controls
    assert 'value="Müller"' in page  # the rest of the form is kept
    assert app.extensions["careers"].outbox.summaries() == []
    assert sandbox.received_applications == []


def test_a_name_with_zero_width_characters_is_stored_without_them(app, client, sandbox, cv):
    fields = valid_fields(
        open_form(client),
        first_name=f"{BOM}Jü{ZWSP}rgen{ZWJ}",
        last_name=f"Mü{WJ}ller{RLO}",
        email=f"Juergen.Mueller{ZWSP}@Example.COM",
        message=f"Hallo{ZWSP}!\r\nBis bald{RLO}",
    )
    response = send(client, fields, [("cv", cv, f"Lebens{ZWSP}lauf{RLO}.pdf")])
    assert response.status_code == 303, _errors(response)
    job = _claim(app)
    application = job.application
    assert (application.first_name, application.last_name) == ("Jürgen", "Müller")
    assert application.email == "Juergen.Mueller@example.com"
    assert application.message == "Hallo!\nBis bald"
    assert [d.filename for d in job.documents] == ["Lebenslauf.pdf"]


def test_a_device_name_is_stored_safe_for_windows(app, client, sandbox, cv):
    response = send(client, valid_fields(open_form(client)), [("cv", cv, "CON .pdf")])
    assert response.status_code == 303, _errors(response)
    assert [d.filename for d in _claim(app).documents] == ["_CON.pdf"]
