"""The funnel's cost on a page view (issue 22): run by hand (`python -m bench.bench_funnel`).

Two careers servers under `careers serve`'s gunicorn options (bench/baseline.py) on one
board: one counts views as always, the other is built without its tally (BENCH_FUNNEL=off),
everything else equal. Both servers run on the server's core and the clients on the load
generator's when bench/run.py pins (BENCH_PIN). A keep-alive client sends the same job page
(with a `_pc` channel, as a browser) to both sides in turn, one request each (ABBA order;
with `--clients N`, N clients in lockstep: all to one side, then all to the other), so that
the machine's other work falls on both sides alike; rounds of one side after the other let a
burst of it decide a round. One client is the default: with 4 (issue 22's figure) the
clients' own threads on one shared core decide the p99 (two runs, one after the other, on a
loaded machine: 1.15x and 1.00x, rounds 0.53-1.58x). After a warm-up (discarded), each
round's figure is the ratio of the two sides' p99, the figure their median (target <=
1.10x). A round of 2,000 requests per side lasts about as long as the tally waits between
two writes (5 s, careers/jobs/funnel.py FLUSH_EVERY), so each round holds about one, where
a round of 400 from 4 clients (issue 22) held one or none. The ratio of the p99s of every
request pooled is printed beside it. At the end the counting side is stopped gracefully and
its stored views are checked against the requests it answered, so the "on" side really
counted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench import baseline, measure
from bench.measure import p99_ratios, rounds_line, spread, tree_cpu_seconds
from bench.server import free_port
from careers.db.database import open_database
from careers.sandbox.server import SandboxServer

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
JOB = 1842958  # the sandbox's sample board


def lockstep(urls: dict[str, str], n: int, clients: int = 1) -> dict[str, list[float]]:
    """`n` GETs of each side's url from `clients` keep-alive connections to each, in lockstep:
    all clients send to one side at once, wait for one another, then send to the other (ABBA
    order). Only one side has requests in flight at a time, and whatever else the machine
    does in a given millisecond falls on both sides alike. Each side's seconds per request."""
    out: dict[str, list[float]] = {side: [] for side in urls}
    lock = threading.Lock()
    together = threading.Barrier(clients)
    sides = list(urls)

    def run(count: int) -> None:
        mine: dict[str, list[float]] = {side: [] for side in urls}
        with contextlib.ExitStack() as stack:
            http = {
                side: stack.enter_context(httpx.Client(timeout=30, headers={"User-Agent": BROWSER}))
                for side in urls
            }
            for i in range(count):
                for side in sides if i % 2 == 0 else reversed(sides):
                    together.wait()
                    started = time.perf_counter()
                    response = http[side].get(urls[side])
                    mine[side].append(time.perf_counter() - started)
                    assert response.status_code == 200, response.status_code
        with lock:
            for side, values in mine.items():
                out[side].extend(values)

    threads = [threading.Thread(target=run, args=(n // clients,)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


WARMUP = 500  # requests per side before the rounds, discarded


def run(rounds: int, samples: int, postgres: str = "", clients: int = 1) -> dict[str, Any]:
    measure.pin_client()  # the clients off the servers' core (when bench/run.py pins)
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
            # warm-up, discarded: every worker has rendered and cached the page
            answered = len(lockstep(sides, WARMUP, clients)["on"])
            taken: dict[str, list[list[float]]] = {"on": [], "off": []}
            cpu: dict[str, list[float]] = {"on": [], "off": []}
            for _ in range(rounds):
                before = {side: tree_cpu_seconds(pid) for side, pid in pids.items()}
                got = lockstep(sides, samples, clients)
                for side, values in got.items():
                    taken[side].append(values)
                    used = tree_cpu_seconds(pids[side]) - before[side]
                    cpu[side].append(used / len(values))
                answered += len(got["on"])
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
    ratios, off, on = p99_ratios(taken["off"], taken["on"])
    return {
        "on": on,
        "off": off,
        "pooled": on / off,
        "rounds": ratios,
        "requests": sum(len(r) for r in taken["on"]),
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
    parser.add_argument("--rounds", type=int, default=9, help="rounds")
    parser.add_argument("--samples", type=int, default=2000, help="requests per side and round")
    parser.add_argument("--clients", type=int, default=1, help="clients in lockstep")
    parser.add_argument("--postgres", default="", help="count into this PostgreSQL database")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    found = run(args.rounds, args.samples, args.postgres, args.clients)
    ratios = found["rounds"]
    print(
        f"[F] job page p99 with counting on vs. off, `serve`'s gunicorn options, {args.clients}"
        f" keep-alive client(s) in lockstep, {measure.describe_pinning()}, {args.rounds} rounds"
        f" of {args.samples} per side after {WARMUP} discarded; p99 ratio by round"
        f" {spread(ratios)} (target <= 1.10x); of all {found['requests']:,.0f} requests of each"
        f" side pooled: on {found['on'] * 1000:.2f} ms, off {found['off'] * 1000:.2f} ms,"
        f" {found['pooled']:.2f}x; server CPU per request {found['cpu_on'] * 1e6:.0f} vs."
        f" {found['cpu_off'] * 1e6:.0f} us; views stored {found['counted']:.0f} of"
        f" {found['answered']:.0f} answered"
    )
    print(rounds_line("P8", ratios))
    print(f"#stored P8 {found['counted']:.0f} {found['answered']:.0f}")


if __name__ == "__main__":
    main()
