"""Hosts, logs and metrics (docs/security.md): a pinned public host, one request per log line,
receipts kept out of logs, gunicorn's control socket per data directory, a guarded /metrics."""

from __future__ import annotations

import datetime
import logging
import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gunicorn.config import Config

from careers.cli import serve
from careers.config import ConfigError, load_settings
from careers.logs import GunicornLogger, KeyValueFormatter, clean

from . import filegen
from .applying import JOB, apply_env, open_form, send, valid_fields
from .apps import SECRET
from .servers import free_port

PUBLIC = "https://jobs.nordlicht.example"
EVIL = "evil.example"
CANONICAL = f"/en/jobs/{JOB}-embedded-systems-engineer-m-f-d"
# Everything a client could use to name a host, a scheme or a port.
EVIL_HEADERS = {
    "Host": EVIL,
    "X-Forwarded-Host": EVIL,
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "http",
    "X-Forwarded-Port": "8080",
    "X-Forwarded-Server": EVIL,
    "X-Forwarded-Prefix": f"/{EVIL}",
    "Forwarded": f"for=203.0.113.7;host={EVIL};proto=http",
}
METRICS_TOKEN = "metrics-token-0123456789abcdef"


# --- 1. With CAREERS_PUBLIC_URL set, no response names another host -------------------------

ROUTES = [
    "/",
    "/en",
    "/en/",
    "/en//jobs",
    "/en/jobs/",
    "/en/jobs",
    "/en/jobs?q=robot&utm_source=x",
    f"/en/jobs/{JOB}",
    f"/en/jobs/{JOB}-wrong-slug",
    CANONICAL,
    f"/en//jobs/{JOB}",
    f"/de/jobs/{JOB}",
    f"/en/jobs/{JOB}/apply",
    "/en/jobs.atom",
    "/sitemap.xml",
    "/robots.txt",
    "/api/v1/jobs",
    f"/api/v1/jobs/{JOB}",
    "/embed",
    "/embed/",
    "/embed/en/jobs",
    f"/embed/en/jobs/{JOB}",
    f"/embed/en//jobs/{JOB}",
    "/embed.js",
    "/favicon.ico",
    "/healthz",
    "/readyz",
    "/metrics",
    "/no-such-page",
    "/en/applications/not-a-receipt",
]


@pytest.fixture
def public_app(make_app, sandbox_server, tmp_path):
    return make_app(public_url=PUBLIC, **apply_env(sandbox_server.url, tmp_path))


def assert_only_public(response) -> None:
    """Neither status line, headers nor body name the evil host; absolute redirects go to
    the public URL."""
    assert EVIL not in response.status
    for name, value in response.headers.items():
        assert EVIL not in name.lower() and EVIL not in value.lower(), (name, value)
    assert EVIL.encode() not in response.get_data().lower()
    location = response.headers.get("Location", "")
    if "://" in location:
        assert location.startswith(PUBLIC + "/"), location


@pytest.mark.parametrize("remote", ["127.0.0.1", "198.51.100.4"])  # behind our proxy, or not
@pytest.mark.parametrize("path", ROUTES)
def test_no_response_names_a_forged_host(public_app, sandbox, path, remote):
    client = public_app.test_client()
    response = client.get(
        path,
        base_url=f"http://{EVIL}",
        headers=EVIL_HEADERS,
        environ_overrides={"REMOTE_ADDR": remote},
    )
    assert response.status_code != 500, response.status  # /readyz may say 503 on a cold start
    assert_only_public(response)


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/en//jobs", f"{PUBLIC}/en/jobs"),  # Werkzeug merges slashes with an absolute URL
        ("/en", f"{PUBLIC}/en/"),  # ... and adds the rule's trailing slash the same way
        (f"/en//jobs/{JOB}", f"{PUBLIC}/en/jobs/{JOB}"),
    ],
)
def test_router_redirects_go_to_the_public_url(public_app, sandbox, path, location):
    response = public_app.test_client().get(path, base_url=f"http://{EVIL}", headers=EVIL_HEADERS)
    assert response.status_code == 308 and response.headers["Location"] == location


def test_absolute_links_use_the_public_url_whatever_the_request_says(public_app, sandbox):
    client = public_app.test_client()
    page = client.get(CANONICAL, base_url=f"http://{EVIL}", headers=EVIL_HEADERS)
    text = page.get_data(as_text=True)
    assert f'<link rel="canonical" href="{PUBLIC}{CANONICAL}">' in text
    assert f'"url": "{PUBLIC}{CANONICAL}"' in text or f'"url":"{PUBLIC}{CANONICAL}"' in text
    sitemap = client.get("/sitemap.xml", base_url=f"http://{EVIL}", headers=EVIL_HEADERS)
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap.get_data(as_text=True))
    assert locs and all(loc.startswith(PUBLIC + "/") for loc in locs)


def test_healthz_answers_a_load_balancer_that_sends_an_ip_as_host(public_app, sandbox):
    response = public_app.test_client().get(
        "/healthz", base_url="http://10.0.0.5:8000", headers={"Host": "10.0.0.5:8000"}
    )
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_posts_from_the_public_origin_are_accepted_and_others_refused(
    public_app, sandbox, tmp_path
):
    client = public_app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    forged = {"Host": EVIL, "Origin": f"http://{EVIL}", "Sec-Fetch-Site": "same-origin"}
    token = open_form(client)
    assert (
        send(client, valid_fields(token), [("cv", cv, "cv.pdf")], headers=forged).status_code == 403
    )
    # The visitor's browser, behind the proxy: Host as the proxy forwards it, Origin public.
    ours = {
        "Host": "127.0.0.1:8000",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        "Origin": PUBLIC,
        "Sec-Fetch-Site": "same-origin",
    }
    response = send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")], headers=ours)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].startswith("/en/applications/")


def test_a_public_url_with_a_port_keeps_it(make_app, sandbox):
    app = make_app(public_url="https://jobs.nordlicht.example:8443")
    response = app.test_client().get("/en//jobs", base_url=f"http://{EVIL}")
    assert response.headers["Location"] == "https://jobs.nordlicht.example:8443/en/jobs"


def test_without_a_public_url_the_request_host_is_used(client, sandbox):
    response = client.get("/en//jobs", base_url="http://jobs.internal")
    assert response.headers["Location"] == "http://jobs.internal/en/jobs"


# --- 3. Logs: one request is one line, control characters escaped, receipts cut -------------

HOSTILE = [
    "\r\n2026-01-01 12:00:00,000 INFO careers.applications.delivery: delivery attempt application=1 outcome=delivered",
    "\n",
    "\x1b[31mred",
    "\x00",
    "\x7f",
    "\x85",  # NEL, C1
    "\x9b31m",  # CSI, C1
    "\u2028",
    "\u2029",
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",
    "\u061c",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_clean_leaves_no_control_character(text):
    cleaned = clean(f"/en/jobs{text}x")
    assert re.fullmatch(r"[\x20-\x7e]*", cleaned), cleaned
    assert cleaned.startswith("/en/jobs\\") and cleaned.endswith("x")


def test_clean_escapes_backslashes_so_escapes_are_unambiguous():
    assert clean("a\\x0d\r") == "a\\\\x0d\\x0d"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/en/applications/AbC123secretsecretsecret", "/en/applications/AbC123…"),
        ("/embed/de/applications/XyZ789.secret-secret_x", "/embed/de/applications/XyZ789…"),
        ("/en/applications/AbC123secret?lang=de", "/en/applications/AbC123…?lang=de"),
        ("/en/jobs/1842958/apply", "/en/jobs/1842958/apply"),
    ],
)
def test_receipts_are_cut_to_a_prefix(path, logged):
    assert clean(path) == logged


@dataclass
class FakeResponse:
    status: str = "404 NOT FOUND"
    sent: int = 1234
    headers: tuple = (("Content-Type", "text/html"),)


@dataclass
class FakeRequest:
    headers: tuple = (("HOST", "127.0.0.1"), ("USER-AGENT", "probe\r\nforged"))


def access_line(tmp_path: Path, path: str, *, query: str = "") -> list[str]:
    """What `careers serve`'s gunicorn logger writes for one request to `path`."""
    cfg = Config()
    for key, value in serve.gunicorn_options("127.0.0.1", 8000, 1).items():
        cfg.set(key, value)
    log_file = tmp_path / "access.log"
    cfg.set("accesslog", str(log_file))
    logger = cfg.logger_class(cfg)
    assert isinstance(logger, GunicornLogger)
    raw = path.encode("latin-1").hex()  # what a client sent; irrelevant to the format
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/{raw}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "probe\r\nforged",
    }
    logger.access(FakeResponse(), FakeRequest(), environ, datetime.timedelta(microseconds=1500))
    for handler in logger.access_log.handlers:
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    for handler in list(logger.access_log.handlers) + list(logger.error_log.handlers):
        if getattr(handler, "_gunicorn", False):
            handler.close()
    return text.splitlines()


@pytest.mark.parametrize("text", HOSTILE)
def test_gunicorn_access_log_writes_one_escaped_line(tmp_path, text):
    # gunicorn hands PATH_INFO over decoded, as latin-1: %0d%0a arrives as CR LF.
    path = "/en/jobs" + text.encode("utf-8").decode("latin-1")
    [line] = access_line(tmp_path, path)
    assert line.isprintable(), line  # no C0, DEL, C1, separators or bidi controls
    assert line.startswith(f'127.0.0.1 "GET /en/jobs{clean(text)}')
    assert line.endswith('" 404 1234 0.001500s')


def test_gunicorn_access_log_shows_text_as_the_client_meant_it(tmp_path):
    path = "/de/jobs/büro\u2028".encode().decode("latin-1")
    [line] = access_line(tmp_path, path)
    assert '"GET /de/jobs/büro\\u2028" 404' in line


def test_gunicorn_access_log_shows_the_forged_line_as_data(tmp_path):
    [line] = access_line(tmp_path, "/en/jobs" + HOSTILE[0])
    assert "/en/jobs\\x0d\\x0a2026-01-01 12:00:00,000 INFO careers.applications" in line


def test_gunicorn_access_log_cuts_receipts_and_omits_queries(tmp_path):
    [line] = access_line(tmp_path, "/en/applications/AbC123secretsecret", query="q=Ada")
    assert line == '127.0.0.1 "GET /en/applications/AbC123…" 404 1234 0.001500s'


def test_every_atom_a_log_format_shows_is_clean(tmp_path):
    config = Config()
    config.set("access_log_format", '%(h)s %(r)s %(U)s "%(f)s" "%({User-Agent}i)s" %(s)s')
    logger = GunicornLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/en/applications/AbC123secret%0d%0a",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/en/applications/AbC123secret\r\n",
        "HTTP_REFERER": "https://x.example/\x1b[2J",
    }
    atoms = logger.atoms(FakeResponse(), FakeRequest(), environ, datetime.timedelta(seconds=1))
    shown = [atoms[k] for k in ("h", "r", "U", "f", "{user-agent}i", "s")]
    texts = [v for v in shown if isinstance(v, str)]
    assert all(v.isprintable() for v in texts), texts
    assert "secret" not in " ".join(texts)
    assert atoms["{user-agent}i"] == "probe\\x0d\\x0aforged"


def format_record(message: str, *args, exc_info=None, **extra) -> str:
    formatter = KeyValueFormatter("%(levelname)s %(name)s: %(message)s")
    record = logging.LogRecord("careers.test", logging.INFO, __file__, 1, message, args, exc_info)
    record.__dict__.update(extra)
    return formatter.format(record)


def test_key_value_formatter_escapes_message_and_extras():
    line = format_record(
        "refused %s",
        "path\r\nINFO careers.applications.delivery: delivery attempt outcome=delivered",
        reason="bad\x1b[31m\x00",
        note="a b outcome=delivered",
        receipt_path="/en/applications/AbC123secretsecret",
    )
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\x00" not in line
    assert line.startswith("INFO careers.test: refused path\\x0d\\x0aINFO careers.applications")
    assert ' note="a b outcome=delivered"' in line  # one field, not two
    assert " reason=bad\\x1b[31m\\x00" in line
    assert "receipt_path=/en/applications/AbC123…" in line and "secret" not in line


def test_key_value_formatter_indents_tracebacks():
    try:
        raise ValueError("boom\n2026-01-01 INFO careers: forged\u2028")
    except ValueError:
        line = format_record("crashed", exc_info=sys.exc_info(), reason="unhandled")
    first, *rest = line.split("\n")
    assert first == "INFO careers.test: crashed reason=unhandled"
    assert rest[0] == "  Traceback (most recent call last):"
    assert all(part.startswith("  ") for part in rest), rest
    assert "  2026-01-01 INFO careers: forged\\u2028" in rest


# --- serve: a real gunicorn, its access log, its control socket, the PUBLIC_URL warning -----


@dataclass
class Served:
    proc: subprocess.Popen
    port: int
    data_dir: Path
    stdout: Path
    stderr: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def raw(self, request: bytes) -> bytes:
        """Send bytes as they are (no client library would send these paths)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def get(self, target: str, host: str = "127.0.0.1") -> bytes:
        return self.raw(
            f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1")
        )


@pytest.fixture
def start_serve(sandbox, sandbox_server, tmp_path) -> Iterator[Callable[..., Served]]:
    """`careers serve` as a real process on a free loopback port, against the sandbox."""
    started: list[Served] = []

    def start(name: str, *, home: Path | None = None, **overrides: str) -> Served:
        data_dir = tmp_path / name
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
        env.update(
            {
                "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
                "CAREERS_SECRET_KEY": SECRET,
                "CAREERS_DATA_DIR": str(data_dir),
                **{f"CAREERS_{k.upper()}": v for k, v in overrides.items()},
            }
        )
        if home is not None:
            env["HOME"] = str(home)
            env["XDG_RUNTIME_DIR"] = str(home)
        stdout, stderr = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "careers.cli", "serve", "--host", "127.0.0.1"]
                + ["--port", str(port), "--workers", "1"],
                env=env,
                stdout=out,
                stderr=err,
                cwd=tmp_path,
            )
        served = Served(proc, port, data_dir, stdout, stderr)
        started.append(served)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{served.base}/healthz", timeout=5).status_code == 200:
                    return served
            except httpx.TransportError:
                pass
            assert proc.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, "careers serve did not start"
            time.sleep(0.2)

    yield start
    for served in started:
        stop(served)


def stop(served: Served) -> None:
    if served.proc.poll() is None:
        served.proc.terminate()
        try:
            served.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            served.proc.kill()
            served.proc.wait(timeout=10)


def wait_for(path: Path, needle: bytes, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while needle not in path.read_bytes():
        assert time.monotonic() < deadline, f"{needle!r} not in {path.name}"
        time.sleep(0.1)


@pytest.mark.system
def test_serve_writes_one_escaped_access_line_per_request(start_serve):
    served = start_serve("logs", public_url=PUBLIC)
    forged = (
        "%0d%0a2026-01-01%2012:00:00,000%20INFO%20careers.applications.delivery:"
        "%20delivery%20attempt%20application=1%20outcome=delivered"
    )
    answer = served.get(f"/probe{forged}%1b[31m%00end")
    assert answer.startswith(b"HTTP/1.1 404")
    served.get("/en/applications/AbC123secretsecretsecret")
    served.get("/embed/de/applications/XyZ789secretsecretsecret")
    wait_for(served.stdout, b"XyZ789")
    stop(served)
    output = served.stdout.read_bytes()
    for raw_char in (b"\r", b"\x1b", b"\x00"):
        assert raw_char not in output and raw_char not in served.stderr.read_bytes()
    lines = output.decode("utf-8").splitlines()
    probes = [line for line in lines if "/probe" in line]
    assert len(probes) == 1, lines
    [probe] = probes
    assert probe.startswith('127.0.0.1 "GET /probe\\x0d\\x0a2026-01-01 12:00:00,000 INFO ')
    assert 'outcome=delivered\\x1b[31m\\x00end" 404 ' in probe
    assert not [line for line in lines if line.startswith("2026-01-01")]
    # One line per request, nothing else: the health checks of the start plus our three.
    assert all(line.startswith('127.0.0.1 "GET /') for line in lines), lines
    assert '"GET /en/applications/AbC123…" 404 ' in output.decode()
    assert '"GET /embed/de/applications/XyZ789…" 404 ' in output.decode()
    assert b"secretsecret" not in output


@pytest.mark.system
def test_two_serves_on_one_machine_keep_their_own_control_socket(start_serve, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    first = start_serve("a", home=home)
    second = start_serve("b", home=home, public_url=PUBLIC)
    for served in (first, second):
        assert httpx.get(f"{served.base}/healthz", timeout=5).json() == {"status": "ok"}
        control = served.data_dir / "gunicorn.ctl"
        assert stat.S_ISSOCK(control.stat().st_mode)
        assert stat.S_IMODE(control.stat().st_mode) == 0o600
    assert not (home / "gunicorn.ctl").exists() and not (home / ".gunicorn").exists()
    stop(first)
    assert (second.data_dir / "gunicorn.ctl").exists()
    assert httpx.get(f"{second.base}/healthz", timeout=5).status_code == 200
    # The warning: once, on one line, from the serve without a public URL only.
    warnings = [
        line for line in first.stderr.read_text().splitlines() if "CAREERS_PUBLIC_URL" in line
    ]
    assert warnings == [serve.PUBLIC_URL_WARNING]
    assert "CAREERS_PUBLIC_URL" not in second.stderr.read_text()
    # And the real server pins the host as the test client does.
    forged = second.raw(
        b"GET /en//jobs HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\n"
        b"X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: http\r\nConnection: close\r\n\r\n"
    )
    head = forged.split(b"\r\n\r\n")[0].decode("latin-1")
    assert f"Location: {PUBLIC}/en/jobs\r\n" in head + "\r\n" and EVIL.encode() not in forged


def test_serve_warns_when_no_public_url_is_set(runner, sandbox_server, tmp_path, monkeypatch):
    ran: list[dict] = []
    monkeypatch.setattr(serve, "configure_logging", lambda: None)
    monkeypatch.setattr(serve._Gunicorn, "run", lambda self: ran.append(self.options))
    # What the master does for its workers' metrics would stay in this test process.
    monkeypatch.setattr(serve, "share_between_processes", lambda directory: None)
    env = {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(tmp_path / "data"),
    }
    result = runner.invoke(["serve"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [serve.PUBLIC_URL_WARNING]
    assert "Host header" in serve.PUBLIC_URL_WARNING
    [options] = ran
    assert options["control_socket"] == str((tmp_path / "data").resolve() / "gunicorn.ctl")
    assert options["logger_class"] is GunicornLogger
    result = runner.invoke(["serve"], env={**env, "CAREERS_PUBLIC_URL": PUBLIC})
    assert result.exit_code == 0 and result.stderr == ""


def test_control_socket_is_disabled_when_the_data_dir_path_is_too_long(tmp_path):
    options = serve.gunicorn_options("127.0.0.1", 8000, 1, tmp_path / ("x" * 120))
    assert options["control_socket_disable"] is True and "control_socket" not in options
    assert serve.gunicorn_options("127.0.0.1", 8000, 1)["control_socket_disable"] is True


# --- 4. /metrics behind CAREERS_METRICS_TOKEN ------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong-token-0123456789abcdef",
        f"Bearer {METRICS_TOKEN}x",
        f"Basic {METRICS_TOKEN}",
        f"Bearer {METRICS_TOKEN[:-1]}",
        "Bearer töken-with-non-ascii-0123456789",
    ],
)
def test_metrics_with_a_token_refuse_other_credentials(make_app, sandbox, authorization):
    client = make_app(metrics_token=METRICS_TOKEN).test_client()
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert b"careers_" not in response.get_data()


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_metrics_with_a_token_answer_the_token(make_app, sandbox, scheme, monkeypatch):
    import hmac

    compared: list[tuple] = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    client = make_app(metrics_token=METRICS_TOKEN).test_client()
    response = client.get("/metrics", headers={"Authorization": f"{scheme} {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert "careers_positions" in response.get_data(as_text=True)
    assert compared == [(METRICS_TOKEN.encode(), METRICS_TOKEN.encode())]


def test_metrics_without_a_token_are_open_as_before(client, sandbox):
    response = client.get("/metrics")
    assert response.status_code == 200 and "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("short-token", "must be at least 16 characters long"),
        ("has a space in it 0123456789", "contains whitespace"),
        ("tökentökentökentöken", "printable ASCII"),
    ],
)
def test_metrics_token_is_validated(value, message):
    env = {
        "CAREERS_PERSONIO_SUBDOMAIN": "acme",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_METRICS_TOKEN": value,
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    [problem] = caught.value.problems
    assert problem.startswith("CAREERS_METRICS_TOKEN: ") and message in problem


def test_metrics_token_is_never_in_the_settings_repr():
    env = {
        "CAREERS_PERSONIO_SUBDOMAIN": "acme",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_METRICS_TOKEN": METRICS_TOKEN,
    }
    settings = load_settings(env)
    assert settings.metrics_token == METRICS_TOKEN
    assert METRICS_TOKEN not in repr(settings) and "metrics_token': '***'" in repr(settings)
    assert load_settings({**env, "CAREERS_METRICS_TOKEN": ""}).metrics_token == ""
