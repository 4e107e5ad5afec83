"""The application form over HTTP: valid, invalid, hostile, forged, spam, oversized (docs/applications.md)."""

from __future__ import annotations

import lxml.html
import pytest

from careers.forms import tokens

from . import filegen
from .applying import FORM, JOB, apply_env, multipart_kwargs, open_form, send, valid_fields
from .filegen_office import make_docx, make_odt


@pytest.fixture
def app(make_app, sandbox_server, tmp_path):
    return make_app(**apply_env(sandbox_server.url, tmp_path))


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    return folder


def stored(app) -> list:
    return app.extensions["careers"].outbox.summaries()


def spooled(app) -> list:
    spool = app.extensions["careers"].spool
    return list(spool.incoming.iterdir()) + list(spool.stored.iterdir())


def assert_nothing_kept(app, sandbox) -> None:
    assert stored(app) == []
    assert spooled(app) == []
    assert sandbox.received_applications == [] and sandbox.received_documents == {}


def errors_of(response) -> list[str]:
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    return [a.get("href") for a in doc.xpath("//*[@id='error-summary']//a")]


def test_form_shows_configured_fields_and_consent(client, sandbox):
    page = client.get(f"/en/jobs/{JOB}/apply")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    doc = lxml.html.fromstring(page.get_data(as_text=True))
    names = set(doc.xpath("//form[contains(@class,'apply-form')]//@name"))
    assert {"first_name", "last_name", "email", "phone", "birthday", "gender", "consent"} <= names
    assert {"custom_attribute_1002", "form_token", "website", "cv", "cover-letter"} <= names
    assert "custom_attribute_1001" not in names  # only asked for position 1842907
    assert doc.xpath("//a[text()='privacy policy']/@href") == ["https://nordlicht.example/privacy"]
    cv = doc.xpath("//input[@name='cv']")[0]
    assert (
        cv.get("required") is not None and ".pdf" in cv.get("accept") and ".7z" in cv.get("accept")
    )
    other = client.get("/en/jobs/1842907/apply").get_data(as_text=True)
    assert 'name="custom_attribute_1001"' in other
    assert client.get("/de/jobs/1842958/apply").status_code == 200


def test_detail_page_links_to_our_form(client, sandbox):
    page = client.get(f"/en/jobs/{JOB}", follow_redirects=True).get_data(as_text=True)
    assert f'href="/en/jobs/{JOB}/apply"' in page


def test_read_only_mode_sends_candidates_to_personio(make_app, sandbox, sandbox_server):
    client = make_app().test_client()
    response = client.get(f"/en/jobs/{JOB}/apply")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{sandbox_server.url}/job/{JOB}#apply"
    assert client.post(f"/en/jobs/{JOB}/apply", data={}).status_code == 404


def test_valid_application_is_stored_before_the_303(app, client, sandbox, files):
    token = open_form(client)
    cv = filegen.make_pdf(files / "cv.pdf")
    letter = make_docx(files / "letter.docx")
    response = send(
        client,
        valid_fields(token),
        [("cv", cv, "Lebenslauf Jürgen.pdf"), ("cover-letter", letter, "Anschreiben.docx")],
    )
    assert response.status_code == 303
    receipt_url = response.headers["Location"]
    assert receipt_url.startswith("/en/applications/")
    [summary] = stored(app)
    assert summary.status == "pending" and summary.position_id == JOB and summary.documents == 2
    assert sorted(summary.document_names) == [
        "cover-letter: Anschreiben.docx",
        "cv: Lebenslauf Jürgen.pdf",
    ]
    assert len(spooled(app)) == 2
    assert sandbox.received_applications == []  # delivery is the worker's job
    receipt = client.get(receipt_url)
    assert receipt.status_code == 200 and "We have received your application" in receipt.get_data(
        as_text=True
    )
    assert "Müller" not in receipt.get_data(as_text=True)  # no personal data on the receipt
    assert client.get(receipt_url[:-3] + "xyz").status_code == 404  # forged receipt


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_name": "  "}, "first_name"),
        ({"last_name": None}, "last_name"),
        ({"email": "juergen(at)example.com"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"phone": "call me maybe"}, "phone"),
        ({"birthday": "30.04.1990"}, "birthday"),
        ({"birthday": "2999-01-01"}, "birthday"),
        ({"gender": "robot"}, "gender"),
        ({"custom_attribute_1002": "newspaper"}, "custom_attribute_1002"),
        ({"custom_attribute_1002": ""}, "custom_attribute_1002"),
        ({"consent": None}, "consent"),
        ({"first_name": "x" * 256}, "first_name"),
        ({"message": "y" * 10_001}, "message"),
    ],
)
def test_invalid_input_is_422_with_every_problem_and_values_kept(
    app, client, sandbox, files, changes, field
):
    token = open_form(client)
    cv = filegen.make_pdf(files / "cv.pdf")
    response = send(client, valid_fields(token, **changes), [("cv", cv, "cv.pdf")])
    assert response.status_code == 422
    assert errors_of(response) == [f"#field-{field}"]
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    target = doc.xpath(f"//*[@id='field-{field}']")[0]
    assert target.get("aria-invalid") == "true"
    if field != "last_name":
        assert doc.xpath("//input[@id='field-last_name']/@value") == ["Müller"]  # kept
    assert doc.xpath("//textarea[@id='field-message']")[0].text.startswith(
        "Hallo!\nIch" if field != "message" else "y"
    )
    assert_nothing_kept(app, sandbox)


def test_missing_required_cv_is_reported(app, client, sandbox):
    response = send(client, valid_fields(open_form(client)))
    assert response.status_code == 422
    assert errors_of(response) == ["#file-cv"]
    assert_nothing_kept(app, sandbox)


GOOD_FILES = [
    ("pdf", filegen.make_pdf),
    ("docx", make_docx),
    ("odt", make_odt),
    ("png", filegen.make_png),
    ("jpg", filegen.make_jpeg),
    ("txt", filegen.make_txt),
    ("csv", filegen.make_csv),
    ("zip", filegen.make_zip),
]


@pytest.mark.parametrize(("ext", "make"), GOOD_FILES)
def test_real_files_of_every_kind_are_accepted(app, client, sandbox, files, ext, make):
    path = make(files / f"doc.{ext}")
    response = send(
        client, valid_fields(open_form(client)), [("cv", path, f"Lebenslauf.{ext.upper()}")]
    )
    assert response.status_code == 303, errors_of(response)
    assert stored(app)[0].document_names == (f"cv: Lebenslauf.{ext.upper()}",)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (filegen.make_elf, "cv.pdf"),
        (filegen.make_pe, "cv.pdf"),
        (filegen.make_html, "cv.pdf"),
        (filegen.make_plain_zip_as_docx, "cv.docx"),
        (filegen.make_empty, "cv.pdf"),
        (filegen.make_pdf_lookalike, "cv.pdf"),
        (filegen.make_pdf, "cv.exe"),
        (filegen.make_png, "cv.pdf"),
    ],
)
def test_hostile_files_are_refused_and_nothing_is_kept(app, client, sandbox, files, make, name):
    path = make(files / "upload.bin")
    response = send(client, valid_fields(open_form(client)), [("cv", path, name)])
    assert response.status_code == 422
    assert errors_of(response) == ["#file-cv"]
    assert name in response.get_data(as_text=True)
    assert_nothing_kept(app, sandbox)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'careers_application_rejections_total{reason="document_' in metrics


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../x.pdf", "x.pdf"),
        ("C:\\Users\\anna\\Lebenslauf.pdf", "Lebenslauf.pdf"),
        ("cv\x00\x1b[31m.pdf", "cv[31m.pdf"),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
        ("履歴書.pdf", "履歴書.pdf"),
    ],
)
def test_file_names_are_cleaned_but_kept(app, client, sandbox, files, sent, kept):
    path = filegen.make_pdf(files / "cv.pdf")
    response = send(client, valid_fields(open_form(client)), [("cv", path, sent)])
    assert response.status_code == 303
    assert stored(app)[0].document_names == (f"cv: {kept}",)


def test_the_content_type_header_is_ignored_content_decides(app, client, sandbox, files):
    pdf = filegen.make_pdf(files / "cv.pdf")
    ok = send(
        client, valid_fields(open_form(client)), [("cv", pdf, "cv.pdf", "application/x-msdownload")]
    )
    assert ok.status_code == 303
    elf = filegen.make_elf(files / "evil.pdf")
    refused = send(
        client, valid_fields(open_form(client)), [("cv", elf, "cv.pdf", "application/pdf")]
    )
    assert refused.status_code == 422


def test_empty_fields_and_empty_file_inputs_are_what_browsers_send(app, client, sandbox, files):
    pdf = filegen.make_pdf(files / "cv.pdf")
    uploads = [("cv", pdf, "cv.pdf"), ("cover-letter", None, "")]
    response = send(client, valid_fields(open_form(client), phone="", website=""), uploads)
    assert response.status_code == 303
    assert stored(app)[0].documents == 1  # the inputs left empty are no documents


@pytest.mark.parametrize(
    ("sizes", "reason_text"),
    [
        ([20_000_001], "larger than 20 MB"),
        ([16_000_001] * 4, "together are larger than 64 MB"),
        ([100] * 11, "at most 10 files"),
    ],
)
def test_oversized_bodies_are_413_and_nothing_is_kept(
    app, client, sandbox, files, sizes, reason_text
):
    token = open_form(client)
    uploads = []
    for i, size in enumerate(sizes):
        path = filegen.make_pdf(files / f"f{i}.pdf")
        with path.open("ab") as handle:
            handle.truncate(size)
        uploads.append(("cv", path, f"f{i}.pdf"))
    response = send(client, valid_fields(token), uploads)
    assert response.status_code == 413
    assert reason_text in response.get_data(as_text=True)
    assert_nothing_kept(app, sandbox)


def test_a_body_announced_too_large_is_refused_unread(app, client, sandbox):
    class Unreadable:
        def read(self, *args):
            raise AssertionError("the body must not be read")

        def tell(self):
            return 0

        def seek(self, *args):
            return 0

    response = client.post(
        f"/en/jobs/{JOB}/apply",
        input_stream=Unreadable(),
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"CONTENT_LENGTH": "70000000"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_posts_are_403(app, client, sandbox, files, headers):
    path = filegen.make_pdf(files / "cv.pdf")
    response = send(
        client, valid_fields(open_form(client)), [("cv", path, "cv.pdf")], headers=headers
    )
    assert response.status_code == 403
    assert_nothing_kept(app, sandbox)


def test_same_origin_browser_posts_pass(app, client, sandbox, files):
    path = filegen.make_pdf(files / "cv.pdf")
    headers = {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}
    assert (
        send(
            client, valid_fields(open_form(client)), [("cv", path, "cv.pdf")], headers=headers
        ).status_code
        == 303
    )


@pytest.mark.parametrize("token", ["", "garbage", "eyJwIjoxfQ.forged.signature"])
def test_forged_or_missing_tokens_are_403(app, client, sandbox, files, token):
    path = filegen.make_pdf(files / "cv.pdf")
    assert send(client, valid_fields(token), [("cv", path, "cv.pdf")]).status_code == 403
    assert_nothing_kept(app, sandbox)


def test_a_token_is_bound_to_its_position_and_language(app, client, sandbox, files):
    path = filegen.make_pdf(files / "cv.pdf")
    other_job = open_form(client, job=1842907)
    assert send(client, valid_fields(other_job), [("cv", path, "cv.pdf")]).status_code == 403
    german = open_form(client, lang="de")
    assert (
        send(client, valid_fields(german), [("cv", path, "cv.pdf")], lang="en").status_code == 403
    )


def test_an_expired_token_asks_to_send_again(app, client, sandbox, files, monkeypatch):
    token = open_form(client)
    monkeypatch.setattr(tokens, "TOKEN_MAX_AGE", -1)
    path = filegen.make_pdf(files / "cv.pdf")
    response = send(client, valid_fields(token), [("cv", path, "cv.pdf")])
    assert response.status_code == 422
    assert "open for a long time" in response.get_data(as_text=True)
    assert 'value="Müller"' in response.get_data(as_text=True)
    assert_nothing_kept(app, sandbox)


def test_spam_is_refused_without_saying_why(make_app, sandbox, sandbox_server, tmp_path, files):
    app = make_app(**apply_env(sandbox_server.url, tmp_path, min_fill_seconds="30"))
    client = app.test_client()
    path = filegen.make_pdf(files / "cv.pdf")
    too_fast = send(client, valid_fields(open_form(client)), [("cv", path, "cv.pdf")])
    honeypot = send(
        client,
        valid_fields(open_form(client), website="https://spam.example"),
        [("cv", path, "cv.pdf")],
    )
    for response in (too_fast, honeypot):
        assert response.status_code == 422
        text = response.get_data(as_text=True)
        assert "could not accept this submission" in text
        assert "honeypot" not in text and "fast" not in text
    assert_nothing_kept(app, sandbox)


def test_bursts_from_one_client_get_429(make_app, sandbox, sandbox_server, tmp_path, files):
    app = make_app(**apply_env(sandbox_server.url, tmp_path, submit_rate_limit="2/600"))
    client = app.test_client()
    path = filegen.make_pdf(files / "cv.pdf")
    for i in range(2):
        fields = valid_fields(open_form(client), email=f"candidate{i}@example.com")
        assert send(client, fields, [("cv", path, "cv.pdf")]).status_code == 303
    third = send(client, valid_fields(open_form(client)), [("cv", path, "cv.pdf")])
    assert third.status_code == 429
    assert 500 < int(third.headers["Retry-After"]) <= 600
    assert len(stored(app)) == 2
    # Behind the reverse proxy on this host, each candidate is the address the proxy names.
    behind_proxy = {"X-Forwarded-For": "203.0.113.7"}
    fields = valid_fields(open_form(client), email="other@example.com")
    assert send(client, fields, [("cv", path, "cv.pdf")], headers=behind_proxy).status_code == 303
    # From anywhere but loopback, a forwarded address is not believed.
    spoofed = {"X-Forwarded-For": "198.51.100.1"}
    fields = valid_fields(open_form(client), email="spoof@example.com")
    response = client.post(
        f"/en/jobs/{JOB}/apply",
        **multipart_kwargs(fields, [("cv", path, "cv.pdf")]),
        headers=spoofed,
        environ_overrides={"REMOTE_ADDR": "192.0.2.10"},
    )
    assert response.status_code == 303  # a different client: 192.0.2.10
    fields = valid_fields(open_form(client), email="spoof2@example.com")
    response = client.post(
        f"/en/jobs/{JOB}/apply",
        **multipart_kwargs(fields, [("cv", path, "cv.pdf")]),
        headers={"X-Forwarded-For": "198.51.100.2"},
        environ_overrides={"REMOTE_ADDR": "192.0.2.10"},
    )
    assert response.status_code == 303
    fields = valid_fields(open_form(client), email="spoof3@example.com")
    response = client.post(
        f"/en/jobs/{JOB}/apply",
        **multipart_kwargs(fields, [("cv", path, "cv.pdf")]),
        headers={"X-Forwarded-For": "198.51.100.3"},
        environ_overrides={"REMOTE_ADDR": "192.0.2.10"},
    )
    assert response.status_code == 429  # changing X-Forwarded-For does not reset the limit


@pytest.mark.parametrize("category", ["work-sample", "employment-reference"])
def test_a_file_under_a_document_input_the_form_hides_is_refused(
    app, client, sandbox, files, category
):
    # Both inputs are hidden by default; a browser never sends them, a crafted post might.
    page = client.get(f"/en/jobs/{JOB}/apply").get_data(as_text=True)
    assert f'name="{category}"' not in page
    token = open_form(client)
    cv = filegen.make_pdf(files / "cv.pdf")
    sample = filegen.make_pdf(files / "sample.pdf")
    response = send(
        client, valid_fields(token), [("cv", cv, "cv.pdf"), (category, sample, "sample.pdf")]
    )
    assert response.status_code == 422
    assert "does not ask for one of the documents" in response.get_data(as_text=True)
    assert_nothing_kept(app, sandbox)


def test_a_document_input_the_form_file_shows_is_accepted(
    make_app, sandbox_server, sandbox, tmp_path
):
    form = tmp_path / "with-work-samples.toml"
    form.write_text(FORM + '\n[documents]\nwork-sample = "optional"\n', encoding="utf-8")
    app = make_app(**apply_env(sandbox_server.url, tmp_path, form_file=str(form)))
    client = app.test_client()
    token = open_form(client)
    folder = tmp_path / "files"
    folder.mkdir()
    cv = filegen.make_pdf(folder / "cv.pdf")
    sample = filegen.make_pdf(folder / "sample.pdf")
    response = send(
        client, valid_fields(token), [("cv", cv, "cv.pdf"), ("work-sample", sample, "s.pdf")]
    )
    assert response.status_code == 303
    [summary] = app.extensions["careers"].outbox.summaries()
    assert sorted(summary.document_names) == ["cv: cv.pdf", "work-sample: s.pdf"]
