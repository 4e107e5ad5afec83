"""Backlog delivery with three hosts: run by hand (`python -m bench.bench_hosts`), not in CI.

Three `careers worker` processes share one PostgreSQL outbox and one rate limit (the store's
careers/db/ratelimit.py, on the database's clock) and drain a backlog to the sandbox's Recruiting API,
whose sliding window is set to the same budget (CAREERS_PERSONIO_RATE_LIMIT = the sandbox's).
Measured from the first request the sandbox admits, against that budget:
- requests admitted per whole window from the first request, and their share of the budget;
- the busiest sliding window (at most the limit, or Personio would have refused some);
- the sustained share: the window divided by the mean time between admitted request i and
  i + COUNT (how far apart a saturating client's bursts are), target >= 95 %;
- 429s (target 0) and every application delivered exactly once, each document uploaded once.

The hosts are plain processes on this machine, each with its own data directory and the same
CAREERS_DATABASE_URL: distinct PIDs, one hostname (tests/test_multihost.py gives each its own
hostname and pid 1 with unshare; a lease owner is host:pid:random, so that changes nothing).
By default the budget is Personio's own, 20 requests / 60 s, for three windows (about two
minutes); `--quick` scales it to 20 / 6 s (about 30 s), where the deliverer's fixed margin of
WINDOW_MARGIN per window alone caps the sustained share at 6 / 6.5 = 92.3 %. A copy of the
slots the hosts take (a trigger in the bench's own database) times slot -> arrival.
`run(quick)` returns the figures for bench/run.py.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.bench_applications import JOB, write_pdf
from bench.server import fresh_database
from careers.applications.delivery import WINDOW_MARGIN
from careers.applications.model import Application, Attachment
from careers.db.database import open_database
from careers.personio.vocabulary import DocumentCategory
from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN, SandboxServer

ROOT = Path(__file__).resolve().parents[1]

ADMIN_URL = os.environ.get(
    "CAREERS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres?connect_timeout=3"
)
HOSTS = 3
COUNT = 20  # Personio's 20 requests per window (docs/personio.md §3)
REAL_WINDOW = 60
SCALED_WINDOW = 6
TARGET = 0.95
# Seconds of saturated delivery aimed at (from the first request): the backlog is sized so
# the workers never run dry before it is all delivered.
SPAN = {True: 26.0, False: 120.0}
# Instrumentation of the bench's own database: a copy of every slot the deliverers take
# (rate_log rows are deleted once out of the window), to time slot -> arrival at Personio.
SLOT_COPY = """
CREATE TABLE bench_slots (at double precision NOT NULL);
CREATE FUNCTION bench_copy_slot() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO bench_slots (at) VALUES (NEW.at); RETURN NEW; END $$;
CREATE TRIGGER bench_copy_slot AFTER INSERT ON rate_log
    FOR EACH ROW EXECUTE FUNCTION bench_copy_slot();
"""


def copy_slots(url: str) -> None:
    """Keep every slot taken (see SLOT_COPY)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SLOT_COPY)


def slots_taken(url: str) -> list[float]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [row[0] for row in conn.execute("SELECT at FROM bench_slots ORDER BY at")]


def default_applications(quick: bool, window: int) -> int:
    """Enough applications (two requests each) for SPAN seconds of bursts, at least three."""
    bursts = max(3, int(SPAN[quick] / (window + WINDOW_MARGIN)) + 1)
    return COUNT * bursts // 2


def queue_backlog(url: str, tmp: Path, count: int) -> set[str]:
    """`count` accepted applications with one small real PDF each, stored as the form would
    (sealed, bytes in the database); the documents' sha256 values."""
    digests = set()
    database = open_database(url)
    outbox = database.outbox
    try:
        for n in range(count):
            # Sizes differ by a byte, so every CV is a different file.
            pdf = write_pdf(tmp / f"cv-{n}.pdf", 20_000 + n)
            data = pdf.read_bytes()
            digests.add(hashlib.sha256(data).hexdigest())
            outbox.add(
                Application(
                    position_id=JOB,
                    language="en",
                    first_name="Jürgen",
                    last_name=f"Müller {n}",
                    email=f"backlog+{n}@example.com",
                    message="Hallo!",
                    documents=(
                        Attachment(DocumentCategory.CV, "Lebenslauf.pdf", str(pdf), len(data)),
                    ),
                )
            )  # the outbox takes the file: it deletes it once its bytes are stored
    finally:
        database.close()
    return digests


def worker_env(sandbox_url: str, url: str, data_dir: Path, window: int) -> dict[str, str]:
    """A host's settings: its own data directory, the shared database and budget."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    env.update(
        CAREERS_PERSONIO_FEED_URL=f"{sandbox_url}/xml",
        CAREERS_PERSONIO_API_URL=sandbox_url,
        CAREERS_PERSONIO_COMPANY_ID=SANDBOX_COMPANY_ID,
        CAREERS_PERSONIO_RECRUITING_TOKEN=SANDBOX_TOKEN,
        CAREERS_SECRET_KEY="bench-secret-0123456789",
        CAREERS_DATA_DIR=str(data_dir),
        CAREERS_DATABASE_URL=url,
        CAREERS_PERSONIO_RATE_LIMIT=f"{COUNT}/{window}",
        CAREERS_PRIVACY_URL="https://nordlicht.example/privacy",
    )
    return env


def start_workers(sandbox_url: str, url: str, tmp: Path, window: int) -> list[subprocess.Popen]:
    """Three `careers worker` processes, started back to back."""
    procs = []
    for host in range(HOSTS):
        data_dir = tmp / f"host-{host}"
        data_dir.mkdir()
        with (tmp / f"host-{host}.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "careers.cli", "worker"],
                    cwd=ROOT,
                    env=worker_env(sandbox_url, url, data_dir, window),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    """SIGTERM, as an operator stops them; SIGKILL what does not stop within 15 s."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def busiest(times: list[float], seconds: float) -> int:
    """The most requests in any [t, t + seconds) that starts at a request."""
    return max((bisect.bisect_left(times, t + seconds) - i for i, t in enumerate(times)), default=0)


def analyse(admitted: list[float], window: int) -> dict[str, Any]:
    """Per-window counts, busiest window and sustained share of the admitted requests."""
    times = sorted(admitted)
    start, end = times[0], times[-1]
    # Whole windows only, all inside the run (the workers were saturated throughout).
    whole = int((end - start) // window)
    per_window = [
        bisect.bisect_left(times, start + (j + 1) * window)
        - bisect.bisect_left(times, start + j * window)
        for j in range(whole)
    ]
    gaps = [times[i + COUNT] - times[i] for i in range(len(times) - COUNT)]
    sustained = window / (sum(gaps) / len(gaps)) if gaps else math.nan
    return {
        "span_s": end - start,
        "per_window": per_window,
        "budget_used": sum(per_window) / (COUNT * whole) if whole else math.nan,
        "busiest_window": busiest(times, window),
        "sustained": sustained,
        # The deliverer keeps WINDOW_MARGIN beyond each window for clock skew: its ceiling.
        "ceiling": window / (window + WINDOW_MARGIN),
    }


def outcomes_by_host(tmp: Path, outcome: str) -> list[int]:
    """How often each host's log says a delivery attempt ended in `outcome`."""
    pattern = re.compile(rf"delivery attempt .*outcome={outcome}\b")
    return [
        len(pattern.findall((tmp / f"host-{h}.log").read_text(errors="replace")))
        for h in range(HOSTS)
    ]


def slot_delays(slots: list[float], arrivals: list[float]) -> dict[str, float]:
    """From a slot taken (the database's clock, same machine) to the request reaching the
    sandbox, in order: the pacing margin must cover how much this varies, or Personio sees
    request i + COUNT less than a window after request i."""
    delays = sorted(a - s for s, a in zip(sorted(slots), sorted(arrivals), strict=False))
    if not delays:
        return {"delay_p50_s": math.nan, "delay_p99_s": math.nan, "delay_max_s": math.nan}
    return {
        "delay_p50_s": delays[len(delays) // 2],
        "delay_p99_s": delays[min(len(delays) - 1, int(0.99 * len(delays)))],
        "delay_max_s": delays[-1],
    }


def run(quick: bool, window: int = 0, applications: int = 0) -> dict[str, Any]:
    """Queue a backlog, drain it with three hosts, return the figures (and print them)."""
    window = window or (SCALED_WINDOW if quick else REAL_WINDOW)
    applications = applications or default_applications(quick, window)
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_name, fresh_database(ADMIN_URL) as url:
        tmp = Path(tmp_name)
        queued = time.perf_counter()
        digests = queue_backlog(url, tmp, applications)
        queued = time.perf_counter() - queued
        copy_slots(url)
        with SandboxServer() as server:
            recruiting = server.sandbox.recruiting
            server.sandbox.set_rate_limit((COUNT, float(window)))
            started = time.time()
            procs = start_workers(server.url, url, tmp, window)
            bursts = math.ceil(2 * applications / COUNT)
            deadline = time.monotonic() + 60 + 1.5 * bursts * (window + WINDOW_MARGIN)
            try:
                while len(recruiting.received_applications) < applications:
                    if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                        break
                    time.sleep(0.2)
            finally:
                stop_workers(procs)
            if not recruiting.admitted:
                log = (tmp / "host-0.log").read_text(errors="replace")
                raise RuntimeError(f"no request reached the sandbox; host-0 said:\n{log[-3000:]}")
            admitted = list(recruiting.admitted)
            refused = recruiting.refused_for_rate
            received = list(recruiting.received_applications)
            documents = list(recruiting.received_documents.values())
            requests = [r for r in server.sandbox.requests if r["path"].startswith("/v1/")]
        database = open_database(url)
        try:
            counts = database.outbox.counts()
        finally:
            database.close()
        slots = slots_taken(url)
        by_host = outcomes_by_host(tmp, "delivered")
        retries = sum(outcomes_by_host(tmp, "retry"))
    emails = {r["body"]["email"] for r in received}
    figures: dict[str, Any] = {
        "hosts": HOSTS,
        "rate": f"{COUNT}/{window} s",
        "applications": applications,
        "queue_s": queued,
        "first_request_after_s": (min(admitted) - started) if admitted else math.nan,
        **analyse(admitted, window),
        "requests": len(requests),
        "admitted": len(admitted),
        "refused_429": refused,
        "received": len(received),
        "distinct_received": len(emails),
        "documents": len(documents),
        "documents_match": {d.sha256 for d in documents} == digests
        and len(documents) == len(digests),
        "outbox": counts,
        "by_host": by_host,
        "retries": retries,
        "slots": len(slots),
        **slot_delays(slots, [r["time"] for r in requests]),
        "wall_s": time.perf_counter() - wall,
    }
    figures["exactly_once"] = (
        figures["received"] == figures["distinct_received"] == applications
        and figures["documents_match"]
        and counts == {"delivered": applications}
    )
    figures["met"] = (
        figures["sustained"] >= TARGET
        and refused == 0
        and figures["busiest_window"] <= COUNT
        and figures["exactly_once"]
    )
    report(figures)
    return figures


def report(f: dict[str, Any]) -> None:
    """One line per figure."""
    print(
        f"[hosts] {f['hosts']} `careers worker` processes on this machine (own data dir each, "
        f"one CAREERS_DATABASE_URL; plain processes, not namespaced), CAREERS_PERSONIO_RATE_LIMIT"
        f" = sandbox limit = {f['rate']}; {f['applications']} applications (1 PDF each) queued "
        f"through Outbox.add in {f['queue_s']:.1f} s; first request "
        f"{f['first_request_after_s']:.1f} s after the workers were started"
    )
    print(
        f"[windows] {len(f['per_window'])} whole windows from the first request: admitted "
        f"{f['per_window']} of {COUNT} each → {100 * f['budget_used']:.1f} % of the budget; "
        f"{f['span_s']:.1f} s first to last request"
    )
    print(f"[busiest] busiest sliding window: {f['busiest_window']} requests (limit {COUNT})")
    print(
        f"[sustained] {100 * f['sustained']:.1f} % of the budget (target >= {100 * TARGET:.0f} %); "
        f"the deliverer's {WINDOW_MARGIN} s margin per window caps it at "
        f"{100 * f['ceiling']:.1f} %: {100 * f['sustained'] / f['ceiling']:.1f} % of that ceiling"
    )
    print(
        f"[429] {f['refused_429']} refused for rate (target 0), {f['retries']} 'retry' outcomes; "
        f"{f['requests']} recruiting requests, {f['admitted']} admitted (2 per application: "
        f"{2 * f['applications']})"
    )
    print(
        f"[delay] slot taken -> request at the sandbox ({f['slots']} slots): median "
        f"{1000 * f['delay_p50_s']:.0f} ms, p99 {1000 * f['delay_p99_s']:.0f} ms, max "
        f"{1000 * f['delay_max_s']:.0f} ms; a spread beyond the {WINDOW_MARGIN} s margin "
        f"lets Personio see two requests {COUNT} apart less than a window apart (429)"
    )
    print(
        f"[once] sandbox received {f['received']} applications ({f['distinct_received']} "
        f"distinct) of {f['applications']}, {f['documents']} documents "
        f"({'byte-identical, each once' if f['documents_match'] else 'MISMATCH'}); outbox "
        f"{f['outbox']}; delivered per host {f['by_host']} → "
        f"{'exactly once' if f['exactly_once'] else 'NOT exactly once'}"
    )
    note = ""
    if f["ceiling"] < TARGET:
        note = f" (this window's ceiling is below {100 * TARGET:.0f} %: judge at --window 60)"
    print(
        f"[P5] {'met' if f['met'] else 'MISSED'}{note}: sustained {100 * f['sustained']:.1f} %, "
        f"{f['refused_429']} × 429, busiest {f['busiest_window']}/{COUNT}; run took "
        f"{f['wall_s']:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_hosts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{COUNT}/{SCALED_WINDOW} s, about 30 s"
    )
    parser.add_argument(
        "--window",
        type=int,
        default=0,
        help=f"the budget's window in whole seconds, {COUNT} requests per window (default: "
        f"Personio's {REAL_WINDOW}; {SCALED_WINDOW}, scaled down, with --quick)",
    )
    parser.add_argument(
        "--applications", type=int, default=0, help="backlog size (default: fits the run)"
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    run(args.quick, args.window, args.applications)


if __name__ == "__main__":
    main()
