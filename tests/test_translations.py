"""The German catalogue is complete, compiled, consistent, and what German pages show.

Fails when a UI string in careers/ or templates/ has no German translation: run
`scripts/translations.sh`, translate the new entries in
careers/translations/de/LC_MESSAGES/messages.po, and run the script again.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import lxml.html
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from . import filegen
from .applying import JOB, apply_env, open_form, send, valid_fields
from .i18n_checks import (
    CONTENT,
    PLACEHOLDER,
    TAG,
    english_left_over,
    entries,
    forms,
    ids,
    key,
    ui_text,
)

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "careers" / "translations"
DE_PO = CATALOGUES / "de" / "LC_MESSAGES" / "messages.po"
DE_MO = CATALOGUES / "de" / "LC_MESSAGES" / "messages.mo"
# The same keywords as scripts/translations.sh (Babel's defaults, which include `_`,
# `gettext` and `ngettext`, plus Flask-Babel's lazy forms).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
FIX = "run scripts/translations.sh and translate the new entries in " + str(DE_PO.relative_to(ROOT))


@pytest.fixture(scope="module")
def german() -> Catalog:
    with DE_PO.open("rb") as fh:
        return read_po(fh, locale="de")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    """What `pybabel extract -F babel.cfg` finds today, written to and read from a .pot."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    catalog = Catalog(project="careers")
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    with pot.open("wb") as fh:
        write_po(fh, catalog, omit_header=False)
    with pot.open("rb") as fh:
        return read_po(fh)


def test_extraction_finds_the_ui_strings(extracted):
    found = {key(m) for m in entries(extracted)}
    # One from each kind of source: a template, a gettext call, a lazy label, an ngettext.
    assert {"Open positions", "Page not found", "Cover letter", "%(num)s job"} <= found
    assert len(found) > 100


def test_every_ui_string_has_a_german_translation(extracted, german):
    missing, fuzzy, plural_mismatch = [], [], []
    for message in entries(extracted):
        translated = german.get(message.id, message.context)
        strings = forms(translated) if translated is not None else []
        if not strings or not all(s.strip() for s in strings):
            missing.append(key(message))
        elif translated.fuzzy:
            fuzzy.append(key(message))
        elif message.pluralizable and (
            not translated.pluralizable
            or translated.id != message.id
            or len(forms(translated)) != german.num_plurals
        ):
            plural_mismatch.append(key(message))
    assert not missing, f"untranslated in German ({FIX}): {missing}"
    assert not fuzzy, f"fuzzy German translations, check them and drop the flag: {fuzzy}"
    assert not plural_mismatch, f"German plural entries out of date ({FIX}): {plural_mismatch}"


def test_the_catalogue_has_no_fuzzy_or_empty_entries(german):
    assert german.num_plurals == 2
    bad = [key(m) for m in entries(german) if m.fuzzy or not all(s.strip() for s in forms(m))]
    assert not bad, f"fuzzy or empty in {DE_PO.name}: {bad}"


def test_compiled_catalogue_matches_the_po(german):
    """The app reads the .mo: it must hold exactly what the .po says (compile after editing)."""
    buffer = BytesIO()
    write_mo(buffer, german)
    buffer.seek(0)
    expected = read_mo(buffer)
    with DE_MO.open("rb") as fh:
        committed = read_mo(fh)

    def table(catalog: Catalog) -> dict:
        return {(ids(m), m.context): tuple(forms(m)) for m in entries(catalog)}

    want, have = table(expected), table(committed)
    stale = sorted(k[0][0] for k in set(want) | set(have) if want.get(k) != have.get(k))
    assert not stale, f"{DE_MO.name} is out of date, run scripts/translations.sh: {stale}"
    assert committed.plural_forms == expected.plural_forms


def test_placeholders_and_markup_survive_translation(german):
    problems = []
    for message in entries(german):
        sources = ids(message)
        wanted = {p for text in sources for p in PLACEHOLDER.findall(text)}
        tags = sorted(TAG.findall(sources[0]))
        for form in forms(message):
            if not form:
                continue
            got = set(PLACEHOLDER.findall(form))
            if got != wanted:
                problems.append(f"{key(message)!r}: placeholders {sorted(got)} != {sorted(wanted)}")
            if sorted(TAG.findall(form)) != tags:
                problems.append(f"{key(message)!r}: HTML {TAG.findall(form)} != {tags}")
    assert not problems, "\n".join(problems)


# --- German pages --------------------------------------------------------------------------


def assert_german(response, german: Catalog, *expected: str, absent: tuple[str, ...] = ()):
    html = response.get_data(as_text=True)
    assert '<html lang="de"' in html
    text = ui_text(html)
    missing = [s for s in expected if s not in text]
    assert not missing, f"German text missing from {response.request.path}: {missing}"
    for content in CONTENT:
        text = text.replace(content, " ")
    english = english_left_over(text, german) + [s for s in absent if s in text]
    assert not english, f"English UI text on {response.request.path}: {english}"
    return text


def test_job_list_in_german(client, sandbox, german):
    response = client.get("/de/jobs")
    assert response.status_code == 200
    assert_german(
        response,
        german,
        "Offene Stellen · Nordlicht Robotics",
        "offene Stellen bei Nordlicht Robotics",
        "Zum Inhalt springen",
        "Stellen suchen und filtern",
        "Titel, Fähigkeit oder Stichwort",
        "Sortieren nach",
        "Neueste zuerst",
        "Stellen anzeigen",
        "Anstellungsart",
        "Stellen-Feed (Atom)",
        absent=("Open positions", "Sort by", "Show jobs", "Skip to content", "Job feed"),
    )


def test_empty_search_in_german(client, sandbox, german):
    response = client.get("/de/jobs", query_string={"q": "xyzzy"})
    assert_german(
        response,
        german,
        "0 Stellen gefunden",
        "0 Stellen für „xyzzy“",
        "Keine Stelle passt zu deiner Suche.",
        "Probier andere Suchbegriffe oder weniger Filter.",
        "Zurücksetzen",
        absent=("No jobs match", "jobs found", "for “xyzzy”"),
    )


def test_job_page_in_german(client, sandbox, german):
    response = client.get(f"/de/jobs/{JOB}", follow_redirects=True)
    assert response.status_code == 200
    assert_german(
        response,
        german,
        "Alle offenen Stellen",
        "Details zur Stelle",
        "Standort",
        "Jetzt bewerben",
        absent=("Apply now", "All open positions", "Job details"),
    )


@pytest.fixture
def apply_client(make_app, sandbox, sandbox_server, tmp_path):
    return make_app(**apply_env(sandbox_server.url, tmp_path)).test_client()


def test_application_form_in_german(apply_client, german):
    response = apply_client.get(f"/de/jobs/{JOB}/apply")
    assert response.status_code == 200
    text = assert_german(
        response,
        german,
        "Bewerbung: ",
        "Bewerben",
        "Über dich",
        "Vorname",
        "Nachname",
        "E-Mail",
        "Telefon (optional)",
        "Geburtsdatum",
        "Bitte auswählen",
        "Keine Angabe",
        "Unterlagen",
        "Lebenslauf",
        "Anschreiben",
        "Das Ausfüllen dauert etwa 3 Minuten.",
        "„{name}“ ist größer als 20 MB.",
        "Deine Bewerbung wird gesendet…",
        "Bewerbung absenden",
        "Ich habe die Datenschutzerklärung gelesen und bin damit einverstanden",
        absent=("About you", "First name", "Send application", "privacy policy", "takes about"),
    )
    assert "Wie hast du von uns erfahren?" in text  # the form file's own German label
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    [link] = doc.xpath("//label[@for='field-consent']/a")
    assert link.text == "Datenschutzerklärung"
    assert link.get("href") == "https://nordlicht.example/privacy"
    assert link.get("target") == "_blank" and link.get("rel") == "noopener"


def test_form_errors_in_german(apply_client, german):
    token = open_form(apply_client, lang="de")
    response = send(apply_client, valid_fields(token, first_name="", phone="call me"), lang="de")
    assert response.status_code == 422
    assert_german(
        response,
        german,
        "Bei deiner Bewerbung gibt es 3 Probleme",
        "Vorname: Bitte fülle dieses Feld aus.",
        "Telefon: Bitte gib eine Telefonnummer",
        "Lebenslauf: Bitte hänge dieses Dokument an.",
        absent=("problems with your application", "Please fill in this field."),
    )


def test_receipt_in_german(apply_client, german, tmp_path):
    token = open_form(apply_client, lang="de")
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    response = send(apply_client, valid_fields(token), [("cv", cv, "Lebenslauf.pdf")], lang="de")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/de/applications/")
    receipt = apply_client.get(response.headers["Location"])
    assert receipt.status_code == 200
    text = assert_german(receipt, german, "Deine Bewerbung", "Stelle", "Eingegangen")
    assert "Danke!" in text or "genauer ansehen" in text


def test_too_large_page_in_german(apply_client, german, tmp_path):
    from careers.applications.rules import LIMITS

    token = open_form(apply_client, lang="de")
    cv = filegen.make_sized(tmp_path / "cv.pdf", LIMITS.file_bytes + 1)
    response = send(apply_client, valid_fields(token), [("cv", cv, "cv.pdf")], lang="de")
    assert response.status_code == 413
    assert_german(
        response,
        german,
        "Bewerbung zu groß",
        "Deine Bewerbung ist zu groß",
        "Eine deiner Dateien ist größer als 20 MB.",
        "Zurück zum Formular",
        absent=("Application too large", "Back to the form"),
    )


def test_not_found_in_german(client, sandbox, german):
    response = client.get("/de/jobs/424242")
    assert response.status_code == 404
    assert_german(
        response,
        german,
        "Seite nicht gefunden",
        "Wir konnten diese Seite nicht finden.",
        "Alle offenen Stellen ansehen",
        absent=("Page not found", "We could not find"),
    )
