"""One host, hardened: one form one application, cheap refusals, erasure that erases."""

from __future__ import annotations

import io
import os
import stat
import threading
from pathlib import Path

import pytest

from . import filegen
from .applying import JOB, apply_env, deliver_all, encode, open_form, send, valid_fields
from .filegen_office import make_docx

EMAIL = "ada.lovelace.7731@example.com"
MARKER = b"CV-MARKER-Ada-Lovelace-Analytical-Engine"


@pytest.fixture
def app(make_app, sandbox_server, tmp_path):
    return make_app(**apply_env(sandbox_server.url, tmp_path))


def stored(app) -> list:
    return app.extensions["careers"].outbox.summaries()


def spooled(app) -> list[Path]:
    spool = app.extensions["careers"].spool
    return list(spool.incoming.iterdir()) + list(spool.stored.iterdir())


class CountingStream(io.BytesIO):
    """A request body that remembers how much of it the server read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:  # type: ignore[override]
        count = super().readinto(buffer)
        self.consumed += count
        return count


def post_counted(client, fields: dict, files=(), headers=None):
    body, content_type = encode(fields, [(*f, "application/octet-stream") for f in files])
    stream = CountingStream(body)
    response = client.post(
        f"/en/jobs/{JOB}/apply",
        input_stream=stream,
        content_length=len(body),
        content_type=content_type,
        headers=headers or {},
    )
    return response, stream, len(body)


# -- one form, one application -------------------------------------------------------------


def test_the_same_form_posted_twice_is_one_application(app, client, sandbox, tmp_path):
    token = open_form(client)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    first = send(client, valid_fields(token), [("cv", cv, "cv.pdf")])
    again = send(client, valid_fields(token), [("cv", cv, "cv.pdf")])  # second click / retry
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert len(stored(app)) == 1
    assert len(spooled(app)) == 1  # the second copy of the file was not kept


def test_a_form_sent_again_with_other_details_is_refused(app, client, sandbox, tmp_path):
    token = open_form(client)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    first = send(client, valid_fields(token), [("cv", cv, "cv.pdf")])
    other = send(client, valid_fields(token, last_name="Byron"), [("cv", cv, "cv.pdf")])
    assert first.status_code == 303
    assert other.status_code == 409
    page = other.get_data(as_text=True)
    assert "This form was already sent" in page and first.headers["Location"] in page
    assert len(stored(app)) == 1 and len(spooled(app)) == 1


def test_a_double_click_racing_itself_stores_one_application(app, sandbox, tmp_path):
    client = app.test_client()
    token = open_form(client)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    answers: list = []
    barrier = threading.Barrier(4)

    def post() -> None:
        barrier.wait()
        answers.append(send(app.test_client(), valid_fields(token), [("cv", cv, "cv.pdf")]))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [303] * 4
    assert len({a.headers["Location"] for a in answers}) == 1
    assert len(stored(app)) == 1 and len(spooled(app)) == 1


def test_two_forms_are_two_applications_and_personio_decides(app, client, sandbox, tmp_path):
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    first = send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")])
    second = send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")])
    assert first.headers["Location"] != second.headers["Location"]
    assert sorted(deliver_all(app)) == ["already_applied", "delivered"]
    assert len(sandbox.received_applications) == 1
    pages = [client.get(r.headers["Location"]).get_data(as_text=True) for r in (first, second)]
    assert sum("You have already applied for this position" in p for p in pages) == 1
    statuses = sorted(s.status for s in stored(app))
    assert statuses == ["already_applied", "delivered"]


# -- refusals are cheap ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"form_token": "forged.token.value"}, 403),
        ({"form_token": ""}, 403),
        ({"website": "http://spam.example"}, 422),  # the honeypot, right after the token
    ],
)
def test_a_forged_or_bot_post_is_refused_before_its_files_are_read(
    app, client, sandbox, tmp_path, fields, status
):
    big = filegen.make_sized(tmp_path / "big.pdf", 15_000_000)
    token = open_form(client)
    values = valid_fields(token) | fields
    ordered = {"form_token": values.pop("form_token")} | values  # as the form renders them
    response, stream, size = post_counted(client, ordered, [("cv", big, "cv.pdf")])
    assert response.status_code == status
    assert response.headers["Connection"] == "close"
    assert stream.consumed < 256 * 1024 < size  # stopped after the first chunks
    assert stored(app) == [] and spooled(app) == []
    assert sandbox.received_applications == []


def test_a_file_before_the_token_is_refused_unread(app, client, sandbox, tmp_path):
    big = filegen.make_sized(tmp_path / "big.pdf", 15_000_000)
    body, content_type = encode({}, [("cv", big, "cv.pdf", "application/pdf")])
    stream = CountingStream(body)
    response = client.post(
        f"/en/jobs/{JOB}/apply",
        input_stream=stream,
        content_length=len(body),
        content_type=content_type,
    )
    assert response.status_code == 403
    assert stream.consumed < 256 * 1024
    assert stored(app) == [] and spooled(app) == []


def test_refused_posts_have_a_budget_of_their_own(app, client, sandbox, tmp_path):
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    for _ in range(10):
        response, _, _ = post_counted(client, {"form_token": "forged"}, [("cv", cv, "cv.pdf")])
        assert response.status_code == 403
    response, stream, _ = post_counted(client, {"form_token": "forged"}, [("cv", cv, "cv.pdf")])
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert stream.consumed == 0  # refused before a byte of the body was read
    # ... while another client is not affected
    other = app.test_client()
    token = open_form(other)
    ok = send(other, valid_fields(token), [("cv", cv, "cv.pdf")], headers={})
    assert ok.status_code in {303, 429}  # same loopback address in the test client
    assert stored(app) == [] or ok.status_code == 303


def test_oversized_posts_count_against_the_refusal_budget(app, client, sandbox, tmp_path):
    big = filegen.make_sized(tmp_path / "big.pdf", 21_000_000)
    for _ in range(10):
        token = open_form(client)
        assert send(client, valid_fields(token), [("cv", big, "cv.pdf")]).status_code == 413
    token = open_form(client)
    assert send(client, valid_fields(token), [("cv", big, "cv.pdf")]).status_code == 429


# -- erasure ---------------------------------------------------------------------------------


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _holding(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in _files_under(root):
        data = path.read_bytes()
        found += [f"{path.name}: {n!r}" for n in needles if n in data]
    return found


def test_a_delivered_candidate_is_found_nowhere_under_the_data_directory(
    make_app, sandbox_server, sandbox, tmp_path
):
    previous = os.umask(0o022)  # a typical umask: the data must stay private anyway
    try:
        app = make_app(**apply_env(sandbox_server.url, tmp_path))
        client = app.test_client()
        cv = filegen.make_pdf(tmp_path / "cv.pdf", text=MARKER.decode())
        letter = make_docx(tmp_path / "letter.docx")
        fields = valid_fields(
            open_form(client),
            email=EMAIL,
            first_name="Adaline",
            last_name="Lovelacewright",
            message="I built the Analytical Engine's first program.",
        )
        response = send(
            client, fields, [("cv", cv, "Adaline-CV.pdf"), ("cover-letter", letter, "l.docx")]
        )
        assert response.status_code == 303
    finally:
        os.umask(previous)
    data_dir = Path(app.extensions["careers"].settings.data_dir)
    needles = [EMAIL.encode(), b"Lovelacewright", b"Analytical Engine's first", MARKER]
    # Sealed at rest even before delivery (the CV waits in the spool for the worker).
    assert _holding(data_dir, needles[:3]) == []
    assert deliver_all(app) == ["delivered"]
    app.extensions["careers"].outbox.purge(0, 0)  # the housekeeping pass
    assert _holding(data_dir, needles + [b"Adaline-CV"]) == []
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
