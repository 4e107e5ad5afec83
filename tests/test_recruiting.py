"""The Recruiting API client against the sandbox's v1 endpoints on loopback."""

from __future__ import annotations

import gc
import hashlib
import io
import socket
import struct
import time
import warnings
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from werkzeug.test import EnvironBuilder

from careers.personio.recruiting import (
    DuplicateApplicant,
    PermanentError,
    RecruitingClient,
    TransientError,
    UploadedDocument,
    parse_error_body,
    parse_retry_after,
)
from careers.sandbox.recruiting import DEFAULT_ATTRIBUTES, DEFAULT_RATE_LIMIT
from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN, SandboxServer

from .applying import Clock

JOB = 1842907  # Senior Robotics Software Engineer, in both sample boards
OTHER_JOB = 1843054
R = "errors.attribute-validation."
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def personio(sandbox):
    """The session sandbox with empty recruiting records, default settings and sleeping faults."""
    sandbox.rearm()  # conftest's `sandbox` releases after each test; hang faults must hang
    sandbox.set_rate_limit(DEFAULT_RATE_LIMIT)
    sandbox.set_attributes(DEFAULT_ATTRIBUTES)
    sandbox.clear_recruiting()
    yield sandbox
    sandbox.clear_recruiting()


@pytest.fixture
def api(personio, sandbox_server: SandboxServer) -> Iterator[RecruitingClient]:
    with RecruitingClient(
        sandbox_server.url, SANDBOX_COMPANY_ID, SANDBOX_TOKEN, timeout=httpx.Timeout(5.0)
    ) as client:
        yield client


@pytest.fixture
def cv(tmp_path: Path) -> Path:
    path = tmp_path / "cv.pdf"
    path.write_bytes(PDF)
    return path


def applicant(**changes) -> dict:
    """A valid body; keyword changes replace fields (None removes one)."""
    body = {
        "first_name": "Jana",
        "last_name": "Müller",
        "email": "jana.mueller@example.org",
        "job_position_id": JOB,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


# -- the happy path ------------------------------------------------------------------------


def test_upload_two_files_and_create_application(api, personio, sandbox_server, cv, tmp_path):
    picture = tmp_path / "certificate.png"
    picture.write_bytes(png_bytes())
    first = api.upload_document(cv, "Lebenslauf Jana Müller.pdf")
    second = api.upload_document(picture, "Zeugnis.png")
    assert first == UploadedDocument(
        first.uuid, len(PDF), "application/pdf", "Lebenslauf Jana Müller.pdf", "pdf"
    )
    assert (second.extension, second.mimetype, second.size) == (
        "png",
        "image/png",
        picture.stat().st_size,
    )

    body = applicant(
        message="Hello!\nI build robots.",
        recruiting_channel_id=2001,
        tags=["careers-site", "robotics"],
        attributes=[
            {"id": "phone", "value": "+49 30 1234567"},
            {"id": "birthday", "value": "1990-04-30"},
            {"id": "gender", "value": "female"},
            {"id": "custom_attribute_1002", "value": "friend"},
            {"id": "custom_attribute_1003", "value": "2024-05-01"},
        ],
        files=[
            {"uuid": first.uuid, "original_filename": first.original_filename, "category": "cv"},
            {"uuid": second.uuid, "original_filename": "Zeugnis.png", "category": "certificate"},
        ],
    )
    assert api.create_application(body) is None

    [received] = personio.received_applications
    assert received["body"] == body and received["id"] and received["time"] <= time.time()
    stored = personio.received_documents
    assert stored[first.uuid].sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored[first.uuid].read_bytes() == PDF
    assert stored[second.uuid].read_bytes() == picture.read_bytes()
    assert stored[first.uuid].filename == "Lebenslauf Jana Müller.pdf"
    assert stored[first.uuid].content_type == "application/pdf"

    logged = [r for r in personio.requests if r["path"].startswith("/v1/")]
    assert [r["path"] for r in logged] == [
        "/v1/recruiting/applications/documents",
        "/v1/recruiting/applications/documents",
        "/v1/recruiting/applications",
    ]
    for entry in logged:
        assert entry["headers"]["X-Company-ID"] == SANDBOX_COMPANY_ID
        assert entry["headers"]["X-Personio-App-ID"] == "careers"
        assert entry["headers"]["Accept"] == "application/json"
        assert SANDBOX_TOKEN not in repr(entry)
    assert logged[0]["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert logged[2]["headers"]["Content-Type"] == "application/json"

    with httpx.Client(base_url=sandbox_server.url, timeout=5) as http:
        download = http.get(f"/_sandbox/documents/{first.uuid}")
        assert download.content == PDF
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "Lebenslauf" in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert http.get("/_sandbox/documents/nope").status_code == 404
        page = http.get("/_sandbox/applications")
        assert page.headers["content-type"].startswith("text/html")
        for text in ("Jana Müller", "Senior Robotics Software Engineer", "I build robots.",
                     "custom_attribute_1002", "friend", "robotics", "2001", "certificate"):  # fmt: skip
            assert text in page.text, text
        assert f'href="/_sandbox/documents/{second.uuid}"' in page.text
        listed = http.get("/_sandbox/applications.json").json()
        assert listed["applications"][0]["body"] == body
        assert listed["documents"][first.uuid]["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert "path" not in listed["documents"][first.uuid]


def test_page_escapes_and_lists_newest_first(api, personio, sandbox_server):
    api.create_application(applicant(first_name="<script>alert(1)</script>", message="a & b"))
    api.create_application(applicant(first_name="Zweite", email="second@example.org"))
    page = httpx.get(f"{sandbox_server.url}/_sandbox/applications", timeout=5).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &amp; b" in page
    assert page.index("Zweite") < page.index("&lt;script&gt;")
    assert httpx.delete(f"{sandbox_server.url}/_sandbox/applications", timeout=5).status_code == 204
    assert personio.received_applications == []


# -- Personio's validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"first_name": "   "}, [R + "required-attribute"]),
        ({"last_name": None}, [R + "required-attribute"]),
        ({"email": "jana.example.org"}, [R + "invalid-email-format"]),
        ({"email": "", "first_name": ""}, [R + "required-attribute"]),
        ({"job_position_id": 999}, ["errors.job-position.not-published"]),
        ({"job_position_id": None}, [R + "required-attribute"]),
        ({"attributes": [{"id": "custom_attribute_9999", "value": "x"}]}, [R + "unknown"]),
        ({"attributes": [{"id": "custom_attribute_1002", "value": "radio"}]}, [R + "unknown-attribute-option"]),
        ({"attributes": [{"id": "custom_attribute_1003", "value": "01.05.2024"}]}, [R + "invalid-date-format"]),
        ({"attributes": [{"id": "birthday", "value": "1990-02-30"}]}, [R + "invalid-date-format"]),
        ({"attributes": [{"id": "gender", "value": "other"}]}, [R + "unknown-attribute-option"]),
        ({"attributes": [{"id": "phone", "value": ""}]}, [R + "required-attribute"]),
        ({"files": [{"uuid": "5b0e9d56-0000-4000-8000-000000000000", "original_filename": "cv.pdf",
                     "category": "cv"}]}, ["errors.file-validation.file-not-exists"]),
        ({"application_date": "2999-01-01"}, ["errors.date-validation.date-in-the-future"]),
        ({"application_date": "1/2/2024"}, [R + "invalid-date-format"]),
        ({"phase": {"type": "system", "id": "hired"}}, ["errors.phase-validation.invalid-system-phase"]),
    ],
)  # fmt: skip
def test_validation_errors_are_permanent_with_personio_reasons(api, personio, changes, reasons):
    with pytest.raises(PermanentError) as caught:
        api.create_application(applicant(**changes))
    error = caught.value
    assert type(error) is PermanentError
    assert error.status == 400 and error.reasons == reasons and error.reason == reasons[0]
    assert personio.received_applications == []


def test_every_problem_is_reported_at_once(api):
    with pytest.raises(PermanentError) as caught:
        api.create_application(
            applicant(email="nope", job_position_id=1, attributes=[{"id": "x", "value": "1"}])
        )
    assert set(caught.value.reasons) == {
        R + "invalid-email-format", "errors.job-position.not-published", R + "unknown"
    }  # fmt: skip
    assert "email: " + R + "invalid-email-format" in caught.value.detail


def test_file_references_are_checked(api, cv):
    uploaded = api.upload_document(cv, "cv.pdf")
    files = [
        {"uuid": uploaded.uuid, "original_filename": "cv.pdf", "category": "resume"},
        {"uuid": uploaded.uuid, "category": "cv"},
    ]
    with pytest.raises(PermanentError) as caught:
        api.create_application(applicant(files=files))
    assert caught.value.reasons == [
        "errors.file-validation.unknown-file-category",
        R + "required-attribute",
    ]
    assert "files[1].original_filename" in caught.value.detail


@pytest.mark.parametrize(
    "changes",
    [
        {"job_position_id": str(JOB)},  # a string id (§4.6)
        {"phone": "+49 30 1234567"},  # legacy top-level field (§4.6)
        {"recruiting_channel_id": "5"},
        {"tags": ["ok", 5]},
        {"tags": "robotics"},
        {"files": ["cv.pdf"]},
        {"attributes": [{"value": "no id"}]},
        {"job_position_id": True},
    ],
)
def test_body_that_does_not_fit_the_schema_is_invalid_request_body(api, changes):
    with pytest.raises(PermanentError) as caught:
        api.create_application(applicant(**changes))
    assert (caught.value.reason, caught.value.status) == ("http_400", 400)
    assert caught.value.detail == "Invalid request body supplied"


def test_phase_without_id_gets_personios_other_error_shape(api):
    with pytest.raises(PermanentError) as caught:
        api.create_application(applicant(phase={"type": "system"}))
    assert caught.value.detail == "Field 'id' is required" and caught.value.reasons == []
    api.create_application(applicant(phase={"type": "custom", "id": 17}))


def test_custom_attributes_are_configurable(api, personio):
    personio.set_attributes({"custom_attribute_7": {"type": "option", "options": ["yes"]}})
    api.create_application(applicant(attributes=[{"id": "custom_attribute_7", "value": "yes"}]))
    with pytest.raises(PermanentError, match="unknown"):
        api.create_application(
            applicant(
                email="b@example.org", attributes=[{"id": "custom_attribute_1001", "value": "x"}]
            )
        )


def test_unpublished_once_the_job_leaves_every_feed(api, personio):
    for language in ("en", "de"):
        personio.set_positions(language, [p for p in personio.positions(language) if p.id != JOB])
    with pytest.raises(PermanentError) as caught:
        api.create_application(applicant())
    assert caught.value.reason == "errors.job-position.not-published"


def test_duplicate_applicant_same_email_any_case_same_position(api, personio):
    api.create_application(applicant())
    with pytest.raises(DuplicateApplicant) as caught:
        api.create_application(applicant(email="  JANA.Mueller@Example.ORG "))
    assert isinstance(caught.value, PermanentError)
    assert caught.value.reason == "errors.applicant-already-exists" and caught.value.status == 400
    api.create_application(applicant(job_position_id=OTHER_JOB))
    assert len(personio.received_applications) == 2


# -- uploads -------------------------------------------------------------------------------


def test_too_big_upload_is_413(api, personio, tmp_path):
    big = tmp_path / "huge.pdf"
    with big.open("wb") as handle:
        handle.truncate(20 * 1024 * 1024 + 1)  # sparse: no 20 MB written to disk
    with pytest.raises(PermanentError) as caught:
        api.upload_document(big, "huge.pdf")
    assert (caught.value.status, caught.value.reason) == (413, "errors.file-too-big")
    assert personio.received_documents == {}
    exact = tmp_path / "exact.pdf"
    with exact.open("wb") as handle:
        handle.truncate(20 * 1024 * 1024)
    assert api.upload_document(exact, "exact.pdf").size == 20 * 1024 * 1024


@pytest.mark.parametrize("name", ["setup.exe", "noextension", "cv.pdf.html", "a.jpeg", "b.TIFF"])
def test_disallowed_file_type_is_422(api, cv, name):
    with pytest.raises(PermanentError) as caught:
        api.upload_document(cv, name)
    assert (caught.value.status, caught.value.reason) == (422, "errors.invalid-file-type")


@pytest.mark.parametrize("name", ["Scan.JPG", "scan.tif", "talk.mp4", "cv.docx"])
def test_v1_types_are_accepted(api, cv, name):
    assert api.upload_document(cv, name).extension == name.rsplit(".", 1)[1].lower()


def test_upload_without_a_file_part_is_invalid_multipart(sandbox_server, personio):
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}", "X-Company-ID": SANDBOX_COMPANY_ID}
    url = f"{sandbox_server.url}/v1/recruiting/applications/documents"
    with httpx.Client(headers=headers, timeout=5) as http:
        as_field = http.post(url, data={"file": "JVBERi0xLjQK"})  # base64 in a field (§4.4)
        wrong_part = http.post(url, files={"document": ("cv.pdf", PDF)})
    for response in (as_field, wrong_part):
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["detail"] == "Invalid multipart request body and/or headers supplied."
        assert error["status"] == "400" and error["title"] == "Bad Request" and error["id"]


def test_an_upload_that_breaks_off_leaves_no_spooled_part_open(personio):
    """A sending host killed mid-upload: the part werkzeug was spooling is closed with the
    request, not left for the garbage collector (whose ResourceWarning failed a CI run)."""
    head = (
        b'--cut\r\nContent-Disposition: form-data; name="file"; filename="cv.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n"
    )
    sent = head + PDF[:40]
    environ = EnvironBuilder(
        path="/v1/recruiting/applications/documents",
        method="POST",
        headers={"Authorization": f"Bearer {SANDBOX_TOKEN}", "X-Company-ID": SANDBOX_COMPANY_ID},
        content_type="multipart/form-data; boundary=cut",
        input_stream=io.BytesIO(sent),
        content_length=len(sent) + len(PDF),  # promised more than the client lived to send
    ).get_environ()
    statuses: list[str] = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        body = b"".join(personio(environ, lambda status, headers, *_: statuses.append(status)))
        gc.collect()
    assert statuses == ["400 BAD REQUEST"], body
    assert [str(w.message) for w in seen if issubclass(w.category, ResourceWarning)] == []
    assert personio.received_documents == {}


def test_unreadable_upload_answer_is_transient(api, personio, cv):
    personio.inject("documents", "body", body="<html>hi</html>", content_type="text/html", times=1)
    with pytest.raises(TransientError) as caught:
        api.upload_document(cv, "cv.pdf")
    assert caught.value.reason == "invalid_response" and caught.value.maybe_delivered


# -- credentials and rate limit ------------------------------------------------------------


@pytest.mark.parametrize(
    ("company_id", "token"),
    [(SANDBOX_COMPANY_ID, "wrong-secret-token-123"), ("999999", SANDBOX_TOKEN)],
)
def test_bad_credentials_are_unauthorized_and_never_shown(
    sandbox_server, personio, cv, company_id, token
):
    with RecruitingClient(sandbox_server.url, company_id, token) as client:
        for call in (lambda: client.upload_document(cv, "cv.pdf"), lambda: client.create_application(applicant())):  # fmt: skip
            with pytest.raises(PermanentError) as caught:
                call()
            error = caught.value
            assert (error.reason, error.status) == ("unauthorized", 401)
            for text in (
                str(error),
                repr(error),
                repr(client),
                error.detail,
                repr(error.__cause__),
            ):
                assert token not in text
    assert personio.received_applications == [] and personio.received_documents == {}


def test_the_21st_request_in_a_minute_is_rate_limited(api, personio, cv):
    uploaded = api.upload_document(cv, "cv.pdf")  # documents and applications share the budget
    api.create_application(applicant())
    for _ in range(18):
        with pytest.raises(PermanentError):
            api.create_application(applicant(email="bad"))
    with pytest.raises(TransientError) as caught:
        api.create_application(applicant(email="late@example.org"))
    error = caught.value
    assert (error.reason, error.status) == ("rate_limited", 429)
    assert 50 <= error.retry_after <= 60
    with pytest.raises(TransientError, match="rate_limited"):
        api.upload_document(cv, "again.pdf")
    assert [a["body"]["email"] for a in personio.received_applications] == [applicant()["email"]]
    assert list(personio.received_documents) == [uploaded.uuid]


def test_refused_requests_do_not_extend_the_wait(start_sandbox):
    clock = Clock()  # Personio's rate window on a test clock: no real waiting
    server = start_sandbox(rate_limit=(2, 60.0), clock=clock)
    with RecruitingClient(server.url, SANDBOX_COMPANY_ID, SANDBOX_TOKEN) as api:
        api.create_application(applicant())
        api.create_application(applicant(email="b@example.org"))
        clock.advance(30)  # refused late in the window: they would outlive the admitted two
        for _ in range(5):
            with pytest.raises(TransientError) as caught:
                api.create_application(applicant(email="c@example.org"))
        assert caught.value.retry_after == 30  # until the first admitted request leaves
        clock.advance(29.5)
        with pytest.raises(TransientError) as caught:
            api.create_application(applicant(email="c@example.org"))
        assert caught.value.retry_after == 1  # whole seconds, rounded up
        clock.advance(0.5)  # the admitted two have left the window; the refusals never counted
        api.create_application(applicant(email="c@example.org"))
    assert len(server.sandbox.received_applications) == 3


# -- transient failures --------------------------------------------------------------------


@pytest.mark.parametrize(("target", "status"), [("applications", 503), ("recruiting", 500)])
def test_server_errors_are_transient_and_maybe_delivered(api, personio, target, status):
    personio.inject(target, "status", status=status, times=1)
    with pytest.raises(TransientError) as caught:
        api.create_application(applicant())
    error = caught.value
    assert (error.reason, error.status, error.maybe_delivered) == (f"http_{status}", status, True)
    assert error.retry_after is None
    api.create_application(applicant())  # the fault was used up


def test_injected_429_carries_retry_after_in_seconds_or_as_a_date(api, personio, cv):
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    personio.inject("recruiting", "status", status=429, retry_after=7, times=1)
    personio.inject("documents", "status", status=429, retry_after=later, times=1)
    with pytest.raises(TransientError) as by_seconds:
        api.create_application(applicant())
    with pytest.raises(TransientError) as by_date:
        api.upload_document(cv, "cv.pdf")
    assert by_seconds.value.retry_after == 7.0 and by_seconds.value.reason == "rate_limited"
    assert 25 <= by_date.value.retry_after <= 30


def test_feature_disabled_is_permanent(api, personio):
    body = '{"errors":[{"field":"company","errors":[{"reason":"feature.public-api.disabled"}]}]}'
    personio.inject(
        "applications", "status", status=403, body=body, content_type="application/json"
    )
    with pytest.raises(PermanentError) as caught:
        api.create_application(applicant())
    assert (caught.value.reason, caught.value.status) == ("feature.public-api.disabled", 403)


def test_connection_refused_was_certainly_not_delivered(personio):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with RecruitingClient(f"http://127.0.0.1:{port}", SANDBOX_COMPANY_ID, SANDBOX_TOKEN) as client:
        with pytest.raises(TransientError) as caught:
            client.create_application(applicant())
    assert (caught.value.reason, caught.value.maybe_delivered) == ("connect", False)
    assert caught.value.status is None


def test_read_timeout_is_transient_with_unknown_outcome(personio, sandbox_server, cv):
    personio.inject("recruiting", "hang", delay=2, times=1)
    timeout = httpx.Timeout(5.0, read=0.3)
    with RecruitingClient(
        sandbox_server.url, SANDBOX_COMPANY_ID, SANDBOX_TOKEN, timeout=timeout
    ) as client:
        with pytest.raises(TransientError) as caught:
            client.upload_document(cv, "cv.pdf")
    assert (caught.value.reason, caught.value.maybe_delivered) == ("timeout", True)
    assert "ReadTimeout" in caught.value.detail


def test_lost_answer_after_storing_makes_the_retry_a_duplicate(api, personio):
    personio.inject("applications", "drop_after", times=1)
    with pytest.raises(TransientError) as caught:
        api.create_application(applicant())
    assert (caught.value.reason, caught.value.maybe_delivered) == ("connection_lost", True)
    assert len(personio.received_applications) == 1  # Personio has it; we could not know
    with pytest.raises(DuplicateApplicant):
        api.create_application(applicant())


def test_drop_before_processing_stores_nothing(api, personio):
    personio.inject("applications", "drop", times=1)
    with pytest.raises(TransientError, match="connection_lost"):
        api.create_application(applicant())
    assert personio.received_applications == []
    api.create_application(applicant())
    assert len(personio.received_applications) == 1


def test_recruiting_fault_targets_and_kinds_are_checked(personio):
    with pytest.raises(ValueError, match="does not apply"):
        personio.inject("feed", "drop_after")
    with pytest.raises(ValueError, match="does not apply"):
        personio.inject("documents", "html")
    with pytest.raises(ValueError, match="retry_after"):
        personio.inject("recruiting", "status", status=429, retry_after=[1])


def test_stopping_the_server_removes_stored_documents(cv):
    with SandboxServer() as server:
        with RecruitingClient(server.url, SANDBOX_COMPANY_ID, SANDBOX_TOKEN) as client:
            uploaded = client.upload_document(cv, "cv.pdf")
        stored = server.sandbox.received_documents[uploaded.uuid].path
        assert stored.read_bytes() == PDF
    assert not stored.exists() and not stored.parent.exists()
    assert server.sandbox.received_documents == {}


# -- the client alone ----------------------------------------------------------------------


def test_transport_seam_headers_and_redirects_are_permanent():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "https://www.personio.de/"})

    transport = httpx.MockTransport(handler)
    with RecruitingClient("https://api.example/base/", "7", "t0k3n", transport=transport) as client:
        with pytest.raises(PermanentError) as caught:
            client.create_application({"job_position_id": 1})
    assert caught.value.reason == "http_302"
    [request] = seen
    assert str(request.url) == "https://api.example/base/v1/recruiting/applications"
    assert request.headers["Authorization"] == "Bearer t0k3n"
    assert (request.headers["X-Company-ID"], request.headers["X-Personio-App-ID"]) == (
        "7",
        "careers",
    )
    assert request.headers["Accept"] == "application/json"


class _Recorder(httpx.BaseTransport):
    """Reads the request body the way a socket would and notes the chunk sizes."""

    def __init__(self) -> None:
        self.chunks: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for chunk in request.stream:
            self.chunks.append(len(chunk))
        answer = {
            "uuid": "u",
            "size": 1,
            "mimetype": "x",
            "original_filename": "n",
            "extension": "pdf",
        }
        return httpx.Response(200, json=answer)


def test_upload_streams_the_file_in_chunks(tmp_path):
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024)
    recorder = _Recorder()
    with RecruitingClient("http://personio.test", "1", "t", transport=recorder) as client:
        assert client.upload_document(big, "big.pdf").uuid == "u"
    assert sum(recorder.chunks) > 3 * 1024 * 1024
    assert max(recorder.chunks) <= 64 * 1024  # never the whole file in memory


@pytest.mark.parametrize(
    ("body", "reasons", "detail"),
    [
        (b'{"errors":[{"field":"email","errors":[{"reason":"errors.attribute-validation.invalid-email-format"}]}]}',
         [R + "invalid-email-format"], "email: " + R + "invalid-email-format"),
        (b'{"errors":[{"field":"email","errors":[{"reason":"errors.applicant-already-exists","context":{}}]},'
         b'{"field":"files[0]","errors":[{"reason":"errors.file-validation.file-not-exists"}]}]}',
         ["errors.applicant-already-exists", "errors.file-validation.file-not-exists"],
         "email: errors.applicant-already-exists; files[0]: errors.file-validation.file-not-exists"),
        (b'{"errors":[{"id":"4f1c","status":"400","title":"Bad Request","detail":"Invalid request body supplied"}]}',
         [], "Invalid request body supplied"),
        (b'{"errors":[{"id":"4f1c","status":"500","title":"Internal Server Error"}]}', [], "Internal Server Error"),
        (b'{"error":{"reason":"Field \'id\' is required"}}', [], "Field 'id' is required"),
        (b'{"error":{"reason":"errors.job-position.not-published"}}', ["errors.job-position.not-published"], ""),
        (b'{"error":{"message":"Job position not published"}}', [], "Job position not published"),
        (b'{"success":false,"error":{"message":"personio.core.api.exceptions.api.forbidden.http.exception","code":0}}',
         ["personio.core.api.exceptions.api.forbidden.http.exception"], ""),
        (b'{"success":false,"data":{"message":"Applicant already applied to this position."}}', [],
         "Applicant already applied to this position."),
        (b'{"message":"Too Many Requests"}', [], "Too Many Requests"),
        (b'{"errors":"weird","error":17}', [], ""),
        (b"[1, 2]", [], ""),
        (b'"errors.file-too-big"', ["errors.file-too-big"], ""),
        (b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", [], "502 Bad Gateway"),
        (b"<!DOCTYPE html><html><body><p>Oops</p></body></html>", [], ""),
        (b"upstream connect error or disconnect/reset before headers\n", [],
         "upstream connect error or disconnect/reset before headers"),
        (b"", [], ""),
        (b"   \n", [], ""),
        (b"\xff\xfe{not json", [], "\ufffd\ufffd{not json"),
        ("x" * 2000, [], "x" * 499 + "…"),
    ],
)  # fmt: skip
def test_error_body_parser(body, reasons, detail):
    parsed = parse_error_body(body)
    assert (parsed.reasons, parsed.detail) == (reasons, detail)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("-3", None),
        ("nan", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past: go now
    ],
)
def test_retry_after_parser(header, expected):
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == expected
