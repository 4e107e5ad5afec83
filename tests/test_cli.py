"""The `careers` command: check, config errors, and `careers demo` as a real process."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from careers.config import ConfigError, load_settings
from careers.envfile import parse_env

from .apps import SECRET
from .pg import in_ci
from .servers import eventually, free_port

ROOT = Path(__file__).resolve().parents[1]


def test_check_fetches_every_language_and_prints_counts(runner, sandbox, sandbox_server, tmp_path):
    env = {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(tmp_path),
    }
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 0, result.output
    assert "feed en: 15 positions (15 with description text)" in result.output
    assert "feed de: 15 positions (14 with description text)" in result.output
    assert "read-only" in result.output


def test_check_fails_loudly_when_the_feed_is_html(runner, sandbox, sandbox_server, tmp_path):
    sandbox.inject(kind="html", language="de")
    env = {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(tmp_path),
    }
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 1
    assert "feed de: FAILED (feed_off) the account answers with an HTML page" in result.output
    assert "feed en: 15 positions" in result.output


def test_bad_configuration_prints_one_line_per_problem_and_exits_2(runner):
    env = {
        "CAREERS_PERSONIO_SUBDOMAIN": "",
        "CAREERS_FEED_TTL": "soon",
        "CAREERS_SECRET_KEY": "x" * 20,
    }
    result = runner.invoke(["check"], env=env)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        "careers: configuration error: CAREERS_FEED_TTL: must be a whole number",
        "careers: configuration error: CAREERS_PERSONIO_SUBDOMAIN: required (or set "
        "CAREERS_PERSONIO_FEED_URL), e.g. 'acme' for https://acme.jobs.personio.de/xml",
    ]


@pytest.mark.system
def test_demo_serves_sample_jobs_in_both_languages(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    env["CAREERS_DATA_DIR"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "careers.cli", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                english = httpx.get(f"{base}/en/jobs", timeout=10)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert english.status_code == 200
        assert "Nordlicht Robotics" in english.text and "Embedded Systems Engineer" in english.text
        german = httpx.get(f"{base}/de/jobs", timeout=10)
        assert german.status_code == 200 and "Offene Stellen" in german.text
        assert (tmp_path / "demo" / "feeds" / "en.xml").exists()
        _apply_in_demo(base, proc, tmp_path)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def _apply_in_demo(base: str, proc: subprocess.Popen, tmp_path: Path) -> None:
    """A CV and a cover letter reach the sandbox page with every field and file."""
    import re

    from . import filegen
    from .filegen_office import make_docx

    sandbox_url = None
    form = httpx.get(f"{base}/en/jobs/1842958/apply", timeout=10).text
    token = re.search(r'name="form_token" value="([^"]+)"', form)[1]
    time.sleep(3.1)  # the demo keeps the default minimum fill time
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    letter = make_docx(tmp_path / "letter.docx")
    with cv.open("rb") as cv_file, letter.open("rb") as letter_file:
        response = httpx.post(
            f"{base}/en/jobs/1842958/apply",
            data={
                "form_token": token,
                "website": "",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@example.com",
                "phone": "+44 20 1234567",
                "location": "London",
                "custom_attribute_1002": "friend",
                "message": "Hello\nthere",
                "consent": "yes",
            },
            files=[
                ("cv", ("Ada CV.pdf", cv_file, "application/pdf")),
                ("cover-letter", ("Cover letter.docx", letter_file, "application/octet-stream")),
            ],
            headers={"Origin": base, "Sec-Fetch-Site": "same-origin"},
            timeout=30,
        )
    assert response.status_code == 303, response.text[:500]
    receipt = response.headers["Location"]
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while sandbox_url is None:
        line = proc.stdout.readline().decode()
        match = re.search(r"received: (http://\S+/_sandbox/applications)", line)
        if match:
            sandbox_url = match[1]
        assert time.monotonic() < deadline, "demo did not print the sandbox page"
    while True:
        received = httpx.get(f"{sandbox_url}.json", timeout=10).json()
        if received["applications"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    [application] = received["applications"]
    body = application["body"]
    assert (body["first_name"], body["email"], body["job_position_id"]) == (
        "Ada",
        "ada@example.com",
        1842958,
    )
    assert {"id": "custom_attribute_1002", "value": "friend"} in body["attributes"]
    assert {"id": "location", "value": "London"} in body["attributes"]
    names = sorted((f["category"], f["original_filename"]) for f in body["files"])
    assert names == [("cover-letter", "Cover letter.docx"), ("cv", "Ada CV.pdf")]
    page = httpx.get(sandbox_url, timeout=10).text
    assert "Ada CV.pdf" in page and "Cover letter.docx" in page and "Lovelace" in page
    while "has been forwarded" not in httpx.get(f"{base}{receipt}", timeout=10).text:
        assert time.monotonic() < deadline
        time.sleep(0.2)


@pytest.mark.system
@pytest.mark.skipif(
    subprocess.run([sys.executable, "-c", "import hatchling"], capture_output=True).returncode != 0,
    reason="hatchling not installed",
)
def test_wheel_ships_templates_static_and_translations(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("personio_careers-*.whl")  # "careers" is taken on PyPI
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "careers/templates/base.html",
        "careers/templates/jobs/list.html",
        "careers/templates/jobs/feed.xml",
        "careers/static/careers.css",
        "careers/translations/de/LC_MESSAGES/messages.mo",
        "careers/translations/de/LC_MESSAGES/informal.mo",
        "careers/sandbox/server.py",
        "careers/cli/__main__.py",
    ):
        assert required in names, required


@pytest.mark.system
def test_the_demo_shows_a_whole_job_alert_in_the_sandboxs_mail(tmp_path):
    """Subscribe on the demo's list, confirm from the caught mail, publish a job on the
    sandbox page, get the digest and leave with the mail's one-click button."""
    import re

    import lxml.html

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    env.update(CAREERS_DATA_DIR=str(tmp_path), CAREERS_FEED_TTL="1", CAREERS_ALERT_INTERVAL="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "careers.cli", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        while not any("/_sandbox/mail" in line for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        sandbox = re.search(r"(http://127\.0\.0\.1:\d+)/_sandbox/mail", "".join(lines))[1]
        base = f"http://127.0.0.1:{port}"
        assert eventually(lambda: _answers(f"{base}/healthz"), 30)
        web = httpx.Client(base_url=base, timeout=10)

        def mails() -> list[dict]:
            """Lena's mails: the operators get theirs too (the demo's board leaves pay out
            of most ads, so a daily pay-transparency alert goes out beside them)."""
            caught = httpx.get(f"{sandbox}/_sandbox/mail.json", timeout=10).json()["mails"]
            return [mail for mail in caught if mail["rcpt_to"] == ["lena@example.org"]]

        def submit(page: httpx.Response, xpath: str, **values: str) -> httpx.Response:
            form = lxml.html.fromstring(page.text).xpath(xpath)[0]
            data: dict[str, list[str]] = {}
            for field in form.inputs:
                if field.name:
                    data.setdefault(field.name, []).append(
                        values.get(field.name, field.value or "")
                    )
            return web.post(form.action, data=data)

        page = web.get("/en/jobs?department=Engineering")
        asked = submit(page, '//form[contains(@class, "job-alert")]', email="lena@example.org")
        assert asked.status_code == 303
        assert eventually(lambda: len(mails()) == 1, 30)
        confirm = re.search(r"http://\S+/confirm", mails()[0]["text"])[0]
        confirmed = submit(web.get(confirm), "//main//form")
        assert confirmed.status_code == 200

        httpx.post(f"{sandbox}/_sandbox/publish", data={"department": "Engineering"})
        assert eventually(lambda: len(mails()) == 2, 60)
        digest = mails()[0]  # newest first
        assert "Perception Engineer" in digest["text"] and "utm_source=job-alert" in digest["text"]
        sandbox_page = httpx.get(f"{sandbox}/_sandbox/mail", timeout=10).text
        button = lxml.html.fromstring(sandbox_page).xpath(
            '//form[contains(@action, "unsubscribe")]'
        )
        assert button, sandbox_page
        clicked = httpx.post(sandbox + button[0].action, timeout=10)
        assert clicked.status_code in (200, 303)
        left = web.get(digest["list_unsubscribe"].removeprefix(base))
        assert left.status_code == 404  # the subscription is gone: its link no longer works
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


# -- careers --env-file: the service's settings for an operator's command ------------------------

ENV_FILE = """\
# /etc/careers.env, as systemd reads it
CAREERS_PERSONIO_FEED_URL={feed}
; a comment of the other kind
CAREERS_SECRET_KEY="{secret}"
CAREERS_COMPANY_NAME='Nordlicht Robotics GmbH'
CAREERS_DATA_DIR={data_dir}
CAREERS_FRAME_ANCESTORS=https://www.nordlicht.example \\
  https://jobs.nordlicht.example
"""


def run_careers(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`careers ARGS…` as an operator runs it: a process of its own, no CAREERS_* inherited."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    return subprocess.run(
        [sys.executable, "-m", "careers.cli", *args],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def env_file(tmp_path, sandbox_server) -> Path:
    path = tmp_path / "careers.env"
    data_dir = tmp_path / "data"
    path.write_text(
        ENV_FILE.format(feed=f"{sandbox_server.url}/xml", secret=SECRET, data_dir=data_dir),
        encoding="utf-8",
    )
    return path


@pytest.mark.system
def test_env_file_gives_a_command_the_services_settings(tmp_path, sandbox, env_file):
    result = run_careers(tmp_path, "--env-file", str(env_file), "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "company name: Nordlicht Robotics GmbH" in result.stdout
    assert f"database: SQLite {tmp_path / 'data' / 'careers.db'}" in result.stdout
    assert "feed en: 15 positions" in result.stdout
    listed = run_careers(tmp_path, "--env-file", str(env_file), "outbox", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == ""


@pytest.mark.system
def test_env_file_fills_in_what_the_environment_does_not_set(tmp_path, sandbox, env_file):
    result = run_careers(
        tmp_path, "--env-file", str(env_file), "check", CAREERS_COMPANY_NAME="Acme Override"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "company name: Acme Override" in result.stdout
    assert result.stderr.splitlines() == [
        f"careers: note: CAREERS_COMPANY_NAME is taken from the environment, not {env_file}"
    ]


@pytest.mark.system
@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            "export CAREERS_FEED_TTL=60",
            "'export CAREERS_FEED_TTL' is not a variable name (no"
            " `export`: this is not a shell script)",
        ),
        ("papi-0123456789abcdef", "not NAME=VALUE (there is no '=')"),
        ("CAREERS SECRET KEY=x", "'CAREERS SECRET KEY' is not a variable name"),
    ],
)
def test_env_file_refuses_a_malformed_line_with_its_number(tmp_path, env_file, line, says):
    text = env_file.read_text(encoding="utf-8").splitlines()
    env_file.write_text("\n".join([*text[:2], line, *text[2:]]) + "\n", encoding="utf-8")
    result = run_careers(tmp_path, "--env-file", str(env_file), "outbox", "list")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"careers: --env-file {env_file}, line 3: {says}"]
    assert "0123456789abcdef" not in result.stderr
    assert not (tmp_path / "data").exists()  # nothing ran


@pytest.mark.system
def test_env_file_that_cannot_be_read_is_one_line(tmp_path):
    result = run_careers(tmp_path, "--env-file", str(tmp_path / "missing.env"), "outbox", "list")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"careers: --env-file {tmp_path / 'missing.env'}: cannot read it: No such file or directory"
    ]


# -- docs/deployment.md, as an operator copies it ----------------------------------------------

DEPLOYMENT = ROOT / "docs" / "deployment.md"


def docs_block(language: str, after: str) -> str:
    """The first ```language block after the first line containing `after`."""
    text = DEPLOYMENT.read_text(encoding="utf-8")
    start = text.index(f"```{language}\n", text.index(after)) + len(language) + 4
    return text[start : text.index("```", start)]


def test_the_sample_environment_file_runs_once_its_placeholders_are_replaced(tmp_path):
    sample = parse_env(docs_block("sh", "/etc/careers.env"))
    placeholders = sorted(name for name, value in sample.items() if value == "...")
    assert placeholders == [
        "CAREERS_METRICS_TOKEN",
        "CAREERS_PERSONIO_RECRUITING_TOKEN",
        "CAREERS_SECRET_KEY",
    ]
    with pytest.raises(ConfigError) as caught:  # copied as it is: refused, each by name
        load_settings(sample)
    assert sorted(caught.value.problems) == [
        f"{name}: is the docs' placeholder '...': generate one with `openssl rand -hex 32`"
        for name in placeholders
    ]
    filled = {**sample, "CAREERS_DATA_DIR": str(tmp_path)}
    filled.update({name: "0123456789abcdef" * 4 for name in placeholders})
    settings = load_settings(filled)
    assert settings.secret_key == "0123456789abcdef" * 4  # no comment became part of it
    assert settings.company_name == "ACME GmbH"


def test_the_docs_create_the_user_the_unit_runs_as():
    assert "useradd --system --home /var/lib/careers --shell /usr/sbin/nologin careers" in (
        docs_block("sh", "system user")
    )
    unit = docs_block("ini", "systemd unit")
    assert "User=careers" in unit and "StateDirectory=careers" in unit


@pytest.mark.system
def test_the_docs_nginx_configuration_is_valid(tmp_path):
    """nginx itself reads the block (with a certificate made here), and its upload buffer
    is not the data directory, which is careers' alone (0700)."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        if in_ci():
            pytest.fail("nginx is not installed (CI=true: .ci/run installs nginx-light)")
        pytest.skip("nginx is not installed (Debian's nginx-light)")
    block = docs_block("nginx", "## nginx in front")
    data_dir = parse_env(docs_block("sh", "/etc/careers.env"))["CAREERS_DATA_DIR"]
    [temp_path] = re.findall(r"client_body_temp_path\s+(\S+?);", block)
    assert not Path(temp_path).is_relative_to(data_dir)
    # Port 80 only redirects, to the HTTPS name (never to a client's Host header).
    plain = block[: block.index("listen 443")]
    assert "listen 80;" in plain and "return 301 https://jobs.acme.com$request_uri;" in plain
    cert, key = _self_signed(tmp_path)
    block = block.replace(
        "# ssl_certificate …;", f"ssl_certificate {cert}; ssl_certificate_key {key};"
    ).replace(temp_path, str(tmp_path / "body"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\naccess_log off;\n{block}\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway certificate for jobs.acme.com, so nginx accepts the TLS server block."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jobs.acme.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
