"""Security headers beyond the CSP (docs/security.md): who may load what cross-origin, no
cross-domain policy files, insecure references upgraded behind https, and no `Server` line
from `careers serve`; the same bytes whether Flask or the fast path answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import httpx
import pytest

from .apps import BEHIND_TLS, SECRET
from .servers import free_port, wait_healthy

# path → Cross-Origin-Resource-Policy: other sites load /embed.js and frame /embed/ pages.
EXPECTED = {
    "/en/jobs": "same-origin",
    "/en/jobs/2140231": "same-origin",
    "/api/v1/jobs?lang=en": "same-origin",
    "/static/careers.css": "same-origin",
    "/healthz": "same-origin",
    "/embed/en/jobs": "cross-origin",
    "/embed.js": "cross-origin",
}


@pytest.mark.parametrize("headers", [{}, BEHIND_TLS], ids=["http", "https"])
def test_resource_policy_and_cross_domain_policies_on_every_kind_of_route(
    make_app, sandbox, headers
):
    client = make_app(frame_ancestors="https://shop.acme.de").test_client()
    for path, policy in EXPECTED.items():
        # Three times: the first answers go through Flask, later ones may be replayed.
        for _ in range(3):
            response = client.get(path, headers=headers)
            response.close()  # static files are streamed
            assert response.headers["Cross-Origin-Resource-Policy"] == policy, path
            assert response.headers["X-Permitted-Cross-Domain-Policies"] == "none", path
            csp = response.headers["Content-Security-Policy"]
            assert ("upgrade-insecure-requests" in csp) == bool(headers), (path, csp)


def test_error_pages_carry_them_too(client, sandbox):
    missing = client.get("/en/jobs/999999999")
    assert missing.status_code == 404
    assert missing.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert missing.headers["X-Permitted-Cross-Domain-Policies"] == "none"


@pytest.mark.system
def test_careers_serve_does_not_announce_gunicorn(sandbox, sandbox_server, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    env.update(
        CAREERS_PERSONIO_FEED_URL=f"{sandbox_server.url}/xml",
        CAREERS_SECRET_KEY=SECRET,
        CAREERS_DATA_DIR=str(tmp_path / "data"),
        CAREERS_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    command = [sys.executable, "-m", "careers.cli", "serve", "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, 60)
        for path in ("/en/jobs", "/en/jobs", "/embed.js", "/static/careers.css", "/nowhere"):
            response = httpx.get(base + path, timeout=10)
            assert response.status_code in (200, 404)
            assert "server" not in response.headers, (path, response.headers["server"])
            assert b"gunicorn" not in response.content
        # A malformed request is answered by gunicorn itself, before the app.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /en/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        assert head.startswith(b"http/1.1 400") and b"\r\nserver:" not in head, head
    finally:
        proc.terminate()
        proc.wait(timeout=30)
