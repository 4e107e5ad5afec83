"""Hostile bodies on the routes that are not the application form (docs/security.md#small-bodies).

Against a real gunicorn (gthread, 32 threads, as `careers serve` runs it) with TMPDIR pointed
at a directory of the test's own: big, chunked, multipart and slow bodies posted to the
job-alert form and to confirm and unsubscribe links. Nothing may reach the disk beyond the
small-body limit (werkzeug spools large multipart bodies to TMPDIR, as unnamed files that
only /proc shows), refusals come before the body, and pages keep answering.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from careers.applications.rules import REFUSAL_LIMIT
from careers.cli.front import BODY_SECONDS
from careers.mail import alert_links
from careers.web.bodies import SMALL_BODY_BYTES

from .applying import apply_env
from .apps import SECRET
from .servers import eventually, free_port, read_status, start_slow_app

BOUNDARY = "hostileboundary"
UNKNOWN = f"123.{'0' * alert_links.SIGNATURE_CHARS}"  # well formed, names no subscription


class Server:
    """A running app: its URL, data directory, temp directory and process tree."""

    def __init__(self, proc: subprocess.Popen, base: str, data_dir: Path, tmp: Path) -> None:
        self.proc, self.base, self.data_dir, self.tmp = proc, base, data_dir, tmp
        host, port = base.removeprefix("http://").split(":")
        self.address = (host, int(port))

    def pids(self) -> list[int]:
        """gunicorn's master and its workers."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        found = [self.proc.pid]
        if children.exists():
            found += [int(p) for p in children.read_text().split()]
        return found

    def temp_bytes(self) -> int:
        """Bytes in TMPDIR, named or not: files in it, and files the server holds open
        there (a SpooledTemporaryFile rolls over to an unnamed O_TMPFILE)."""
        total = sum(f.stat().st_size for f in self.tmp.rglob("*") if f.is_file())
        for pid in self.pids():
            fds = Path(f"/proc/{pid}/fd")
            try:
                entries = list(fds.iterdir())
            except OSError:
                continue
            for fd in entries:
                try:
                    target = os.readlink(fd)
                    if target.startswith(str(self.tmp)):
                        total += os.stat(fd).st_size
                except OSError:
                    continue
        return total

    def subscription_token(self) -> str:
        """A real subscription's link token, made through the form."""
        page = httpx.get(f"{self.base}/en/job-alerts", timeout=10).text
        token = page.split('name="form_token" value="', 1)[1].split('"', 1)[0]
        answer = httpx.post(
            f"{self.base}/en/job-alerts",
            data={"form_token": token, "email": "anna.berg@example.com", "website": ""},
            timeout=10,
        )
        assert answer.status_code == 303
        with sqlite3.connect(self.data_dir / "careers.db") as db:
            sub_id, salt = db.execute("SELECT id, salt FROM subscriptions").fetchone()
        return alert_links.subscription_token(SECRET, sub_id, salt)


@pytest.fixture
def start_server(sandbox, sandbox_server, tmp_path) -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(threads: int = 32, **test_env: str) -> Server:
        data_dir = tmp_path / f"data-{len(procs)}"
        tmp = tmp_path / f"tmp-{len(procs)}"
        tmp.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
        settings = apply_env(sandbox_server.url, tmp_path)  # the form takes applications
        env.update({f"CAREERS_{k.upper()}": v for k, v in settings.items()})
        env.update(
            TMPDIR=str(tmp),
            CAREERS_PERSONIO_FEED_URL=f"{sandbox_server.url}/xml",
            CAREERS_SECRET_KEY=SECRET,
            CAREERS_DATA_DIR=str(data_dir),
            CAREERS_SMTP_URL=f"smtp://127.0.0.1:{free_port()}",  # mail on; nothing is sent
            CAREERS_MAIL_FROM="jobs@nordlicht.example",
            CAREERS_PUBLIC_URL="http://127.0.0.1",  # links in mails; requests are by IP
            **test_env,
        )
        proc, base = start_slow_app(env, threads)
        procs.append(proc)
        return Server(proc, base, data_dir, tmp)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _open(server: Server, path: str, headers: dict[str, str]) -> socket.socket:
    """A POST whose head is sent; the body is the caller's."""
    sock = socket.create_connection(server.address, timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: {server.address[0]}:{server.address[1]}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    sock.sendall((head + "\r\n").encode())
    return sock


def _multipart_part(size: int) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + b"A" * size


def _send_until_answered(sock: socket.socket, chunks: Iterator[bytes]) -> int:
    """Send chunks until the server answers (or stops reading); its status."""
    sock.settimeout(0.01)
    for chunk in chunks:
        try:
            sock.sendall(chunk)
        except OSError:
            break  # the server answered and closed
        try:
            return read_status(sock)
        except TimeoutError:
            continue
    sock.settimeout(20)
    return read_status(sock)


class TempWatch:
    """The largest TMPDIR footprint seen while a body is being sent."""

    def __init__(self, server: Server) -> None:
        self.server, self.largest, self._stop = server, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.largest = max(self.largest, self.server.temp_bytes())
            time.sleep(0.005)

    def __enter__(self) -> TempWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.largest = max(self.largest, self.server.temp_bytes())


def _chunked(total: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    body = _multipart_part(total)
    for start in range(0, len(body), piece):
        data = body[start : start + piece]
        yield f"{len(data):x}\r\n".encode() + data + b"\r\n"
    yield b"0\r\n\r\n"


MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.mark.system
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/en/job-alerts", 413),
        (f"/en/job-alerts/{UNKNOWN}/confirm", 404),
        (f"/en/job-alerts/{UNKNOWN}/unsubscribe", 404),
        ("/en/jobs", 405),
        ("/healthz", 405),
    ],
)
def test_an_announced_big_body_is_refused_before_it_is_read(start_server, path, expected):
    server = start_server()
    sock = _open(server, path, {**MULTIPART, "Content-Length": str(600 * 1024 * 1024)})
    with sock:
        sock.settimeout(10)
        assert read_status(sock) == expected  # not a byte of the 600 MB sent
    assert server.temp_bytes() == 0


@pytest.mark.system
def test_an_unknown_unsubscribe_link_is_404_before_its_multipart_body(start_server):
    """The 600 MB case: a well-formed link naming no subscription, a chunked multipart
    body; before, werkzeug spooled it all to disk and then answered 403."""
    server = start_server()
    sock = _open(
        server,
        f"/en/job-alerts/{UNKNOWN}/unsubscribe",
        {**MULTIPART, "Transfer-Encoding": "chunked"},
    )
    with sock, TempWatch(server) as watch:
        status = _send_until_answered(sock, _chunked(16 * 1024 * 1024))
    assert status == 404
    assert watch.largest <= SMALL_BODY_BYTES


@pytest.mark.system
@pytest.mark.parametrize("route", ["subscribe", "unsubscribe", "confirm"])
def test_a_chunked_body_is_cut_at_the_limit(start_server, route):
    """No length announced: read up to the limit, then 413; nothing on disk beyond it."""
    server = start_server()
    path = "/en/job-alerts"
    if route != "subscribe":
        path = f"/en/job-alerts/{server.subscription_token()}/{route}"
    sock = _open(server, path, {**MULTIPART, "Transfer-Encoding": "chunked"})
    with sock, TempWatch(server) as watch:
        status = _send_until_answered(sock, _chunked(16 * 1024 * 1024))
    assert status == 413
    assert watch.largest <= SMALL_BODY_BYTES
    assert httpx.get(f"{server.base}/en/jobs", timeout=10).status_code == 200


@pytest.mark.system
def test_a_body_that_stalls_is_cut_with_408(start_server):
    server = start_server(TEST_STALL_SECONDS="1.5")
    form = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "500"}
    sock = _open(server, "/en/job-alerts", form)
    with sock:
        sock.sendall(b"email=anna")  # and then nothing
        started = time.monotonic()
        assert read_status(sock) == 408
        assert time.monotonic() - started < BODY_SECONDS + 5  # the worker's deadline


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends before it closes."""
    sock.settimeout(BODY_SECONDS + 20)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.system
def test_bodies_stalled_before_the_app_spend_the_refusal_budget(start_server):
    """Small bodies are read by the worker's loop (careers/cli/front.py); one that stalls
    there is answered by the app, on any route: its 408 page, counted, and once the budget is
    spent, 429 before the next body is read."""
    server = start_server()
    job = httpx.get(f"{server.base}/api/v1/jobs?lang=en", timeout=10).json()["jobs"][0]["id"]
    paths = ["/en/job-alerts", f"/en/jobs/{job}/apply", "/en/jobs"]  # form, application, 405
    form = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "500"}
    stalled = [_open(server, paths[n % 3], form) for n in range(REFUSAL_LIMIT[0])]
    try:
        for sock in stalled:
            sock.sendall(b"email=anna")  # and then nothing
        answers = [_answer(sock) for sock in stalled]
    finally:
        for sock in stalled:
            sock.close()
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:60]
        assert b"The upload took too long" in answer  # the app's page, not the loop's
    with _open(server, "/en/job-alerts", form) as sock:
        # It sends no body either: the loop waits out its deadline before the app answers.
        sock.settimeout(BODY_SECONDS + 10)
        assert read_status(sock) == 429


@pytest.mark.system
def test_refusals_spend_the_budget_the_application_form_shares(start_server):
    """Ten refused bodies, then 429 before the next is read, here and on the form."""
    server = start_server()
    big = {**MULTIPART, "Content-Length": str(10 * 1024 * 1024)}
    for _ in range(10):
        with _open(server, "/en/job-alerts", big) as sock:
            assert read_status(sock) == 413
    with _open(server, "/en/job-alerts", big) as sock:
        assert read_status(sock) == 429
    job = httpx.get(f"{server.base}/api/v1/jobs?lang=en", timeout=10).json()["jobs"][0]["id"]
    with _open(server, f"/en/jobs/{job}/apply", big) as sock:
        assert read_status(sock) == 429


@pytest.mark.system
def test_pages_answer_while_70_slow_bodies_hold_alert_routes(start_server):
    """The bodies wait in the worker's loop, not in threads: pages keep answering within 2 s,
    and at their deadline the app answers them: 408, counted, then 429 once this client's
    refusal budget is spent (503 if no upload slot is free, as bodies read by the app)."""
    server = start_server()
    token = server.subscription_token()
    paths = ["/en/job-alerts", f"/en/job-alerts/{token}/unsubscribe"]
    form = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "4000"}
    held = []
    try:
        for n in range(70):
            sock = _open(server, paths[n % 2], form)
            sock.sendall(b"email=a")  # and then a crawl of nothing
            held.append(sock)
        for _ in range(5):
            for path in ("/healthz", "/en/jobs"):
                started = time.monotonic()
                answer = httpx.get(f"{server.base}{path}", timeout=5, follow_redirects=True)
                assert answer.status_code == 200, path
                assert time.monotonic() - started < 2, path
        statuses = []
        for sock in held:
            sock.settimeout(30)
            statuses.append(read_status(sock))
        # Each was cut for its pace or refused; none was served.
        assert set(statuses) <= {503, 408, 429}, statuses
        assert 408 in statuses
        assert 429 in statuses
    finally:
        for sock in held:
            sock.close()
    assert eventually(lambda: server.temp_bytes() == 0)
