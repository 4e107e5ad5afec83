"""Every page validates with the Nu HTML checker (vnu.jar, from the npm package `vnu-jar`):
every page the site serves, in every language, and the application form in every field
configuration the form file allows. The pages are rendered by the real app against the
sandbox and checked in one JVM run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from careers.applications.rules import Status
from careers.mail import alert_links
from careers.mail.store import MailKind
from careers.sandbox.sample_data import UNTRANSLATED_ID, sample_positions, synthetic_positions

from . import filegen
from .applying import (
    JOB,
    LANGUAGES,
    apply_env,
    encode,
    every_language_env,
    open_form,
    send,
    token_of,
    valid_fields,
)
from .apps import SECRET, catalogue_of

pytestmark = pytest.mark.system

VNU_CACHE = Path(os.environ.get("CAREERS_VNU_DIR", Path.home() / ".cache" / "careers-vnu"))
VNU_JAR = VNU_CACHE / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

OTHER_JOB = 1843011  # a job the positions-limited fields below do not apply to
TYPES = ("text", "textarea", "date", "select", "checkbox", "number")
SYSTEM = ("phone", "location", "birthday", "gender", "available_from", "salary_expectations")
DOCUMENTS = ("cv", "cover-letter", "certificate", "employment-reference", "work-sample", "other")


def form_file(visibility: str, *, required: bool) -> str:
    """A form file with every system field and document input `visibility` and, unless
    hidden, every field type (required or not), one of them only on JOB, one only on
    another job."""
    lines = ["[system]"]
    lines += [f'{name} = "{visibility}"' for name in (*SYSTEM, "message")]
    lines += ["", "[documents]"]
    lines += [f'{name} = "{visibility}"' for name in DOCUMENTS]
    if visibility == "hidden":
        return "\n".join(lines) + "\n"
    for number, kind in enumerate(TYPES, start=1):
        lines += [
            "",
            "[[field]]",
            f'id = "custom_attribute_{number}"',
            f'type = "{kind}"',
            f"required = {str(required).lower()}",
            f'label = {{ en = "Question {number} <{kind}> & more", de = "Frage {number}" }}',
        ]
        if kind == "select":
            lines.append(
                'options = [ { value = "a", label = { en = "A & B", de = "A und B" } },'
                ' { value = "b", label = "<b>" } ]'
            )
    lines += [
        "",
        "[[field]]",
        'id = "custom_attribute_7"',
        'type = "date"',
        f"required = {str(required).lower()}",
        'label = "Only on this job"',
        f"positions = [{JOB}]",
        "",
        "[[field]]",
        'id = "custom_attribute_8"',
        'type = "checkbox"',
        'label = "Only on another job"',
        f"positions = [{OTHER_JOB}]",
    ]
    return "\n".join(lines) + "\n"


CONFIGURATIONS = {
    "required": form_file("required", required=True),
    "optional": form_file("optional", required=False),
    "hidden": form_file("hidden", required=False),
}

# A value no field accepts, for every field (and nothing for the boxes): the 422 form then
# shows an error beside every field of the configuration.
INVALID = {
    "first_name": "",
    "last_name": "x" * 256,
    "email": "not-an-address",
    "phone": "1" * 61,
    "location": "x" * 256,
    "birthday": "30.04.1990",
    "gender": "bogus",
    "available_from": "soon",
    "salary_expectations": "x" * 256,
    "message": "x" * 10_001,
    "custom_attribute_1": "x" * 256,
    "custom_attribute_2": "x" * 5_001,
    "custom_attribute_3": "bogus",
    "custom_attribute_4": "bogus",
    "custom_attribute_6": "many",
    "custom_attribute_7": "bogus",
}

Pages = dict[str, tuple[int, str]]  # name -> (status, HTML)


@pytest.fixture(scope="session")
def vnu() -> Path:
    """vnu.jar, installed once with npm into a cache directory."""
    if not VNU_JAR.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install vnu-jar"
        VNU_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(VNU_CACHE), "vnu-jar"], check=True)
    assert shutil.which("java"), "Java 11+ is needed to run the Nu HTML checker"
    return VNU_JAR


class Recorder:
    """Collects pages under a name, with the status each must have been answered with."""

    def __init__(self) -> None:
        self.pages: Pages = {}

    def keep(self, name: str, response, status: int) -> str:
        assert response.status_code == status, (name, response.status_code)
        assert response.mimetype == "text/html", (name, response.mimetype)
        html = response.get_data(as_text=True)
        self.pages[name] = (status, html)
        return html

    def get(self, client: FlaskClient, name: str, path: str, status: int = 200) -> str:
        return self.keep(name, client.get(path, follow_redirects=True), status)


def client_at(app: Flask, address: str) -> FlaskClient:
    """A test client whose requests come from `address` (rate limits are per client)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def form_pages(make_app, sandbox_server, tmp_path: Path, name: str, form: str) -> Pages:
    """The application form of one configuration: empty in two languages and in the widget,
    and sent back with every field wrong (a wrong file too, where the form takes files)."""
    pages = Recorder()
    (tmp_path / name).mkdir()
    env = apply_env(sandbox_server.url, tmp_path / name)
    Path(env["form_file"]).write_text(form, encoding="utf-8")
    app = make_app(tmp_path / name / "data", **env)
    client = app.test_client()
    here = pages.get(client, f"{name}/en/apply", f"/en/jobs/{JOB}/apply")
    there = pages.get(client, f"{name}/en/apply-other", f"/en/jobs/{OTHER_JOB}/apply")
    pages.get(client, f"{name}/de/apply", f"/de/jobs/{JOB}/apply")
    if name != "hidden":  # every type shown; the limited fields on their own jobs only
        assert all(f'name="custom_attribute_{n}"' in here for n in range(1, 8)), name
        assert 'name="custom_attribute_8"' not in here and 'name="custom_attribute_8"' in there
        assert 'name="custom_attribute_7"' not in there
    if name == "required":  # ten system fields and questions, six documents, the consent
        assert here.count(" required") >= 17, here.count(" required")
    pages.get(client, f"{name}/embed-apply", f"/embed/en/jobs/{JOB}/apply")
    files = []
    if name != "hidden":
        wrong = filegen.make_txt(tmp_path / name / "cv.txt")
        files = [("cv", wrong, "cv.exe"), ("other", wrong, "notes.txt")]
    for lang in ("en", "de"):
        fields = {"form_token": open_form(client, lang=lang), "website": "", **INVALID}
        html = pages.keep(f"{name}/{lang}/apply-422", send(client, fields, files, lang=lang), 422)
        assert 'class="error-summary"' in html
        if name != "hidden":  # a typed date no date input can hold: kept, in a text input
            assert 'name="birthday" type="text" value="30.04.1990"' in html
    return pages.pages


def applications(app: Flask, tmp_path: Path, pages: Recorder) -> None:
    """Receipts in every status, and what the form answers besides: 409, 413, 429, 422
    notices, 403, 408, 400, 503."""
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    client = client_at(app, "192.0.2.10")
    receipts = []
    for number in range(4):
        token = open_form(client)
        sent = send(
            client, valid_fields(token, email=f"c{number}@example.com"), [("cv", cv, "cv.pdf")]
        )
        assert sent.status_code == 303, sent.status_code
        receipts.append(sent.headers["Location"])
    # The last form sent again with other details: 409.
    again = send(client, valid_fields(token, first_name="Anna"), [("cv", cv, "cv.pdf")])
    pages.keep("apply-409", again, 409)
    fifth = send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")])
    assert fifth.status_code == 303
    # Five applications from one client: the form says when the next may go, a sixth is 429.
    pages.get(client, "apply-rate-notice", f"/en/jobs/{JOB}/apply")
    sixth = send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")])
    pages.keep("apply-429", sixth, 429)

    outbox = app.extensions["careers"].outbox
    outbox.mark_delivered(outbox.claim("test", 60).id)
    outbox.mark_delivered(outbox.claim("test", 60).id, Status.ALREADY_APPLIED)
    outbox.park(outbox.claim("test", 60).id, "errors.test")
    statuses = set()
    for number, receipt in enumerate(receipts):
        html = pages.get(client, f"receipt-{number}", receipt)
        statuses.add(re.search(r'class="receipt__status[^"]*">([^<]+)<', html)[1])
        pages.get(client, f"embed-receipt-{number}", receipt.replace("/en/", "/embed/en/", 1))
        pages.get(client, f"de-receipt-{number}", receipt.replace("/en/", "/de/", 1))
    assert statuses == {"Received", "Forwarded", "Already applied", "Needs attention"}

    other = client_at(app, "192.0.2.20")
    eleven = [("cv", cv, f"cv{number}.pdf") for number in range(11)]  # ten files at most
    pages.keep("apply-413", send(other, valid_fields(open_form(other)), eleven), 413)
    spam = valid_fields(open_form(other), website="https://spam.example")
    pages.keep("apply-422-retry", send(other, spam, [("cv", cv, "cv.pdf")]), 422)
    hidden = [("cv", cv, "cv.pdf"), ("work-sample", cv, "sample.pdf")]
    pages.keep("apply-422-hidden", send(other, valid_fields(open_form(other)), hidden), 422)
    # A field missing: the CV is kept, shown as attached with its "Remove" control.
    missing = valid_fields(open_form(other), first_name="")
    kept = pages.keep("apply-422-kept", send(other, missing, [("cv", cv, "cv.pdf")]), 422)
    assert "file-item--kept" in kept and 'name="kept_files"' in kept

    # 408 needs a socket that stalls, which the test client has not (tests/test_slow_clients.py
    # stalls a real one): the page the view renders then, rendered here the same way.
    with app.test_request_context(f"/en/jobs/{JOB}/apply", method="POST"):
        app.preprocess_request()
        position = catalogue_of(app).find("en", JOB)[0]
        slow = app.make_response((render_template("apply/too_slow.html", position=position), 408))
    pages.keep("apply-408", slow, 408)
    body, content_type = encode(
        valid_fields(open_form(other)), [("cv", cv, "cv.pdf", "application/pdf")]
    )
    truncated = other.post(
        f"/en/jobs/{JOB}/apply",
        input_stream=BytesIO(body[: len(body) // 2]),
        content_length=len(body) // 2,
        content_type=content_type,
    )
    pages.keep("apply-400", truncated, 400)
    gate = app.extensions["careers"].upload_gate
    taken = []
    while slot := gate.acquire(f"client {len(taken)}"):  # every slot, each another client's
        taken.append(slot)
    try:
        busy = send(other, valid_fields(open_form(other)), [("cv", cv, "cv.pdf")])
        pages.keep("apply-503", busy, 503)
    finally:
        for slot in taken:
            gate.release(slot)

    forger = client_at(app, "192.0.2.30")
    forged = {"Origin": "https://evil.example"}
    for _ in range(10):  # refused posts from one client, until it is refused unread
        send(forger, valid_fields(open_form(forger)), headers=forged)
    pages.keep("apply-429-refused", send(forger, valid_fields("forged"), headers=forged), 429)
    pages.keep("apply-403", send(other, valid_fields("forged"), headers=forged), 403)


def job_alerts(app: Flask, pages: Recorder) -> None:
    """Every job-alert page: ask, 422, requested, confirm, confirmed, unsubscribe,
    unsubscribed, an unknown link, 403 and 429; in the widget where it has them."""
    client = client_at(app, "192.0.2.40")
    store = app.extensions["careers"].mail
    query = "department=Engineering&employment_type=intern&q=robot%20%3Carm%3E"
    ask = pages.get(client, "alerts-ask", f"/en/job-alerts?{query}")
    pages.get(client, "alerts-embed-ask", f"/embed/de/job-alerts?{query}")

    def subscribe(email: str) -> object:
        fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', ask)
        data = MultiDict([*fields, ("email", email), ("website", "")])
        return client.post("/en/job-alerts", data=data)

    pages.keep("alerts-422", subscribe("not-an-address"), 422)
    done = subscribe("anna.berg@example.com")
    assert done.status_code == 303
    pages.get(client, "alerts-requested", done.headers["Location"])
    pages.get(client, "alerts-embed-requested", "/embed/en/job-alerts/requested")
    queued = store.claim_mail("test")
    assert queued is not None and queued.kind is MailKind.CONFIRM
    sub = store.subscription(queued.subscription_id)
    token = alert_links.subscription_token(SECRET, sub.id, sub.salt)
    confirm = pages.get(client, "alerts-confirm", f"/en/job-alerts/{token}/confirm")
    button = token_of(confirm)
    confirmed = client.post(f"/en/job-alerts/{token}/confirm", data={"form_token": button})
    pages.keep("alerts-confirmed", confirmed, 200)
    pages.get(client, "alerts-confirm-again", f"/de/job-alerts/{token}/confirm")
    leave = pages.get(client, "alerts-unsubscribe", f"/en/job-alerts/{token}/unsubscribe")
    left = client.post(f"/en/job-alerts/{token}/unsubscribe", data={"form_token": token_of(leave)})
    pages.keep("alerts-unsubscribed", left, 200)
    pages.get(client, "alerts-no-link", f"/en/job-alerts/{token}/confirm", 404)
    forged = client.post("/en/job-alerts", data={"email": "anna.berg@example.com"})
    pages.keep("alerts-403", forged, 403)
    for _ in range(3):  # five requests an hour from one client
        subscribe("anna.berg@example.com")
    pages.keep("alerts-429", subscribe("anna.berg@example.com"), 429)


OPEN_APPLICATION = 1843801  # "Open Application" on the sample board


def site_pages(make_app, sandbox, sandbox_server, tmp_path: Path) -> Pages:
    """Every page but the form's configurations: all seven languages, mail on, a logo."""
    pages = Recorder()
    (tmp_path / "site").mkdir()
    (tmp_path / "plain").mkdir()
    env = {
        **apply_env(sandbox_server.url, tmp_path / "site"),
        **every_language_env(sandbox, tmp_path / "site"),
        "smtp_url": "smtp://127.0.0.1:2525",
        "mail_from": "jobs@nordlicht.example",
        "public_url": "http://localhost",
        "imprint_url": "https://nordlicht.example/imprint",
        # Share and refer links on every job page, the open-application box on every list.
        "open_application_job": str(OPEN_APPLICATION),
        "referral_channel": "2004",
    }
    app = make_app(tmp_path / "site" / "data", **env)
    client = app.test_client()
    for lang in LANGUAGES:
        pages.get(client, f"{lang}/jobs", f"/{lang}/jobs")
        pages.get(client, f"{lang}/detail", f"/{lang}/jobs/{JOB}")
        pages.get(client, f"{lang}/apply", f"/{lang}/jobs/{JOB}/apply")
        # Who referred you (a referral link), and the open application's job-alert tick.
        pages.get(client, f"{lang}/apply-referred", f"/{lang}/jobs/{JOB}/apply?_pc=2004")
        pages.get(client, f"{lang}/open-application", f"/{lang}/jobs/{OPEN_APPLICATION}/apply")
    for path in (
        "/de/jobs?department=Engineering&office=Berlin&office=Hamburg",
        "/en/jobs?q=nothing-matches-this",
        "/en/jobs?q=%22%3E%3Cb%3Eengineer&employment_type=intern&sort=title",
        "/en/jobs?min_salary=50000&sort=salary",
        "/embed/en/jobs",
        "/embed/de/jobs?department=Engineering",
        f"/embed/en/jobs/{JOB}",
        f"/embed/de/jobs/{JOB}",
        f"/embed/en/jobs/{JOB}/apply",
        f"/de/jobs/{UNTRANSLATED_ID}",
        "/en/jobs/999999999",
        "/de/nothing-here",
    ):
        pages.get(client, path, path, 404 if "999999999" in path or "nothing-here" in path else 200)
    for position in sample_positions("en"):
        pages.get(client, f"en/detail/{position.id}", f"/en/jobs/{position.id}")
    for position in sample_positions("de"):
        pages.get(client, f"de/detail/{position.id}", f"/de/jobs/{position.id}")
    pages.keep("405", client.post("/en/jobs"), 405)
    plain = make_app(tmp_path / "plain", **apply_env(sandbox_server.url, tmp_path / "plain"))
    pages.get(plain.test_client(), "no-mail/jobs", "/en/jobs")

    applications(app, tmp_path / "site", pages)
    job_alerts(app, pages)

    # The board changes: a long list with pages, an empty one, and a job gone (410).
    long = synthetic_positions(60, seed=3)
    for lang in LANGUAGES:
        sandbox.set_positions(lang, [] if lang == "de" else long)
    catalogue_of(app).refresh_all()
    gone = min({p.id for p in sample_positions("en")} - {p.id for p in long})
    pages.get(client, "long/jobs", "/en/jobs?page=2")
    pages.get(client, "empty/jobs", "/de/jobs")
    pages.get(client, "410", f"/en/jobs/{gone}", 410)
    pages.get(client, "410-apply", f"/en/jobs/{gone}/apply", 410)
    pages.get(client, "embed-410", f"/embed/en/jobs/{gone}", 410)
    # No board at all: 503.
    sandbox.inject(kind="status", status=500)
    cold = make_app(tmp_path / "cold").test_client()
    pages.get(cold, "503", "/en/jobs", 503)
    return pages.pages


def check(vnu: Path, folder: Path, pages: Pages) -> list[str]:
    """The Nu checker's errors for these pages, one JVM for all, as "name:line: message"."""
    folder.mkdir()
    names = {}
    for number, (name, (_status, html)) in enumerate(pages.items()):
        path = folder / f"page{number}.html"
        path.write_text(html, encoding="utf-8")
        names[path.name] = name
    checked = subprocess.run(
        ["java", "-jar", str(vnu), "--format", "json", "--stdout",
         *(str(folder / name) for name in names)],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    report = json.loads(checked.stdout)
    return [
        f"{names.get(m.get('url', '').rsplit('/', 1)[-1], m.get('url'))}:{m.get('lastLine')}: "
        f"{m['message']}"
        for m in report["messages"]
        if m["type"] != "info"  # errors, and fatal ones (a page that cannot be parsed)
    ]


# A page the checker must refuse, checked with the others: proof that the run checks at all.
BROKEN = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>'
    '<body><input type="date" name="d" maxlength="255" aria-label="d"></body></html>'
)


def test_every_page_validates_with_the_nu_checker(
    make_app: Callable[..., Flask], sandbox, sandbox_server, tmp_path: Path, vnu: Path
) -> None:
    pages: Pages = {}
    for name, form in CONFIGURATIONS.items():
        pages.update(form_pages(make_app, sandbox_server, tmp_path, name, form))
    pages.update(site_pages(make_app, sandbox, sandbox_server, tmp_path))
    assert len(pages) > 100
    pages["broken"] = (200, BROKEN)  # the date field as it was before its fix
    errors = check(vnu, tmp_path / "pages", pages)
    broken = [error for error in errors if error.startswith("broken:")]
    assert len(broken) == 1 and "maxlength" in broken[0], broken
    errors = [error for error in errors if error not in broken]
    assert errors == [], "\n".join(errors)
