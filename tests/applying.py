"""Helpers to fill in and send the application form the way a browser does."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from careers.applications.delivery import Deliverer
from careers.db.database import open_database
from careers.personio.recruiting import RecruitingClient
from careers.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN

from . import filegen
from .filegen_office import make_docx

JOB = 1842958  # Embedded Systems Engineer, Hamburg (sample data)
FORM = """\
[system]
phone = "optional"
birthday = "optional"
gender = "optional"

[[field]]
id = "custom_attribute_1002"
type = "select"
required = true
label = { en = "How did you hear about us?", de = "Wie hast du von uns erfahren?" }
options = [ { value = "linkedin", label = "LinkedIn" }, { value = "friend", label = "A friend" } ]

[[field]]
id = "custom_attribute_1001"
type = "text"
label = "Portfolio"
positions = [1842907]
"""


def apply_env(sandbox_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Settings for an app that takes applications and delivers them to the sandbox."""
    form = tmp_path / "form.toml"
    form.write_text(FORM, encoding="utf-8")
    return {
        "personio_api_url": sandbox_url,
        "personio_company_id": SANDBOX_COMPANY_ID,
        "personio_recruiting_token": SANDBOX_TOKEN,
        "form_file": str(form),
        "min_fill_seconds": "0",
        "privacy_url": "https://nordlicht.example/privacy",
        **extra,
    }


def short_form_env(sandbox_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """apply_env without a form file: the short form every installation starts with (names,
    email, CV and consent required; cover letter and message optional)."""
    env = apply_env(sandbox_url, tmp_path, **extra)
    del env["form_file"]
    return env


def token_of(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html)[1]


def valid_fields(token: str, **changes: str) -> dict[str, str]:
    fields = {
        "form_token": token,
        "website": "",
        "first_name": "Jürgen",
        "last_name": "Müller",
        "email": "juergen.mueller@example.com",
        "phone": "+49 40 1234567",
        "birthday": "1990-04-30",
        "gender": "male",
        "custom_attribute_1002": "friend",
        "message": "Hallo!\nIch freue mich auf eure Antwort.",
        "consent": "yes",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def encode(fields: dict[str, str], files=()) -> tuple[bytes, str]:
    """multipart/form-data exactly as browsers write it (werkzeug's test encoder drops the
    CRLF before the boundary after an empty part, which real clients never do)."""
    boundary = "----CareersTestBoundary7MA4YWxkTrZu0gW"
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, path, filename, content_type in files:
        quoted = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{quoted}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        out += path.read_bytes() if path is not None else b""
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def multipart_kwargs(fields: dict, files=()) -> dict:
    """Keyword arguments for a test-client POST of a browser-encoded form."""
    body, content_type = encode(
        fields,
        [(f[0], f[1], f[2], f[3] if len(f) > 3 else "application/octet-stream") for f in files],
    )
    return {
        "input_stream": BytesIO(body),
        "content_length": len(body),
        "content_type": content_type,
    }


def send(client, fields: dict, files=(), job: int = JOB, lang: str = "en", headers=None):
    """POST the form; files are (input name, path on disk, file name the browser reports[,
    content type])."""
    body, content_type = encode(
        fields,
        [(f[0], f[1], f[2], f[3] if len(f) > 3 else "application/octet-stream") for f in files],
    )
    return client.post(
        f"/{lang}/jobs/{job}/apply",
        input_stream=BytesIO(body),
        content_length=len(body),
        content_type=content_type,
        headers=headers or {},
    )


def open_form(client, job: int = JOB, lang: str = "en") -> str:
    page = client.get(f"/{lang}/jobs/{job}/apply")
    assert page.status_code == 200, page.status_code
    return token_of(page.get_data(as_text=True))


class Clock:
    """A clock the test moves forward, so retries need no real waiting."""

    def __init__(self) -> None:
        self.now = time.time() + 5  # a little ahead, so what the form stores is already due

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Ticks:
    """A monotonic clock the test sets by hand (token lifetimes, the token budget)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# The settings that make delivery use Personio's v2 API with the sandbox's client.
V2 = {"personio_client_id": SANDBOX_CLIENT_ID, "personio_client_secret": SANDBOX_CLIENT_SECRET}


def run_until_idle(deliverer: Deliverer, clock: Clock, limit: int = 20) -> list[str]:
    """Deliver, jumping the clock past every backoff, until nothing is pending."""
    outcomes = []
    for _ in range(limit):
        outcome = deliverer.deliver_next()
        if outcome is None:
            pending = deliverer.outbox.summaries("pending")
            if not pending:
                return outcomes
            clock.advance(3700)
            continue
        outcomes.append(outcome)
    raise AssertionError(f"not idle after {limit} rounds: {outcomes}")


@contextmanager
def deliverer_of(app, clock: Clock) -> Iterator[Deliverer]:
    """A deliverer of the app's outbox to its Personio, on `clock`."""
    settings = app.extensions["careers"].settings
    database = open_database(settings.database_url, clock=clock)
    try:
        with RecruitingClient(
            settings.personio_api_url,
            settings.personio_company_id,
            settings.personio_recruiting_token,
        ) as client:
            yield Deliverer(database.outbox, client, database.limiter(100, 60), clock=clock)
    finally:
        database.close()


def deliver_all(app) -> list[str]:
    """Deliver everything the app's outbox holds to its Personio, on a test clock that jumps
    past every backoff; returns the outcomes."""
    clock = Clock()
    with deliverer_of(app, clock) as deliverer:
        return run_until_idle(deliverer, clock)


LANGUAGES = ("en", "de", "fr", "es", "nl", "it", "pt")
# A 1x1 PNG and a company stylesheet: the browser suites run with branding configured.
LOGO_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
COMPANY_CSS = ":root { --careers-accent: #0b5d3b; }\n.site-header { border-bottom-width: 3px; }\n"


def every_language_env(sandbox, tmp_path: Path) -> dict[str, str]:
    """Settings for all seven Personio languages, with a logo and a company stylesheet; the
    sandbox serves the English jobs untranslated in the languages it has no texts for."""
    from careers.sandbox.sample_data import sample_feeds

    english = sample_feeds()["en"]
    for lang in LANGUAGES[2:]:
        sandbox.set_positions(lang, english)
    logo = tmp_path / "logo.png"
    logo.write_bytes(LOGO_PNG)
    css = tmp_path / "company.css"
    css.write_text(COMPANY_CSS, encoding="utf-8")
    return {
        "languages": ",".join(LANGUAGES),
        "logo_file": str(logo),
        "stylesheet_file": str(css),
        "imprint_url": "https://nordlicht.example/imprint",
    }


def submit(app, tmp_path, *, email="juergen.mueller@example.com", with_files=True) -> str:
    """Apply through the real form; returns the receipt URL."""
    client = app.test_client()
    folder = tmp_path / f"upload-{email}"
    folder.mkdir(exist_ok=True)
    files = []
    if with_files:
        files = [
            ("cv", filegen.make_pdf(folder / "cv.pdf"), "Lebenslauf Jürgen.pdf"),
            ("cover-letter", make_docx(folder / "letter.docx"), "Anschreiben.docx"),
        ]
    response = send(client, valid_fields(open_form(client), email=email), files)
    assert response.status_code == 303, response.status_code
    return response.headers["Location"]
