"""Slow clients: run by hand (`python -m bench.bench_slow_clients`), not in CI.

50 connections trickle application bodies at 100 bytes a second (reconnecting whenever they
are cut), while a client measures page and /healthz latency. Printed side by side, measured
in the same run:

- "before": gunicorn gthread, 2 workers x 4 threads, no budget for uploads (the old serve);
- "careers serve": the real command, as shipped (threads, upload slots and the slow-body
  cut-off of careers/applications/slowbody.py).

For each: idle p99, p99 under the trickle, their ratio (target <= 2x; p99 < 1 s), timeouts,
and what the tricklers were answered (408 cut, 503 busy). bench/run.py's P6 measures the
ratio with `run_paired` instead: an idle and a loaded `careers serve` side by side, pages
timed on both in turn, thousands of them (issue 25: figures that reproduce). Then one
candidate sends a 20 MB CV at 1 Mbit/s to `careers serve` and must get a 303 (skip with
--quick).

Fair slots (`--scenario fair`, issue 18): 50 attackers from 50 addresses trickle 2 MB forms
at 6 kB/s (above the 4 kB/s crawl floor, so never cut by it) and start again whenever they are
answered; once they hold the slots, 18 candidates (3 at a time, each its own address) send a
2 MB CV at 1 Mbit/s, while pages are timed. Two servers with `careers serve`'s worker and
threads (2 x 32, 24 upload slots a process):

- "first come": the upload slots as before issue 18 (no slot taken over, no share per client);
- "careers serve": the real command, slots fair (careers/applications/slowbody.py UploadGate).
"""

from __future__ import annotations

import argparse
import functools
import os
import select
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.measure import p99_ratios
from bench.server import free_port
from careers.applications.rules import SERVE_THREADS, UPLOAD_SLOTS
from careers.cli.front import WORKER_CONNECTIONS
from careers.sandbox import SANDBOX_COMPANY_ID, SANDBOX_TOKEN, SandboxServer

ROOT = Path(__file__).resolve().parents[1]

JOB = 1842958  # Embedded Systems Engineer (sample data)
SECRET = "bench-secret-key-0123456789abcdef"
FRONT = "careers.cli.front.FrontWorker"


def sandbox_env(sandbox_url: str, data: str) -> dict[str, str]:
    """The servers' settings against the sandbox (bench/run.py's P6 runs them too)."""
    return {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_url}/xml",
        "CAREERS_PERSONIO_API_URL": sandbox_url,
        "CAREERS_PERSONIO_COMPANY_ID": SANDBOX_COMPANY_ID,
        "CAREERS_PERSONIO_RECRUITING_TOKEN": SANDBOX_TOKEN,
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": data,
        "CAREERS_MIN_FILL_SECONDS": "0",
        "CAREERS_SUBMIT_RATE_LIMIT": "100000/60",
        "CAREERS_PRIVACY_URL": f"{sandbox_url}/privacy-policy",
    }


def wait_ready(base: str, proc: subprocess.Popen, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def start(kind: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if kind == "before":
        command = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread"]
        command += ["--threads", "4", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
        command += ["--no-control-socket", "bench.app:app"]
        env = {**env, "BENCH_UPLOAD_SLOTS": "1000"}
    elif kind == "first come":
        command = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", FRONT, "--threads"]
        command += [str(SERVE_THREADS), "--worker-connections", str(WORKER_CONNECTIONS)]
        command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning"]
        command += ["--no-control-socket", "bench.app:app"]
        env = {**env, "BENCH_UPLOAD_SLOTS": str(UPLOAD_SLOTS)}
    else:
        command = [sys.executable, "-m", "careers.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", "2", "--no-worker"]
    proc = subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, proc)
    return proc, base


def form_body(base: str, size: int) -> tuple[bytes, str]:
    """A real form (token, honeypot, fields) with a CV part of `size` bytes."""
    import re

    page = httpx.get(f"{base}/en/jobs/{JOB}/apply", timeout=10).text
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token, "no form token"
    boundary = "----BenchBoundary"
    fields = {
        "form_token": token[1],
        "website": "",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "custom_attribute_1002": "linkedin",
        "consent": "yes",
    }
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    pdf = _pdf(size)
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="cv"; filename="cv.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    out += pdf + f"\r\n--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


@functools.cache
def _pdf(size: int) -> bytes:
    import tempfile

    from tests.filegen import make_pdf  # the same real PDF the tests use

    with tempfile.TemporaryDirectory() as folder:
        path = make_pdf(Path(folder) / "cv.pdf", text="Experience " * max(1, size // 11))
        return path.read_bytes()


def head(base: str, body: bytes, content_type: str, client: str) -> bytes:
    """Request head; `client` goes in X-Forwarded-For, which careers believes from loopback
    only: each trickler counts as its own client address (a documentation-range address:
    nothing is ever sent there)."""
    host = base.removeprefix("http://")
    return (
        f"POST /en/jobs/{JOB}/apply HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: {client}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()


def trickle(
    base: str,
    body: bytes,
    content_type: str,
    until: float,
    answers: Counter,
    client: str,
    rate: int = 100,
    done: threading.Event | None = None,
) -> None:
    """Send the body at `rate` B/s; when cut or refused, note the answer and start again
    (until `until`, or until `done` is set)."""
    host, port = base.removeprefix("http://").split(":")
    step = max(1, rate // 10)
    while time.monotonic() < until and not (done and done.is_set()):
        try:
            sock = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            answers["connect_failed"] += 1
            time.sleep(0.5)
            continue
        try:
            sock.sendall(head(base, body, content_type, client))
            sock.settimeout(0.001)
            offset = 0
            while time.monotonic() < until and offset < len(body):
                if done and done.is_set():
                    break
                sock.sendall(body[offset : offset + step])
                offset += step
                try:
                    reply = sock.recv(64)
                except (TimeoutError, BlockingIOError):
                    time.sleep(0.1)
                    continue
                answers[
                    reply.split(b" ")[1].decode() if reply.startswith(b"HTTP/") else "closed"
                ] += 1
                break
        except OSError:
            answers["reset"] += 1
        finally:
            sock.close()


def measure(base: str, paths: list[str], n: int, timeout: float = 10.0) -> tuple[list[float], int]:
    """Latencies of n rounds over `paths` (fresh connection each, as browsers often do)."""
    out, failures = [], 0
    for _ in range(n):
        for path in paths:
            started = time.perf_counter()
            try:
                response = httpx.get(f"{base}{path}", timeout=timeout)
                ok = response.status_code == 200
            except httpx.TransportError:
                ok = False
            elapsed = time.perf_counter() - started
            out.append(elapsed if ok else timeout)
            failures += not ok
    return out, failures


def fresh_data(env: dict[str, str]) -> dict[str, str]:
    """Each server its own data directory: no rate counters carried over between runs."""
    import tempfile

    return {**env, "CAREERS_DATA_DIR": tempfile.mkdtemp(dir=env["CAREERS_DATA_DIR"])}


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


def run(kind: str, env: dict[str, str], clients: int, seconds: float, rounds: int) -> dict:
    proc, base = start(kind, fresh_data(env))
    paths = ["/en/jobs", "/healthz"]
    try:
        measure(base, paths, 5)  # warm
        idle, _ = measure(base, paths, rounds)
        body, content_type = form_body(base, 200_000)
        answers: Counter = Counter()
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(
                target=trickle,
                args=(base, body, content_type, until, answers, f"198.51.100.{i + 1}"),
            )
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(3)  # let every trickler hold its connection
        loaded, failures = measure(base, paths, rounds)
        for thread in threads:
            thread.join()
        return {
            "kind": kind,
            "idle_p99": p99(idle),
            "loaded_p99": p99(loaded),
            "failures": failures,
            "answers": dict(answers),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_paired(
    env: dict[str, str], clients: int, samples: int, rounds: int, timeout: float = 10.0
) -> dict[str, Any]:
    """P6 as bench/run.py measures it (issue 25): two `careers serve` servers side by side,
    `clients` tricklers on one of them, and one client timing pages (a fresh connection each,
    alternating /en/jobs and /healthz) on both in turn, request by request (ABBA), so that
    whatever else the machine does falls on the idle and the loaded server alike. `rounds`
    rounds of `samples` requests per server; each round's ratio of the loaded server's p99 to
    the idle one's, a timeout counted as `timeout` seconds and as a failure."""
    idle_proc, idle = start("serve", fresh_data(env))
    procs = [idle_proc]
    done = threading.Event()
    threads: list[threading.Thread] = []
    # Fresh connections, as browsers often open them, from one client: no TLS context built
    # per request (httpx.get's), which costs the client more than the request.
    http = httpx.Client(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0))
    try:
        busy_proc, busy = start("serve", fresh_data(env))
        procs.append(busy_proc)
        paths = ["/en/jobs", "/healthz"]
        for base in (idle, busy):
            for _ in range(20):  # warm
                for path in paths:
                    http.get(f"{base}{path}")
        body, content_type = form_body(busy, 200_000)
        answers: Counter[str] = Counter()
        threads = [
            threading.Thread(
                target=trickle,
                args=(busy, body, content_type, float("inf"), answers, f"198.51.100.{i + 1}"),
                kwargs={"done": done},
            )
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(3)  # let every trickler hold its connection
        taken: dict[str, list[list[float]]] = {"idle": [], "loaded": []}
        failures = 0
        for _ in range(rounds):
            got: dict[str, list[float]] = {"idle": [], "loaded": []}
            for i in range(samples):
                path = paths[i % 2]
                for side in ("idle", "loaded") if i % 4 < 2 else ("loaded", "idle"):
                    base = idle if side == "idle" else busy
                    started = time.perf_counter()
                    try:
                        ok = http.get(f"{base}{path}").status_code == 200
                    except httpx.TransportError:
                        ok = False
                    got[side].append(time.perf_counter() - started if ok else timeout)
                    failures += not ok
            for side, values in got.items():
                taken[side].append(values)
    finally:
        http.close()
        done.set()
        for thread in threads:
            thread.join()
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
    ratios, idle_p99, loaded_p99 = p99_ratios(taken["idle"], taken["loaded"])
    return {
        "rounds": ratios,
        "idle_p99": idle_p99,
        "loaded_p99": loaded_p99,
        "failures": failures,
        "answers": dict(answers),
        "requests": sum(len(r) for r in taken["idle"]),
    }


def send_at(
    base: str, body: bytes, content_type: str, client: str, bits_per_second: int
) -> tuple[int, float]:
    """One candidate's post at a fixed uplink rate; (status, seconds). A server that answers
    before the end of the body (503, 408) ends the upload there, as a browser's does."""
    host, port = base.removeprefix("http://").split(":")
    per_tick = bits_per_second // 8 // 10
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        try:
            sock.sendall(head(base, body, content_type, client))
            for offset in range(0, len(body), per_tick):
                sock.sendall(body[offset : offset + per_tick])
                lag = started + (offset + per_tick) / (bits_per_second / 8) - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
                    if select.select([sock], [], [], 0)[0]:
                        break  # answered already
        except OSError:
            pass  # the server stopped reading: its answer is waiting
        reply = sock.recv(64)
    status = int(reply.split(b" ")[1]) if reply.startswith(b"HTTP/") else 0
    return status, time.monotonic() - started


def candidate(env: dict[str, str], size: int, bits_per_second: int) -> tuple[int, float]:
    """One candidate's CV at a fixed uplink rate to `careers serve`; (status, seconds)."""
    proc, base = start("serve", fresh_data(env))
    try:
        body, content_type = form_body(base, size)
        return send_at(base, body, content_type, "203.0.113.7", bits_per_second)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def fair(kind: str, env: dict[str, str], clients: int, rate: int, tries: int) -> dict:
    """The fair-slots scenario (see the module doc) against one server."""
    proc, base = start(kind, fresh_data(env))
    paths = ["/en/jobs", "/healthz"]
    done = threading.Event()
    try:
        measure(base, paths, 5)  # warm
        idle, _ = measure(base, paths, 30)
        body, content_type = form_body(base, 2_000_000)
        answers: Counter = Counter()
        tricklers = [
            threading.Thread(
                target=trickle,
                args=(base, body, content_type, time.monotonic() + 3600, answers),
                kwargs={"client": f"198.51.100.{i + 1}", "rate": rate, "done": done},
            )
            for i in range(clients)
        ]
        for thread in tricklers:
            thread.start()
        time.sleep(20)  # every slot held, and each trickle read long enough to be judged
        outcomes: Counter = Counter()
        seconds: list[float] = []

        def apply(first: int) -> None:
            for n in range(first, tries, 3):
                cv, cv_type = form_body(base, 2_000_000)  # a fresh form each time
                status, took = send_at(base, cv, cv_type, f"203.0.113.{n + 1}", 1_000_000)
                outcomes[status] += 1
                if status == 303:
                    seconds.append(took)

        candidates = [threading.Thread(target=apply, args=(first,)) for first in range(3)]
        for thread in candidates:
            thread.start()
        loaded: list[float] = []
        failures = 0
        while any(thread.is_alive() for thread in candidates):
            latencies, failed = measure(base, paths, 5)
            loaded += latencies
            failures += failed
        for thread in candidates:
            thread.join()
        return {
            "kind": kind,
            "accepted": outcomes[303],
            "outcomes": dict(outcomes),
            "seconds": statistics.median(seconds) if seconds else 0.0,
            "idle_p99": p99(idle),
            "loaded_p99": p99(loaded),
            "failures": failures,
            "answers": dict(answers),
        }
    finally:
        done.set()
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_slow_clients",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=50, help="trickling connections")
    parser.add_argument("--seconds", type=float, default=40.0, help="how long they trickle")
    parser.add_argument("--rounds", type=int, default=100, help="page + healthz requests each")
    parser.add_argument("--quick", action="store_true", help="skip the 20 MB candidate")
    parser.add_argument(
        "--scenario", choices=("trickle", "fair", "all"), default="all", help="which to run"
    )
    parser.add_argument("--rate", type=int, default=6000, help="fair: attackers' B/s")
    parser.add_argument("--tries", type=int, default=18, help="fair: candidates' tries")
    args = parser.parse_args()
    with SandboxServer() as sandbox, __import__("tempfile").TemporaryDirectory() as data:
        env = sandbox_env(sandbox.url, data)
        if args.scenario in ("fair", "all"):
            print_fair(env, args.clients, args.rate, args.tries)
        if args.scenario == "fair":
            return
        print(
            f"{os.cpu_count()} cores; {args.clients} connections at 100 B/s for {args.seconds:.0f} s"
        )
        print(
            f"{'server':<14} {'idle p99':>9} {'loaded p99':>11} {'ratio':>6} {'timeouts':>9}  trickler answers"
        )
        for kind in ("before", "serve"):
            r = run(kind, env, args.clients, args.seconds, args.rounds)
            print(
                f"{'careers serve' if kind == 'serve' else 'before':<14} {r['idle_p99'] * 1000:>7.1f}ms "
                f"{r['loaded_p99'] * 1000:>9.1f}ms {r['loaded_p99'] / r['idle_p99']:>5.1f}x "
                f"{r['failures']:>9}  {r['answers']}"
            )
        if not args.quick:
            # Just under Personio's 20 MB a file, with the PDF's own overhead.
            status, seconds = candidate(env, 19_900_000, 1_000_000)
            print(f"candidate: a 19.9 MB CV at 1 Mbit/s -> {status} after {seconds:.0f} s")


def print_fair(env: dict[str, str], clients: int, rate: int, tries: int) -> None:
    print(
        f"{os.cpu_count()} cores; {clients} attackers from {clients} addresses at {rate} B/s;"
        f" {tries} candidates, 2 MB at 1 Mbit/s"
    )
    print(
        f"{'server':<14} {'accepted':>9} {'median':>7} {'idle p99':>9} {'loaded p99':>11}"
        f" {'timeouts':>9}  candidates' answers; attackers' answers"
    )
    for kind in ("first come", "serve"):
        r = fair(kind, env, clients, rate, tries)
        print(
            f"{'careers serve' if kind == 'serve' else kind:<14} {r['accepted']:>3} of {tries:<3}"
            f" {r['seconds']:>6.1f}s {r['idle_p99'] * 1000:>7.1f}ms {r['loaded_p99'] * 1000:>9.1f}ms"
            f" {r['failures']:>9}  {r['outcomes']}; {r['answers']}"
        )


if __name__ == "__main__":
    main()
