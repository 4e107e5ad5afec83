"""Idle and slow connections: run by hand (`python -m bench.bench_connections`), not in CI.

Page latency (a fresh connection per request, alternating /en/jobs and /healthz) while one
load holds connections open to 127.0.0.1, for two servers with `careers serve`'s options
(2 processes x 32 threads), started fresh for each load:

- "gthread": gunicorn's stock worker (what `careers serve` ran before issue 18);
- "front": careers/cli/front.py, which reads heads and small bodies in the event loop.

Loads: none (the baseline), 1,000 idle connections, 200 slowloris connections (one header line
every 3 s), 70 slow bodies (10 bytes a second) to the job-alert route and to a page route.
A connection the server closes is opened again at once, as an attacker would. Each load runs
`--rounds` times; the table shows p50 / p99 / max of all requests, the spread of each round's
p99 (min-max) and how many requests got no answer within 5 s (counted as 5 s).
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.bench_slow_clients import wait_ready
from bench.server import free_port
from careers.sandbox import SANDBOX_COMPANY_ID, SANDBOX_TOKEN, SandboxServer

ROOT = Path(__file__).resolve().parents[1]

SECRET = "bench-secret-key-0123456789abcdef"
PAGES = ("/en/jobs", "/healthz")
REQUEST_TIMEOUT = 5.0

# name, connections, what each sends first, what it sends on every tick, tick seconds
Load = tuple[str, int, bytes, bytes, float]
HEAD = b"Host: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
LOADS: list[Load] = [
    ("idle (baseline)", 0, b"", b"", 1.0),
    ("1,000 idle connections", 1000, b"", b"", 1.0),
    ("200 slowloris (a header line / 3 s)", 200, b"GET /en/jobs HTTP/1.1\r\n", b"X-a: b\r\n", 3.0),
    (
        "70 slow bodies to /en/job-alerts",
        70,
        b"POST /en/job-alerts HTTP/1.1\r\n" + HEAD + b"Content-Length: 4000\r\n\r\n",
        b"email=aaaa",
        1.0,
    ),
    (
        "70 slow bodies to /en/jobs (a page)",
        70,
        b"POST /en/jobs HTTP/1.1\r\n" + HEAD + b"Content-Length: 4000\r\n\r\n",
        b"q=aaaaaaaa",
        1.0,
    ),
]


class Holder:
    """Keeps `count` connections open and sending, reopening any the server closes."""

    def __init__(self, base: str, load: Load) -> None:
        _, self.count, self.first, self.tick, self.every = load
        host, port = base.removeprefix("http://").split(":")
        self.address = (host, int(port))
        self.stop = threading.Event()
        self.reopened = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Holder:
        self.thread.start()
        time.sleep(2 if self.count else 0)  # every connection open and reached the server
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    def _open(self, selector: selectors.BaseSelector) -> None:
        try:
            sock = socket.create_connection(self.address, timeout=5)
            if self.first:
                sock.sendall(self.first)
        except OSError:
            return  # the listen queue is full: try again on the next tick
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        for _ in range(self.count):
            self._open(selector)
        next_tick = time.monotonic() + self.every
        while not self.stop.is_set():
            for key, _ in selector.select(timeout=0.2):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data or data.startswith(b"HTTP/"):  # answered or closed: start over
                    selector.unregister(sock)
                    sock.close()
                    self.reopened += 1
            while len(selector.get_map()) < self.count and not self.stop.is_set():
                self._open(selector)
            if self.tick and time.monotonic() >= next_tick:
                next_tick += self.every
                for key in list(selector.get_map().values()):
                    try:
                        key.fileobj.send(self.tick)  # type: ignore[union-attr]
                    except OSError:
                        pass
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        selector.close()


def measure(base: str, n: int, budget: float) -> list[float]:
    """Latencies of up to `n` page requests within `budget` seconds (a miss counts as 5 s)."""
    out: list[float] = []
    until = time.monotonic() + budget
    while len(out) < n and time.monotonic() < until:
        path = PAGES[len(out) % len(PAGES)]
        started = time.perf_counter()
        try:
            ok = httpx.get(f"{base}{path}", timeout=REQUEST_TIMEOUT).status_code == 200
        except httpx.TransportError:
            ok = False
        out.append(time.perf_counter() - started if ok else REQUEST_TIMEOUT)
    return out


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def start(worker: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.serve_with", worker, str(port)],
        env={**os.environ, **env, "CAREERS_PUBLIC_URL": f"http://127.0.0.1:{port}"},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, proc, seconds=40)
    measure(base, 10, 30)  # warm: catalogue loaded, pages cached
    return proc, base


def run(worker: str, load: Load, env: dict[str, str], rounds: int, n: int) -> dict:
    proc, base = start(worker, env)
    every: list[float] = []
    round_p99: list[float] = []
    try:
        for _ in range(rounds):
            with Holder(base, load):
                found = measure(base, n, budget=30)
            every += found
            round_p99.append(p99(found) if len(found) > 1 else found[0])
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return {
        "p50": statistics.median(every),
        "p99": p99(every),
        "max": max(every),
        "rounds": (min(round_p99), max(round_p99)),
        "misses": sum(v >= REQUEST_TIMEOUT for v in every),
        "requests": len(every),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def run_all(workers: list[str], rounds: int, n: int, loads: list[int] | None = None) -> list[dict]:
    """Every load for every worker, printed as a table row as each is done; the rows."""
    print(
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {rounds} rounds x {n} page "
        f"requests per load; a miss = no answer in {REQUEST_TIMEOUT:.0f} s"
    )
    header = (
        f"| {'load':<38} | {'worker':<7} | {'p50':>7} | {'p99':>7} | {'max':>7} "
        f"| {'p99 of rounds':>15} | misses |"
    )
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")
    rows = []
    with SandboxServer() as sandbox, tempfile.TemporaryDirectory() as data:
        env = {
            "CAREERS_PERSONIO_FEED_URL": f"{sandbox.url}/xml",
            "CAREERS_PERSONIO_API_URL": sandbox.url,
            "CAREERS_PERSONIO_COMPANY_ID": SANDBOX_COMPANY_ID,
            "CAREERS_PERSONIO_RECRUITING_TOKEN": SANDBOX_TOKEN,
            "CAREERS_SECRET_KEY": SECRET,
            "CAREERS_DATA_DIR": data,
            # Job alerts on, so their route reads its form (no mail is sent: no worker runs).
            "CAREERS_SMTP_URL": "smtp://127.0.0.1:2525",
            "CAREERS_MAIL_FROM": "Bench <jobs@example.com>",
            # Required once a site takes applications or alerts; the benchmark never shows it.
            "CAREERS_PRIVACY_URL": f"{sandbox.url}/privacy-policy",
        }
        for load in [LOADS[i] for i in loads] if loads else LOADS:
            for worker in workers:
                r = run(worker, load, env, rounds, n) | {"load": load[0], "worker": worker}
                low, high = r["rounds"]
                print(
                    f"| {load[0]:<38} | {worker:<7} | {ms(r['p50']):>7} | {ms(r['p99']):>7} | "
                    f"{ms(r['max']):>7} | {ms(low) + '-' + ms(high):>15} | "
                    f"{r['misses']} of {r['requests']} |",
                    flush=True,
                )
                rows.append(r)
    print(f"load average after: {os.getloadavg()[0]:.1f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_connections",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30, help="page requests per round")
    parser.add_argument("--workers", default="gthread,front", help="comma list")
    parser.add_argument("--loads", default="", help="comma list of load numbers (0: idle)")
    args = parser.parse_args()
    loads = [int(i) for i in args.loads.split(",") if i.strip()]
    run_all(args.workers.split(","), args.rounds, args.requests, loads)


if __name__ == "__main__":
    main()
