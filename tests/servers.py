"""What tests that start real servers share: a free loopback port, and waiting for a sign."""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from . import filegen
from .applying import JOB, encode, token_of, valid_fields

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventually(check: Callable[[], bool], seconds: float = 10.0, every: float = 0.05) -> bool:
    """Poll until `check()` holds or `seconds` pass; the result of a last look."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()


def read_status(sock: socket.socket) -> int:
    """The status code of the answer coming on `sock` (0 if it closes without one)."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/") else 0


def wait_healthy(base: str, proc: subprocess.Popen, seconds: float = 30.0) -> None:
    """Until `base`/healthz answers 200; fails the test if the process ends first."""
    import pytest

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return proc.poll() is not None  # stop waiting: it is gone

    if not eventually(healthy, seconds, every=0.1) or proc.poll() is not None:
        proc.kill()
        pytest.fail(f"the server at {base} did not start")


def start_slow_app(
    env: dict[str, str], threads: int = 8, *, nofile: int | None = None
) -> tuple[subprocess.Popen, str]:
    """`tests/slow_app.py` (the product with tightened slow-body limits) under gunicorn with
    `careers serve`'s worker (careers/cli/front.py), one process; returns it and its URL.
    `nofile`: the open-file limit, soft and hard (`ulimit -n`), of the server's processes."""
    port = free_port()

    def limit() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    proc = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "-k", "careers.cli.front.FrontWorker", "-w", "1",
            "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--no-control-socket",
            "tests.slow_app:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=limit,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, proc)
    return proc, base


def form_body(base: str, tmp_path: Path, size: int = 400_000) -> tuple[bytes, str]:
    """A browser-encoded application to `base` with a CV of about `size` bytes; the body
    and its content type."""
    page = httpx.get(f"{base}/en/jobs/{JOB}/apply", timeout=10).text
    padded = filegen.make_pdf(tmp_path / "cv.pdf", text="Experience " * (size // 11))
    fields = {"form_token": token_of(page)} | valid_fields(token_of(page))
    return encode(fields, [("cv", padded, "cv.pdf", "application/pdf")])


def open_post(base: str, body: bytes, content_type: str, client: str = "") -> socket.socket:
    """A post whose head is sent; `client` is its address in X-Forwarded-For, which the app
    believes from loopback (so one test can be many clients)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    forwarded = f"X-Forwarded-For: {client}\r\n" if client else ""
    head = (
        f"POST /en/jobs/{JOB}/apply HTTP/1.1\r\nHost: {host}:{port}\r\n{forwarded}"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode())
    return sock
