"""The funnel's cost on a page view (issue 22): run by hand (`python -m bench.bench_funnel`).

Two careers servers under `careers serve`'s gunicorn options (bench/baseline.py) on one
board: one counts views as always, the other is built without its tally (BENCH_FUNNEL=off),
everything else equal. Each round sends the same job page (warm, with a `_pc` channel, as
a browser) to both sides in turn, from 4 keep-alive clients; the figure is the median of
the rounds' p99 on each side and their ratio (target <= 1.10x), with the rounds' ratios'
min-max. At the end the counting side is stopped gracefully and its stored views are
checked against the requests it answered, so the "on" side really counted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime

import httpx

from bench import baseline
from bench.bench_jobs import cpu_seconds
from bench.server import free_port
from careers.db.database import open_database
from careers.sandbox.server import SandboxServer

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
JOB = 1842958  # the sandbox's sample board


def latencies(url: str, n: int, clients: int = 4) -> list[float]:
    """`n` GETs of `url` from `clients` keep-alive connections; each one's seconds."""
    out: list[float] = []
    lock = threading.Lock()

    def run(count: int) -> None:
        mine = []
        with httpx.Client(timeout=30, headers={"User-Agent": BROWSER}) as client:
            for _ in range(count):
                started = time.perf_counter()
                response = client.get(url)
                mine.append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code
        with lock:
            out.extend(mine)

    threads = [threading.Thread(target=run, args=(n // clients,)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def run(rounds: int, samples: int, postgres: str = "") -> dict[str, float]:
    with SandboxServer() as sandbox, tempfile.TemporaryDirectory() as tmp:
        sides = {}
        procs = []
        pids: dict[str, int] = {}
        try:
            for side in ("on", "off"):
                data_dir = os.path.join(tmp, side)
                env = {
                    "CAREERS_PERSONIO_FEED_URL": f"{sandbox.url}/xml",
                    "CAREERS_SECRET_KEY": "bench-secret-0123456789",
                    "CAREERS_DATA_DIR": data_dir,
                    "CAREERS_PAY_TRANSPARENCY": "off",
                    "BENCH_FUNNEL": side,
                }
                if postgres and side == "on":
                    env["CAREERS_DATABASE_URL"] = postgres
                port = free_port()
                procs.append(baseline.start("careers", port, env))
                pids[side] = procs[-1].pid
                base = f"http://127.0.0.1:{port}"
                moved = httpx.get(f"{base}/en/jobs/{JOB}", timeout=30)
                assert moved.status_code == 301, moved.status_code
                path = moved.headers["Location"].split("?")[0].removeprefix(base)
                sides[side] = f"{base}{path}?_pc=linkedin"
            answered = 0
            for url in sides.values():
                latencies(url, 200)  # warm-up: every worker has rendered and cached the page
                answered += 200 if url == sides["on"] else 0
            p99s: dict[str, list[float]] = {"on": [], "off": []}
            cpu: dict[str, list[float]] = {"on": [], "off": []}
            for i in range(rounds):
                order = ["on", "off"] if i % 2 == 0 else ["off", "on"]
                for side in order:
                    before = cpu_seconds(pids[side])
                    p99s[side].append(p99(latencies(sides[side], samples)))
                    cpu[side].append((cpu_seconds(pids[side]) - before) / samples)
                answered += samples
        finally:
            for proc in procs:
                proc.terminate()  # graceful: the counting side writes what it holds
                proc.wait(timeout=30)
        url = postgres or f"sqlite:///{os.path.join(tmp, 'on', 'careers.db')}"
        database = open_database(url)
        try:
            today = datetime.now(UTC).date()
            counted = sum(c.n for c in database.funnel.totals(today, today))
        finally:
            database.close()
    ratios = [on / off for on, off in zip(p99s["on"], p99s["off"], strict=True)]
    on, off = statistics.median(p99s["on"]), statistics.median(p99s["off"])
    return {
        "on": on,
        "off": off,
        "ratio": on / off,
        "low": min(ratios),
        "high": max(ratios),
        "cpu_on": statistics.median(cpu["on"]),
        "cpu_off": statistics.median(cpu["off"]),
        "counted": counted,
        "answered": answered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_funnel",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds")
    parser.add_argument("--samples", type=int, default=400, help="requests per side and round")
    parser.add_argument("--postgres", default="", help="count into this PostgreSQL database")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    found = run(args.rounds, args.samples, args.postgres)
    print(
        f"[F] job page p99 with counting on vs. off, `serve`'s gunicorn options, 4 keep-alive"
        f" clients, median of {args.rounds} alternating rounds of {args.samples}: on"
        f" {found['on'] * 1000:.2f} ms, off {found['off'] * 1000:.2f} ms; ratio"
        f" {found['ratio']:.2f}x (rounds {found['low']:.2f}-{found['high']:.2f}x; target"
        f" <= 1.10x); server CPU per request {found['cpu_on'] * 1e6:.0f} vs."
        f" {found['cpu_off'] * 1e6:.0f} us; views stored {found['counted']:.0f} of"
        f" {found['answered']:.0f} answered"
    )


if __name__ == "__main__":
    main()
