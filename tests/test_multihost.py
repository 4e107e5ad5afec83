"""Several hosts, one PostgreSQL, the sandbox's rate limit: behave as one site under a kill.

Each host is a real `careers serve` in PID and UTS namespaces of its own (`unshare`): its own
hostname, its own pid 1, its own data directory; all share one database and secret key. The
sandbox's Recruiting API enforces a tight budget (6 requests per 10 s) and the deployment is
configured to the same, so pacing across hosts is really exercised.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from careers.db.database import open_database

from . import filegen
from .applying import JOB, apply_env, encode, token_of, valid_fields
from .apps import SECRET
from .pg import as_url
from .servers import eventually, free_port

ROOT = Path(__file__).resolve().parents[1]
RATE = (6, 10.0)
pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare"),
]


@dataclass
class Host:
    name: str
    proc: subprocess.Popen
    base: str
    data_dir: Path

    def kill(self) -> None:
        """SIGKILL the namespace's init: the kernel kills every process of the host."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def hosts(sandbox, sandbox_server, pg_url, tmp_path) -> Iterator:
    started: list[Host] = []
    sandbox.set_rate_limit(RATE)

    def start(name: str, *, deliver: bool) -> Host:
        port = free_port()
        data_dir = tmp_path / name
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
        settings = apply_env(sandbox_server.url, tmp_path)
        env.update({f"CAREERS_{k.upper()}": v for k, v in settings.items()})
        env.update(
            CAREERS_PERSONIO_FEED_URL=f"{sandbox_server.url}/xml",
            CAREERS_SECRET_KEY=SECRET,
            CAREERS_DATA_DIR=str(data_dir),
            CAREERS_DATABASE_URL=as_url(pg_url),
            CAREERS_PERSONIO_RATE_LIMIT=f"{RATE[0]}/{int(RATE[1])}",
            CAREERS_SUBMIT_RATE_LIMIT="1000/60",
            CAREERS_PUBLIC_URL=f"http://127.0.0.1:{port}",
        )
        serve = [sys.executable, "-m", "careers.cli", "serve", "--host", "127.0.0.1"]
        serve += ["--port", str(port), "--workers", "1"] + ([] if deliver else ["--no-worker"])
        command = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--uts"]
        command += ["sh", "-c", f'hostname {name} && exec "$@"', "sh", *serve]
        log = (tmp_path / f"{name}.log").open("wb")
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        host = Host(name, proc, f"http://127.0.0.1:{port}", data_dir)
        started.append(host)
        deadline = time.monotonic() + 40
        while True:
            try:
                if httpx.get(f"{host.base}/healthz", timeout=2).status_code == 200:
                    return host
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = (tmp_path / f"{name}.log").read_text(errors="replace")
                pytest.fail(f"{name} did not start:\n{output[-2000:]}")
            time.sleep(0.2)

    yield start
    # Killed, not stopped: what the test proves is in the database and the sandbox by now,
    # and a graceful stop (the delivery worker's drain, gunicorn's) took up to 15 s a host.
    running = [host for host in started if host.proc.poll() is None]
    for host in running:
        host.proc.send_signal(signal.SIGKILL)
    for host in running:
        host.proc.wait(timeout=10)


def apply(form_host: Host, post_host: Host, tmp_path: Path, n: int) -> tuple[str, str]:
    """Fetch the form from one host, post it to another; returns (receipt URL, CV sha256)."""
    page = httpx.get(f"{form_host.base}/en/jobs/{JOB}/apply", timeout=10).text
    cv = filegen.make_pdf(tmp_path / f"cv-{n}.pdf", text=f"Candidate number {n}")
    body, content_type = encode(
        valid_fields(token_of(page), email=f"candidate.{n}@example.com"),
        [("cv", cv, f"cv-{n}.pdf", "application/pdf")],
    )
    response = httpx.post(
        f"{post_host.base}/en/jobs/{JOB}/apply",
        content=body,
        headers={"Content-Type": content_type, "Origin": post_host.base},
        timeout=30,
    )
    assert response.status_code == 303, response.status_code
    return response.headers["Location"], hashlib.sha256(cv.read_bytes()).hexdigest()


def busiest_window(times: list[float], seconds: float) -> int:
    ordered = sorted(times)
    return max(
        (sum(1 for t in ordered if start <= t < start + seconds) for start in ordered), default=0
    )


def test_hosts_share_forms_outbox_budget_and_survive_a_kill(hosts, sandbox, tmp_path, pg_url):
    a = hosts("host-a", deliver=True)  # the only delivering host, at first
    b = hosts("host-b", deliver=False)
    c = hosts("host-c", deliver=False)
    sent: dict[str, str] = {}
    for n in range(8):
        form_host, post_host = [(a, b), (b, c), (c, a)][n % 3]
        receipt, digest = apply(form_host, post_host, tmp_path, n)
        sent[f"candidate.{n}@example.com"] = digest
        # a receipt taken on one host reads the same on another (one outbox)
        assert httpx.get(f"{c.base}{receipt}", timeout=10).status_code == 200

    assert eventually(lambda: len(sandbox.received_applications) >= 2, 60)
    a.kill()  # mid-backlog, holding a lease perhaps

    sandbox.inject("feed", "status", status=503, times=1000)  # Personio's feed is down
    d = hosts("host-d", deliver=True)  # a new host with an empty disk takes over
    page = httpx.get(f"{d.base}/en/jobs", timeout=10)
    assert page.status_code == 200 and "Embedded Systems Engineer" in page.text
    sandbox.clear_faults()

    database = open_database(pg_url)
    outbox = database.outbox
    try:
        # Done when nothing is pending any more: no host has anything left to send, so a
        # duplicate could not come later.
        assert eventually(lambda: outbox.counts().get("pending", 0) == 0, 120)
        assert outbox.counts() == {"delivered": 8}
    finally:
        database.close()
    emails = [r["body"]["email"] for r in sandbox.received_applications]
    assert sorted(emails) == sorted(sent), "every application exactly once"
    received = {d.sha256 for d in sandbox.received_documents.values()}
    assert received == set(sent.values()), "documents byte-identical, each uploaded once"
    assert len(sandbox.received_documents) == 8
    assert sandbox.recruiting.refused_for_rate == 0, "no 429 from Personio"
    assert busiest_window(sandbox.recruiting.admitted, RATE[1]) <= RATE[0]

    dump = subprocess.run(
        ["pg_dump", "--data-only", pg_url], capture_output=True, check=True
    ).stdout
    for email in sent:
        assert email.encode() not in dump
    assert b"Candidate number" not in dump
