"""Slow clients against a real gunicorn (gthread, as `careers serve` runs it): a body that
stalls or crawls is cut with 408 and leaves no file; uploads cannot take every thread."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from . import filegen
from .applying import JOB, apply_env, encode, token_of, valid_fields
from .conftest import SECRET
from .servers import eventually, start_slow_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def start_gunicorn(sandbox, sandbox_server, tmp_path) -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(threads: int = 8, **test_env: str) -> tuple[str, Path]:
        data_dir = tmp_path / f"data-{len(procs)}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
        settings = apply_env(sandbox_server.url, tmp_path)
        env.update({f"CAREERS_{k.upper()}": v for k, v in settings.items()})
        env.update(
            CAREERS_PERSONIO_FEED_URL=f"{sandbox_server.url}/xml",
            CAREERS_SECRET_KEY=SECRET,
            CAREERS_DATA_DIR=str(data_dir),
            CAREERS_MIN_FILL_SECONDS="0",
            **test_env,
        )
        proc, base = start_slow_app(env, threads)
        procs.append(proc)
        return base, data_dir

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _form_body(base: str, tmp_path: Path, size: int = 400_000) -> tuple[bytes, str]:
    page = httpx.get(f"{base}/en/jobs/{JOB}/apply", timeout=10).text
    padded = filegen.make_pdf(tmp_path / "cv.pdf", text="Experience " * (size // 11))
    fields = {"form_token": token_of(page)} | valid_fields(token_of(page))
    return encode(fields, [("cv", padded, "cv.pdf", "application/pdf")])


def _open_post(base: str, body: bytes, content_type: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (
        f"POST /en/jobs/{JOB}/apply HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode())
    return sock


def _status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/") else 0


def _spool_empty(data_dir: Path) -> bool:
    spool = data_dir / "spool"
    return not any(spool.glob("*/*"))


def test_a_body_that_stalls_is_cut_with_408_and_its_file_removed(start_gunicorn, tmp_path):
    base, data_dir = start_gunicorn(TEST_STALL_SECONDS="1.5")
    body, content_type = _form_body(base, tmp_path)
    sock = _open_post(base, body, content_type)
    sock.sendall(body[: len(body) // 2])  # half the CV, then nothing
    started = time.monotonic()
    assert _status(sock) == 408
    assert time.monotonic() - started < 10
    sock.close()
    assert eventually(lambda: _spool_empty(data_dir))


def test_a_body_that_crawls_is_cut_with_408(start_gunicorn, tmp_path):
    base, data_dir = start_gunicorn(TEST_MIN_RATE="20000", TEST_RATE_GRACE="1")
    body, content_type = _form_body(base, tmp_path)
    sock = _open_post(base, body, content_type)
    sock.settimeout(0.05)
    status = 0
    for start in range(0, len(body), 100):  # 100 bytes every 50 ms: 2 kB/s
        try:
            sock.sendall(body[start : start + 100])
        except OSError:
            break  # the server stopped reading and answered
        try:
            status = _status(sock)
            break
        except TimeoutError:
            continue
    if not status:
        sock.settimeout(10)
        status = _status(sock)
    assert status == 408
    sock.close()
    assert eventually(lambda: _spool_empty(data_dir))


def test_a_candidate_above_the_floor_gets_through(start_gunicorn, tmp_path):
    base, data_dir = start_gunicorn(TEST_MIN_RATE="20000", TEST_RATE_GRACE="1")
    body, content_type = _form_body(base, tmp_path, size=300_000)
    sock = _open_post(base, body, content_type)
    for start in range(0, len(body), 8192):  # ~160 kB/s, a slow mobile uplink
        sock.sendall(body[start : start + 8192])
        time.sleep(0.05)
    sock.settimeout(10)
    assert _status(sock) == 303
    sock.close()


def test_uploads_cannot_take_every_thread(start_gunicorn, tmp_path):
    base, _ = start_gunicorn(threads=8, TEST_UPLOAD_SLOTS="5")
    body, content_type = _form_body(base, tmp_path)
    held = []
    for _ in range(5):
        sock = _open_post(base, body, content_type)
        sock.sendall(body[:1000])  # and then trickle nothing more: each holds a thread
        held.append(sock)
    try:
        # Every held upload is being read (the server says so), then a sixth is refused.
        assert eventually(lambda: _reading(base) == 5.0)
        assert _busy_answer(base, body, content_type) == 503
        for path in ("/healthz", "/en/jobs", f"/en/jobs/{JOB}"):
            response = httpx.get(f"{base}{path}", timeout=5, follow_redirects=True)
            assert response.status_code == 200, path
    finally:
        for sock in held:
            sock.close()


def _reading(base: str) -> float:
    metrics = httpx.get(f"{base}/metrics", timeout=5).text
    lines = [line for line in metrics.splitlines() if line.startswith("careers_uploads_reading ")]
    return float(lines[0].split()[1]) if lines else -1.0


def _busy_answer(base: str, body: bytes, content_type: str) -> int:
    sock = _open_post(base, body, content_type)
    try:
        sock.sendall(body[:1000])
        sock.settimeout(2)
        return _status(sock)
    except TimeoutError:
        return 0  # it got a slot (the held uploads had not all arrived yet): try again
    finally:
        sock.close()
