"""The short form by default (issue 23 point 5): names, email, CV and consent required, cover
letter and message optional unless the form file says otherwise; a time estimate above the
form; the error summary in the order of the page, worded for each kind of field."""

from __future__ import annotations

import gettext
from pathlib import Path

import lxml.html
import pytest

import careers

from . import filegen
from .applying import (
    JOB,
    LANGUAGES,
    apply_env,
    deliver_all,
    every_language_env,
    open_form,
    send,
    short_form_env,
)
from .filegen_office import make_docx

CATALOGUES = Path(careers.__file__).with_name("translations")
# What a browser sends for the short form, and nothing else.
SHORT = {
    "first_name": "Jürgen",
    "last_name": "Müller",
    "email": "juergen.mueller@example.com",
    "consent": "yes",
    "website": "",
}
# A form that asks for everything, so that every kind of problem can be shown at once.
EVERYTHING = """\
[system]
phone = "required"
location = "optional"
gender = "required"
message = "required"

[documents]
cover-letter = "required"
certificate = "optional"

[[field]]
id = "custom_attribute_1002"
type = "select"
required = true
label = "How did you hear about us?"
options = [ { value = "linkedin", label = "LinkedIn" } ]

[[field]]
id = "custom_attribute_1003"
type = "checkbox"
required = true
label = "I may work in the EU"

[[field]]
id = "custom_attribute_1004"
type = "text"
required = true
label = "Portfolio"
"""


def configured(make_app, sandbox_server, tmp_path: Path, text: str):
    form = tmp_path / "configured.toml"
    form.write_text(text, encoding="utf-8")
    return make_app(**apply_env(sandbox_server.url, tmp_path, form_file=str(form)))


def page_of(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def summary_of(doc) -> list[tuple[str, str]]:
    """The error summary's (link target, text), top to bottom."""
    return [
        (a.get("href").removeprefix("#"), a.text_content())
        for a in doc.xpath("//*[@id='error-summary']//a")
    ]


def stored(app) -> list:
    return app.extensions["careers"].outbox.summaries()


def test_the_default_form_asks_names_email_cv_consent_and_offers_letter_and_message(
    make_app, sandbox_server, sandbox, tmp_path
):
    client = make_app(**short_form_env(sandbox_server.url, tmp_path)).test_client()
    doc = page_of(client.get(f"/en/jobs/{JOB}/apply"))
    form = doc.xpath("//form[contains(@class,'apply-form')]")[0]
    asked = {e.get("name") for e in form.xpath(".//input|.//select|.//textarea")}
    asked -= {"form_token", "website", "attribution"}
    assert asked == {"first_name", "last_name", "email", "cv", "cover-letter", "message", "consent"}
    required = {e.get("name") for e in form.xpath(".//*[@required]")}
    assert required == {"first_name", "last_name", "email", "cv", "consent"}
    # The optional ones say so in their label.
    for target in ("file-cover-letter", "field-message"):
        [label] = form.xpath(f".//label[@for='{target}']")
        assert "(optional)" in label.text_content()


def test_the_default_form_takes_an_application_without_letter_or_message(
    make_app, sandbox_server, sandbox, tmp_path
):
    app = make_app(**short_form_env(sandbox_server.url, tmp_path))
    client = app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    fields = {"form_token": open_form(client), **SHORT}
    response = send(client, fields, [("cv", cv, "Lebenslauf.pdf"), ("cover-letter", None, "")])
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert deliver_all(app) == ["delivered"]
    [received] = sandbox.received_applications
    body = received["body"]
    assert (body["first_name"], body["email"]) == ("Jürgen", "juergen.mueller@example.com")
    assert not body.get("message")
    assert not body.get("attributes")  # no phone, location … asked, so none sent
    assert [(f["category"], f["original_filename"]) for f in body["files"]] == [
        ("cv", "Lebenslauf.pdf")
    ]


def test_the_default_form_refuses_a_document_it_no_longer_shows(
    make_app, sandbox_server, sandbox, tmp_path
):
    """Certificates and other documents are asked only when the form file says so."""
    app = make_app(**short_form_env(sandbox_server.url, tmp_path))
    client = app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    other = filegen.make_pdf(tmp_path / "other.pdf")
    fields = {"form_token": open_form(client), **SHORT}
    response = send(client, fields, [("cv", cv, "cv.pdf"), ("certificate", other, "z.pdf")])
    assert response.status_code == 422
    assert "does not ask for one of the documents" in response.get_data(as_text=True)
    assert stored(app) == [] and sandbox.received_applications == []


def test_a_form_file_that_requires_the_letter_and_message_refuses_without_them(
    make_app, sandbox_server, sandbox, tmp_path
):
    text = '[system]\nmessage = "required"\n[documents]\ncover-letter = "required"\n'
    app = configured(make_app, sandbox_server, tmp_path, text)
    client = app.test_client()
    page = page_of(client.get(f"/en/jobs/{JOB}/apply"))
    assert page.xpath("//input[@id='file-cover-letter']/@required") == [""]
    assert page.xpath("//textarea[@id='field-message']/@required") == [""]
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    fields = {"form_token": open_form(client), **SHORT}
    response = send(client, fields, [("cv", cv, "cv.pdf")])
    assert response.status_code == 422
    assert summary_of(page_of(response)) == [
        ("file-cover-letter", "Cover letter: Please attach this document."),
        ("field-message", "Message: Please fill in this field."),
    ]
    assert stored(app) == [] and sandbox.received_applications == []
    # With both, it is taken.
    letter = make_docx(tmp_path / "letter.docx")
    fields = {"form_token": open_form(client), **SHORT, "message": "Hallo"}
    response = send(
        client, fields, [("cv", cv, "cv.pdf"), ("cover-letter", letter, "Anschreiben.docx")]
    )
    assert response.status_code == 303
    assert deliver_all(app) == ["delivered"]
    [received] = sandbox.received_applications
    assert received["body"]["message"] == "Hallo"


def test_the_error_summary_follows_the_page_and_words_each_kind_of_field(
    make_app, sandbox_server, sandbox, tmp_path
):
    client = configured(make_app, sandbox_server, tmp_path, EVERYTHING).test_client()
    empty = filegen.make_txt(tmp_path / "empty.txt")
    empty.write_bytes(b"")
    fields = {
        "form_token": open_form(client),
        "website": "",
        "first_name": "x" * 300,  # too long: found after the checks for empty fields
        "last_name": "",
        "email": "juergen(at)example.com",
        "location": "Hamburg",
    }
    response = send(client, fields, [("certificate", empty, "empty.txt")])
    assert response.status_code == 422
    doc = page_of(response)
    summary = summary_of(doc)
    targets = [target for target, _ in summary]
    # Every problem once, in the order its field stands on the page.
    on_page = [e.get("id") for e in doc.iter() if e.get("id") in set(targets)]
    assert targets == on_page
    assert targets == [
        "field-first_name",
        "field-last_name",
        "field-email",
        "field-phone",
        "field-gender",
        "field-custom_attribute_1002",
        "field-custom_attribute_1003",
        "field-custom_attribute_1004",
        "file-cv",
        "file-cover-letter",
        "file-certificate",
        "field-message",
        "field-consent",
    ]
    words = dict(summary)
    assert words["field-last_name"] == "Last name: Please fill in this field."
    assert words["field-custom_attribute_1004"] == "Portfolio: Please fill in this field."
    # A select is chosen, not filled in; a checkbox is ticked; a document attached.
    assert words["field-gender"] == "Gender: Please choose an answer."
    assert words["field-custom_attribute_1002"] == (
        "How did you hear about us?: Please choose an answer."
    )
    assert words["field-custom_attribute_1003"] == "I may work in the EU: Please tick this box."
    assert words["file-cv"] == "CV: Please attach this document."
    assert words["file-certificate"] == "Certificates: “empty.txt” is empty."
    # The same words beside each field.
    assert doc.xpath("string(//*[@id='error-gender'])") == "Please choose an answer."
    assert doc.xpath("string(//*[@id='error-custom_attribute_1003'])") == "Please tick this box."
    assert "fill in" not in doc.xpath("string(//*[@id='error-custom_attribute_1002'])")
    heading = doc.xpath("string(//*[@id='error-summary-title'])")
    assert heading == f"There are {len(summary)} problems with your application"


def expected_estimate(lang: str, minutes: int) -> str:
    english = ("This form takes about %(num)s minute.", "This form takes about %(num)s minutes.")
    if lang == "en":
        return english[minutes != 1] % {"num": minutes}
    catalogue = gettext.translation("messages", str(CATALOGUES), [lang])
    return catalogue.ngettext(*english, minutes) % {"num": minutes}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_time_estimate_stands_above_the_form_in_every_language(
    make_app, sandbox, sandbox_server, tmp_path, lang
):

    env = {**short_form_env(sandbox_server.url, tmp_path), **every_language_env(sandbox, tmp_path)}
    app = make_app(**env)
    client = app.test_client()
    doc = page_of(client.get(f"/{lang}/jobs/{JOB}/apply"))
    [estimate] = doc.xpath("//*[@id='form-time']")
    minutes = app.extensions["careers"].settings.form.minutes(JOB)
    assert minutes == 2  # the short form: about two minutes (FormSchema.minutes)
    assert estimate.text_content() == expected_estimate(lang, minutes)
    if lang != "en":
        assert "takes about" not in estimate.text_content()
    # Above the form, not somewhere below it.
    [form] = doc.xpath("//form[contains(@class,'apply-form')]")
    ids = [e.get("id") for e in doc.iter()]
    assert ids.index("form-time") < ids.index(form.xpath(".//input[@name='first_name']/@id")[0])


def test_a_longer_form_says_so(make_app, sandbox_server, sandbox, tmp_path):
    client = configured(make_app, sandbox_server, tmp_path, EVERYTHING).test_client()
    doc = page_of(client.get(f"/en/jobs/{JOB}/apply"))
    # Required: 4 + phone, gender, select, checkbox, text (9 x 15 s), message 60 s, CV and
    # cover letter 60 s; optional: location 7.5 s, certificates 15 s: 277.5 s.
    assert doc.xpath("string(//*[@id='form-time'])") == "This form takes about 5 minutes."
