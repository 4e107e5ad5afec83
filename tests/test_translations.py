"""The German catalogue is complete, compiled, consistent, and what German pages show; every
language's informal catalogue covers what speaks to the reader (CAREERS_ADDRESS).

Fails when a UI string in careers/ or templates/ has no German translation: run
`scripts/translations.sh`, translate the new entries in
careers/translations/de/LC_MESSAGES/messages.po, and run the script again. Fails, naming
the msgid and the catalogue, when a string that speaks to the reader has no informal entry
in careers/translations/<lang>/LC_MESSAGES/informal.po, or when either catalogue uses the
other form of address (docs/languages.md).
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

from careers.sandbox.sample_data import sample_feeds

from . import filegen
from .applying import JOB, Clock, apply_env, open_form, send, valid_fields
from .i18n_checks import (
    CONTENT,
    PLACEHOLDER,
    TAG,
    address_word,
    effective,
    english_left_over,
    entries,
    forms,
    ids,
    key,
    needs_informal,
    ui_text,
)
from .mailing import SENDER, SITE, Harness, subscribe

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "careers" / "translations"
DE_PO = CATALOGUES / "de" / "LC_MESSAGES" / "messages.po"
DE_MO = CATALOGUES / "de" / "LC_MESSAGES" / "messages.mo"
# Every language with a catalogue; English, the source, reads the same in both addresses.
LANGUAGES = ("de", "es", "fr", "it", "nl", "pt")
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


# --- both forms of address: messages.po is formal, informal.po holds what differs ----------


def po_path(lang: str, domain: str) -> Path:
    return CATALOGUES / lang / "LC_MESSAGES" / f"{domain}.po"


def read_catalogue(lang: str, domain: str) -> Catalog:
    with po_path(lang, domain).open("rb") as fh:
        return read_po(fh, locale=lang, domain=domain)


def where(lang: str, domain: str) -> str:
    return str(po_path(lang, domain).relative_to(ROOT))


@pytest.fixture(scope="module")
def template() -> Catalog:
    with (CATALOGUES / "messages.pot").open("rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_that_speaks_to_the_reader_has_an_informal_entry(lang, template, german):
    informal = read_catalogue(lang, "informal")
    missing, empty, fuzzy = [], [], []
    for message in entries(template):
        if not needs_informal(german.get(message.id)):
            continue
        entry = informal.get(message.id)
        if entry is None:
            missing.append(key(message))
        elif not all(s.strip() for s in forms(entry)):
            empty.append(key(message))
        elif entry.fuzzy:
            fuzzy.append(key(message))
    fix = (
        f"write the informal wording in {where(lang, 'informal')} (copy the entry from "
        "messages.po; keep the formal text where the language reads the same either way), "
        "then run scripts/translations.sh"
    )
    assert not missing, f"missing in {where(lang, 'informal')} ({fix}): {missing}"
    assert not empty, f"untranslated in {where(lang, 'informal')} ({fix}): {empty}"
    assert not fuzzy, f"fuzzy in {where(lang, 'informal')}, check and drop the flag: {fuzzy}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_informal_catalogue_holds_only_current_complete_entries(lang, template):
    informal = read_catalogue(lang, "informal")
    assert informal.num_plurals == read_catalogue(lang, "messages").num_plurals
    obsolete = [key(m) for m in entries(informal) if template.get(m.id) is None]
    assert not obsolete, (
        f"no longer extracted, run scripts/translations.sh to drop them from "
        f"{where(lang, 'informal')}: {obsolete}"
    )
    problems = []
    for message in entries(informal):
        source = template.get(message.id)
        if source.pluralizable and (
            not message.pluralizable or len(forms(message)) != informal.num_plurals
        ):
            problems.append(f"{key(message)!r}: plural forms out of date")
        wanted = {p for text in ids(source) for p in PLACEHOLDER.findall(text)}
        for form in forms(message):
            got = set(PLACEHOLDER.findall(form))
            # A singular form may leave the count out ("une minute"); nothing else may go.
            if got - wanted or wanted - got - {"%(num)s"}:
                problems.append(f"{key(message)!r}: placeholders {sorted(got)} != {sorted(wanted)}")
            if sorted(TAG.findall(form)) != sorted(TAG.findall(ids(source)[0])):
                problems.append(f"{key(message)!r}: HTML differs from the msgid")
    assert not problems, f"{where(lang, 'informal')}:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_informal_catalogue_is_compiled(lang):
    informal = read_catalogue(lang, "informal")
    buffer = BytesIO()
    write_mo(buffer, informal)
    buffer.seek(0)
    expected = read_mo(buffer)
    with (CATALOGUES / lang / "LC_MESSAGES" / "informal.mo").open("rb") as fh:
        committed = read_mo(fh)

    def table(catalog: Catalog) -> dict:
        return {ids(m): tuple(forms(m)) for m in entries(catalog)}

    assert table(committed) == table(expected), (
        f"{lang} informal.mo is out of date, run scripts/translations.sh"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_catalogue_keeps_to_its_form_of_address(lang):
    """Formal pages say "Sie"/"u"/"vous" and never "du"/"jij"/"tu"; informal ones the
    reverse, counting the formal entries an informal page falls back to."""
    formal = read_catalogue(lang, "messages")
    informal = read_catalogue(lang, "informal")
    problems = []
    for catalog, address, other, fix in (
        (effective(formal, None), "formal", "informal", where(lang, "messages")),
        (effective(formal, informal), "informal", "formal", where(lang, "informal")),
    ):
        for msgid, texts in catalog.items():
            for text in texts:
                if word := address_word(lang, other, text):
                    problems.append(
                        f"{address} {lang} reads {word!r} ({other}) for {msgid!r}: fix it in {fix}"
                    )
    assert not problems, "\n".join(problems)


def test_the_address_checks_tell_the_forms_apart():
    """The word lists catch what they are for, and leave "sie" (she, they) alone."""
    assert address_word("de", "formal", "Bitte prüfen Sie Ihre Angaben.") == "Sie"
    assert address_word("de", "formal", "Vielleicht wurde sie verschoben.") is None
    assert address_word("de", "informal", "Bitte prüfe deine Angaben.") == "deine"
    assert address_word("de", "informal", "Dieser Link ist nicht mehr gültig") is None
    assert address_word("nl", "informal", "Controleer je gegevens.") == "je"
    assert address_word("nl", "formal", "Controleer uw gegevens.") == "uw"
    assert address_word("fr", "formal", "Consultez la liste chez nous.") == "Consultez"
    assert address_word("fr", "formal", "Un poste chez %(company)s") is None
    assert address_word("fr", "informal", "Qui t’a recommandé ?") == "t’"
    assert address_word("it", "formal", "La Sua candidatura") == "Sua"
    assert address_word("it", "formal", "Ha visto la sua casa?") is None
    assert address_word("pt", "informal", "Candidata-te já.") == "te"
    assert needs_informal(german_message("Bitte prüfen Sie dieses Feld."))
    assert not needs_informal(german_message("Stellen suchen und filtern"))


def german_message(text: str):
    from babel.messages.catalog import Message

    return Message("x", text)


# --- German pages --------------------------------------------------------------------------


# The sample form file's own German label (tests/applying.py): the company's words, not ours.
FORM_FILE_LABEL = "Wie hast du von uns erfahren?"


def assert_german(
    response,
    german: Catalog,
    *expected: str,
    absent: tuple[str, ...] = (),
    address: str | None = "formal",
):
    """German UI text, no English left, and only the configured form of address (None:
    the page shows a job's own text, which speaks as the company chose)."""
    html = response.get_data(as_text=True)
    assert '<html lang="de"' in html
    text = ui_text(html)
    missing = [s for s in expected if s not in text]
    assert not missing, f"German text missing from {response.request.path}: {missing}"
    for content in (*CONTENT, FORM_FILE_LABEL):
        text = text.replace(content, " ")
    english = english_left_over(text, german) + [s for s in absent if s in text]
    assert not english, f"English UI text on {response.request.path}: {english}"
    if address is None:
        return text
    other = "informal" if address == "formal" else "formal"
    word = address_word("de", other, text)
    assert word is None, f"{other} {word!r} on a {address} page {response.request.path}: {text}"
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
        "Keine Stelle passt zu Ihrer Suche.",
        "Probieren Sie andere Suchbegriffe oder weniger Filter.",
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
        address=None,
    )


@pytest.fixture
def apply_client(make_app, sandbox, sandbox_server, tmp_path):
    return make_app(**apply_env(sandbox_server.url, tmp_path)).test_client()


def test_application_form_in_german(apply_client, german):
    response = apply_client.get(f"/de/jobs/{JOB}/apply")
    assert response.status_code == 200
    assert_german(
        response,
        german,
        "Bewerbung: ",
        "Bewerben",
        "Über Sie",
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
        "Ihre Bewerbung wird gesendet…",
        "Bewerbung absenden",
        "Ich habe die Datenschutzerklärung gelesen und bin damit einverstanden",
        absent=("About you", "First name", "Send application", "privacy policy", "takes about"),
    )
    assert FORM_FILE_LABEL in ui_text(response.get_data(as_text=True))  # the form file's own
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
        "Bei Ihrer Bewerbung gibt es 3 Probleme",
        "Vorname: Bitte füllen Sie dieses Feld aus.",
        "Telefon: Bitte geben Sie eine Telefonnummer",
        "Lebenslauf: Bitte hängen Sie dieses Dokument an.",
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
    text = assert_german(receipt, german, "Ihre Bewerbung", "Stelle", "Eingegangen")
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
        "Ihre Bewerbung ist zu groß",
        "Eine Ihrer Dateien ist größer als 20 MB.",
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


# --- German pages and mail with CAREERS_ADDRESS=informal ---------------------------------


@pytest.fixture
def informal_client(make_app, sandbox, sandbox_server, tmp_path):
    return make_app(**apply_env(sandbox_server.url, tmp_path), address="informal").test_client()


def test_empty_search_says_du_when_informal(informal_client, german):
    response = informal_client.get("/de/jobs", query_string={"q": "xyzzy"})
    assert_german(
        response,
        german,
        "0 Stellen gefunden",
        "Keine Stelle passt zu deiner Suche.",
        "Probier andere Suchbegriffe oder weniger Filter.",
        absent=("Ihrer Suche",),
        address="informal",
    )


def test_application_form_and_errors_say_du_when_informal(informal_client, german):
    form = informal_client.get(f"/de/jobs/{JOB}/apply")
    assert form.status_code == 200
    assert_german(
        form,
        german,
        "Über dich",
        "Deine Bewerbung wird gesendet…",
        "Bewerbung absenden",  # the same in both: from the formal catalogue
        absent=("Über Sie",),
        address="informal",
    )
    token = open_form(informal_client, lang="de")
    response = send(informal_client, valid_fields(token, first_name="", phone="call me"), lang="de")
    assert response.status_code == 422
    assert_german(
        response,
        german,
        "Bei deiner Bewerbung gibt es 3 Probleme",
        "Vorname: Bitte fülle dieses Feld aus.",
        "Telefon: Bitte gib eine Telefonnummer",
        "Lebenslauf: Bitte hänge dieses Dokument an.",
        address="informal",
    )


def test_receipt_says_du_when_informal(informal_client, german, tmp_path):
    token = open_form(informal_client, lang="de")
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    response = send(informal_client, valid_fields(token), [("cv", cv, "Lebenslauf.pdf")], lang="de")
    assert response.status_code == 303
    receipt = informal_client.get(response.headers["Location"])
    assert_german(receipt, german, "Deine Bewerbung", "Eingegangen", address="informal")


def test_other_languages_switch_their_address_too(make_app, sandbox, sandbox_server, tmp_path):
    """nl "u"/"je", fr "vous"/"tu", es, it and pt: the empty search's words change."""
    english = sample_feeds()["en"]
    for lang in ("fr", "es", "nl", "it", "pt"):
        sandbox.set_positions(lang, english)
    env = {**apply_env(sandbox_server.url, tmp_path), "languages": "en,de,fr,es,nl,it,pt"}
    formal = make_app(**env, data_dir=tmp_path / "formal").test_client()
    informal = make_app(**env, data_dir=tmp_path / "informal", address="informal").test_client()
    expected = {
        "nl": ("uw zoekopdracht", "je zoekopdracht"),
        "fr": ("votre recherche", "ta recherche"),
        "es": ("su búsqueda", "tu búsqueda"),
        "it": ("Sua ricerca", "tua ricerca"),
        "pt": ("à sua pesquisa", "à tua pesquisa"),
    }
    for lang, (polite, familiar) in expected.items():
        pages = {}
        for address, client in (("formal", formal), ("informal", informal)):
            response = client.get(f"/{lang}/jobs", query_string={"q": "xyzzy"})
            assert response.status_code == 200
            pages[address] = ui_text(response.get_data(as_text=True))
        assert polite in pages["formal"] and familiar not in pages["formal"], lang
        assert familiar in pages["informal"] and polite not in pages["informal"], lang


def alert_mail(make_app, sandbox_server, tmp_path, catcher, address: str):
    """Ask for a German job alert on the site; the page that answers and the mail sent."""
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        smtp_url=catcher.smtp_url,
        mail_from=SENDER,
        public_url=SITE,
        pay_transparency="off",  # the sample board lacks pay: tests/test_pay.py
        address=address,
    )
    harness = Harness(app, Clock())
    try:
        client = app.test_client()
        answer = subscribe(client, "lena@example.com", lang="de")
        assert answer.status_code == 303
        page = client.get(answer.headers["Location"])
        assert harness.drain() == ["sent"]
    finally:
        harness.close()
    [mail] = catcher.messages()
    return page, mail


def test_the_job_alert_mail_says_sie_by_default(
    make_app, sandbox_server, tmp_path, catcher, german
):
    page, mail = alert_mail(make_app, sandbox_server, tmp_path, catcher, "formal")
    assert_german(page, german, "Sehen Sie in Ihrem Postfach nach", address="formal")
    assert mail.subject == "Bestätigen Sie Ihren Job-Alert"
    for part in (mail.text, ui_text(mail.html)):
        assert "Wenn Sie das nicht angefordert haben" in part or "Erst wenn Sie" in part
        assert address_word("de", "informal", part) is None, part


def test_the_job_alert_mail_says_du_when_informal(
    make_app, sandbox_server, tmp_path, catcher, german
):
    page, mail = alert_mail(make_app, sandbox_server, tmp_path, catcher, "informal")
    assert_german(page, german, "Schau in dein Postfach", address="informal")
    assert mail.subject == "Bestätige deinen Job-Alert"
    for part in (mail.text, ui_text(mail.html)):
        assert "Wenn du das nicht angefordert hast" in part or "Erst wenn du" in part
        assert address_word("de", "formal", part) is None, part
