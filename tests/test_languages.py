"""Every Personio language: complete catalogues, and no English left in the pages.

With CAREERS_LANGUAGES=en,de,fr,es,nl,it,pt, each of fr, es, nl, it and pt gets its own UI:
list, search, job page, application form with errors, receipt, 404, 413 and 429 pages, the
widget and the Atom feed — with no English UI string on them (job texts are the company's
own words from the feed and are not judged).
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import lxml.html
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from careers.sandbox.sample_data import sample_feeds

from . import filegen
from .applying import JOB, apply_env, open_form, send, valid_fields
from .i18n_checks import CONTENT, PLACEHOLDER, english_left_over, entries, forms, ids, key, ui_text

CATALOGUES = Path(__file__).resolve().parent.parent / "careers" / "translations"
ALL = ("en", "de", "fr", "es", "nl", "it", "pt")
NEW = ("fr", "es", "nl", "it", "pt")


def catalogue(lang: str) -> Catalog:
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.fixture(scope="module")
def template() -> Catalog:
    with (CATALOGUES / "messages.pot").open("rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("lang", ALL[1:])
def test_every_catalogue_is_complete_and_compiled(lang, template):
    translated = catalogue(lang)
    missing = [
        key(m)
        for m in entries(template)
        if (t := translated.get(m.id)) is None or t.fuzzy or not all(s.strip() for s in forms(t))
    ]
    assert not missing, f"untranslated or fuzzy in {lang}: {missing[:10]} (+{len(missing)})"
    assert translated.num_plurals == get_plural(lang).num_plurals
    buffer = BytesIO()
    write_mo(buffer, translated)
    buffer.seek(0)
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        committed = read_mo(fh)
    expected = read_mo(buffer)
    table = lambda c: {ids(m): tuple(forms(m)) for m in entries(c)}  # noqa: E731
    assert table(committed) == table(expected), f"{lang} .mo is out of date: compile it"


@pytest.mark.parametrize("lang", ALL[1:])
def test_placeholders_survive_every_translation(lang):
    problems = []
    for message in entries(catalogue(lang)):
        wanted = {p for text in ids(message) for p in PLACEHOLDER.findall(text)}
        for form in forms(message):
            got = set(PLACEHOLDER.findall(form))
            # A singular form may leave the count out ("une minute"); nothing else may go.
            if got - wanted or wanted - got - {"%(num)s"}:
                problems.append(f"{key(message)!r}: {sorted(got)} != {sorted(wanted)}")
    assert not problems, "\n".join(problems)


@pytest.fixture
def app(make_app, sandbox, sandbox_server, tmp_path):
    english = sample_feeds()["en"]
    for lang in NEW:  # untranslated postings, as Personio sends them
        sandbox.set_positions(lang, english)
    return make_app(languages=",".join(ALL), **apply_env(sandbox_server.url, tmp_path))


def no_english(response, lang: str) -> str:
    html = response.get_data(as_text=True)
    assert f'lang="{lang}"' in html
    text = ui_text(html)
    for content in CONTENT:
        text = text.replace(content, " ")
    left = english_left_over(text, catalogue(lang))
    assert not left, f"English UI text on {lang} {response.request.path}: {left}"
    return text


@pytest.mark.parametrize("lang", NEW)
def test_pages_speak_the_language(app, lang, tmp_path):
    client = app.test_client()
    for path in (
        f"/{lang}/jobs",
        f"/{lang}/jobs?q=xyzzy",
        f"/embed/{lang}/jobs",
        f"/{lang}/jobs/424242",
    ):
        response = client.get(path, follow_redirects=True)
        assert response.status_code in (200, 404), path
        no_english(response, lang)
    page = client.get(f"/{lang}/jobs/{JOB}", follow_redirects=True)
    assert page.status_code == 200
    no_english(page, lang)

    form = client.get(f"/{lang}/jobs/{JOB}/apply")
    no_english(form, lang)
    invalid = send(
        client, valid_fields(open_form(client, lang=lang), first_name="", email="x"), lang=lang
    )
    assert invalid.status_code == 422
    no_english(invalid, lang)
    big = filegen.make_sized(tmp_path / "big.pdf", 21_000_000)
    too_large = send(
        client, valid_fields(open_form(client, lang=lang)), [("cv", big, "cv.pdf")], lang=lang
    )
    assert too_large.status_code == 413
    no_english(too_large, lang)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    accepted = send(
        client, valid_fields(open_form(client, lang=lang)), [("cv", cv, "cv.pdf")], lang=lang
    )
    assert accepted.status_code == 303
    receipt = client.get(accepted.headers["Location"])
    no_english(receipt, lang)

    atom = client.get(f"/{lang}/jobs.atom").get_data(as_text=True)
    title = lxml.etree.fromstring(atom.encode()).findtext("{http://www.w3.org/2005/Atom}title")
    assert not title.startswith("Open positions"), title


@pytest.mark.parametrize("lang", NEW)
def test_too_many_applications_page_speaks_the_language(
    make_app, sandbox, sandbox_server, tmp_path, lang
):
    app = make_app(
        languages=",".join(ALL),
        **apply_env(sandbox_server.url, tmp_path, submit_rate_limit="1/600"),
    )
    client = app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    assert (
        send(
            client, valid_fields(open_form(client, lang=lang)), [("cv", cv, "a.pdf")], lang=lang
        ).status_code
        == 303
    )
    again = send(
        client, valid_fields(open_form(client, lang=lang)), [("cv", cv, "a.pdf")], lang=lang
    )
    assert again.status_code == 429
    no_english(again, lang)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CA,fr;q=0.9", "fr"),
        ("es-MX,es;q=0.8,en;q=0.5", "es"),
        ("nl-BE", "nl"),
        ("it", "it"),
        ("pt-BR,pt;q=0.9", "pt"),
        ("de-AT", "de"),
        ("ja,zh;q=0.5", "en"),
    ],
)
def test_the_start_page_picks_any_of_the_seven(app, header, expected):
    response = app.test_client().get("/", headers={"Accept-Language": header})
    assert response.headers["Location"] == f"/{expected}/jobs"


def test_the_list_names_every_configured_language(app):
    doc = lxml.html.fromstring(app.test_client().get("/fr/jobs").data)
    assert sorted(doc.xpath("//link[@rel='alternate']/@hreflang")) == sorted(ALL)
