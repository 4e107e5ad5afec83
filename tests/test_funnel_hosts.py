"""The funnel across two hosts (issue 22's "done when"): two `careers serve` processes, each
with its delivery worker, on one PostgreSQL database. A person's visit that hops between them
(list on one, job page on the other, form on the first, the post to the second) is counted
exactly once per step, its delivery once whichever host delivers it; a crawler's visit to
both is not counted at all; what a host counted last is written when it stops; and
`careers report --csv` reads the same numbers back."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from careers.db.database import open_database

from . import filegen
from .applying import JOB, apply_env, encode, token_of, valid_fields
from .apps import SECRET
from .pg import as_url
from .servers import eventually, free_port
from .visiting import BROWSER, CRAWLERS, PHONE, attribution_of, stored

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.system


@dataclass
class Host:
    name: str
    proc: subprocess.Popen
    base: str

    def get(self, path: str, ua: str = BROWSER, headers: dict[str, str] | None = None):
        headers = {"User-Agent": ua, **(headers or {})}
        return httpx.get(f"{self.base}{path}", headers=headers, timeout=20)


@pytest.fixture
def site_env(sandbox, sandbox_server, fresh_pg_url, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    settings = apply_env(sandbox_server.url, tmp_path, pay_transparency="off")
    env.update({f"CAREERS_{k.upper()}": v for k, v in settings.items()})
    env.update(
        CAREERS_PERSONIO_FEED_URL=f"{sandbox_server.url}/xml",
        CAREERS_SECRET_KEY=SECRET,
        CAREERS_DATABASE_URL=as_url(fresh_pg_url),
        CAREERS_SUBMIT_RATE_LIMIT="1000/60",
    )
    return env


@pytest.fixture
def hosts(site_env, tmp_path) -> Iterator:
    started: list[Host] = []

    def start(name: str) -> Host:
        port = free_port()
        env = site_env | {
            "CAREERS_DATA_DIR": str(tmp_path / name),
            "CAREERS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        command = [sys.executable, "-m", "careers.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", "1"]
        log = (tmp_path / f"{name}.log").open("wb")
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        host = Host(name, proc, f"http://127.0.0.1:{port}")
        started.append(host)

        def up() -> bool:
            try:
                return httpx.get(f"{host.base}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return proc.poll() is not None

        assert eventually(up, 60) and proc.poll() is None, (tmp_path / f"{name}.log").read_text()
        return host

    yield start
    for host in started:
        if host.proc.poll() is None:
            host.proc.send_signal(signal.SIGKILL)
            host.proc.wait(timeout=10)


def stop(*hosts: Host) -> None:
    """A graceful stop, as systemd or docker ask for it."""
    for host in hosts:
        host.proc.send_signal(signal.SIGTERM)
    for host in hosts:
        assert host.proc.wait(timeout=60) == 0


def test_a_visit_across_two_hosts_is_counted_once_per_step(
    hosts, sandbox, site_env, fresh_pg_url, tmp_path, runner
):
    a, b = hosts("host-a"), hosts("host-b")
    linkedin = "?_pc=linkedin"

    # A crawler reads everything on both hosts first: none of it counts.
    for host in (a, b):
        for ua in CRAWLERS[:3]:
            assert host.get(f"/en/jobs{linkedin}", ua).status_code == 200
            detail = host.get(f"/en/jobs/{JOB}", ua)
            assert detail.status_code == 301
            assert host.get(f"/en/jobs/{JOB}/apply", ua).status_code == 200
    job_path = detail.headers["Location"].split("?")[0].removeprefix(b.base)

    # The person: list on A, job page on B, form on A, the application posted to B.
    assert a.get(f"/en/jobs{linkedin}").status_code == 200
    assert b.get(f"{job_path}{linkedin}").status_code == 200
    # Not views: a prefetch, a HEAD.
    assert b.get(job_path, headers={"Sec-Purpose": "prefetch"}).status_code == 200
    head = httpx.head(f"{a.base}{job_path}", headers={"User-Agent": BROWSER}, timeout=20)
    assert head.status_code == 200
    form = a.get(f"/en/jobs/{JOB}/apply{linkedin}")
    assert form.status_code == 200
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    body, content_type = encode(
        valid_fields(token_of(form.text), attribution=attribution_of(form.text)),
        [("cv", cv, "cv.pdf", "application/pdf")],
    )
    posted = httpx.post(
        f"{b.base}/en/jobs/{JOB}/apply",
        content=body,
        headers={"Content-Type": content_type, "Origin": b.base, "User-Agent": BROWSER},
        timeout=30,
    )
    assert posted.status_code == 303, posted.text[:500]
    assert eventually(lambda: len(sandbox.received_applications) == 1, 60)

    database = open_database(as_url(fresh_pg_url))
    try:
        delivered = (JOB, "linkedin", "en", "delivered")
        assert eventually(lambda: stored(database.funnel).get(delivered) == 1, 30)
        # One more view, then both hosts stop at once: what they hold is written on the way out.
        assert b.get(job_path, PHONE).status_code == 200
        stop(a, b)
        assert stored(database.funnel) == {
            (0, "linkedin", "en", "list_view"): 1,
            (JOB, "linkedin", "en", "job_view"): 1,
            (JOB, "", "en", "job_view"): 1,
            (JOB, "linkedin", "en", "form_opened"): 1,
            (JOB, "linkedin", "en", "submitted"): 1,
            (JOB, "linkedin", "en", "delivered"): 1,
        }
    finally:
        database.close()
    assert len(sandbox.received_applications) == 1

    # Nothing in the table names a person, a browser or an address.
    with psycopg.connect(fresh_pg_url) as conn:
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'funnel_counts' ORDER BY ordinal_position"
            )
        ]
        dump = repr(conn.execute("SELECT * FROM funnel_counts").fetchall()).lower()
    assert columns == ["day", "position_id", "channel", "language", "step", "n"]
    for personal in ("juergen", "example.com", "127.0.0.1", "mozilla", "firefox", "iphone"):
        assert personal not in dump

    report = runner.invoke(
        ["report", "--csv"],
        env={k: v for k, v in site_env.items() if k.startswith("CAREERS_")}
        | {"CAREERS_DATA_DIR": str(tmp_path / "host-a")},
    )
    assert report.exit_code == 0, report.output
    rows = {(r["position_id"], r["channel"]): r for r in csv.DictReader(io.StringIO(report.output))}
    row = rows[(str(JOB), "linkedin")]
    assert [row[s] for s in ("job_view", "form_opened", "submitted", "delivered")] == ["1"] * 4
    assert row["form_rate"] == row["submit_rate"] == row["delivered_rate"] == "1.0000"
    assert rows[("0", "linkedin")]["list_view"] == "1"
    assert rows[(str(JOB), "")]["job_view"] == "1"
