"""Job-browsing benchmarks: run by hand (`python bench/bench_jobs.py`), not in CI.

Prints three ratios, each against a baseline measured in the same run on the same machine:
1. warm list page requests/s vs. a static file of the same bytes through the same server
   (gunicorn, gthread) — target >= 0.5x;
2. list p99 latency while the feed upstream hangs vs. normal — target <= 1.2x;
3. parse + sanitise of a generated 5,000-position feed vs. a bare lxml parse of the same
   bytes — target <= 3x — with peak memory of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import start_gunicorn  # noqa: E402
from careers.personio.feed import FragmentCache, parse_feed  # noqa: E402
from careers.safexml import hardened_parser  # noqa: E402
from careers.sandbox.feedxml import render_feed  # noqa: E402
from careers.sandbox.sample_data import synthetic_positions  # noqa: E402
from careers.sandbox.server import SandboxServer  # noqa: E402


def throughput(url: str, seconds: float, clients: int = 4) -> float:
    """Requests per second from `clients` keep-alive connections for `seconds`."""
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        with httpx.Client(timeout=10) as client:
            while time.monotonic() < stop:
                response = client.get(url)
                assert response.status_code == 200, response.status_code
                counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def latencies(url: str, n: int) -> list[float]:
    out = []
    with httpx.Client(timeout=30) as client:
        for _ in range(n):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            out.append(time.perf_counter() - started)
    return out


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def bench_pages(seconds: float, samples: int, rounds: int = 5) -> None:
    with SandboxServer() as sandbox, tempfile.TemporaryDirectory() as tmp:
        static_copy = Path(tmp) / "list.html"
        static_copy.write_text("warming")
        proc, base = start_gunicorn(
            {
                "CAREERS_PERSONIO_FEED_URL": f"{sandbox.url}/xml",
                "CAREERS_SECRET_KEY": "bench-secret-0123456789",
                "CAREERS_DATA_DIR": tmp,
                "CAREERS_FEED_TTL": "1",
                "BENCH_STATIC_COPY": str(static_copy),
            }
        )
        try:
            page = httpx.get(f"{base}/en/jobs", timeout=30)
            static_copy.write_bytes(page.content)
            for url in (f"{base}/en/jobs", f"{base}/bench-static"):
                throughput(url, 1.0)  # warm-up
            dynamic = throughput(f"{base}/en/jobs", seconds)
            static = throughput(f"{base}/bench-static", seconds)
            print(
                f"[1] list page: {dynamic:,.0f} req/s; static file of the same {len(page.content):,} "
                f"bytes: {static:,.0f} req/s; ratio {dynamic / static:.2f}x (target >= 0.5x)"
            )

            # Alternate the two conditions in rounds and take the median of each side's p99:
            # a single p99 of millisecond requests on a shared machine swings by half.
            normal_p99, hanging_p99, normal_p50, hanging_p50 = [], [], [], []
            for _ in range(rounds):
                sandbox.sandbox.release()
                sandbox.sandbox.clear_faults()
                sandbox.sandbox.rearm()
                time.sleep(1.1)  # let the copy go stale so every request would like a refresh
                normal = latencies(f"{base}/en/jobs", samples)
                sandbox.sandbox.inject(kind="hang", delay=120)
                time.sleep(1.1)
                hanging = latencies(f"{base}/en/jobs", samples)
                normal_p99.append(p99(normal))
                hanging_p99.append(p99(hanging))
                normal_p50.append(statistics.median(normal))
                hanging_p50.append(statistics.median(hanging))
            sandbox.sandbox.release()
            sandbox.sandbox.clear_faults()
            n99, h99 = statistics.median(normal_p99), statistics.median(hanging_p99)
            print(
                f"[2] list latency p50/p99 (median of {rounds} rounds of {samples}): normal "
                f"{statistics.median(normal_p50) * 1000:.1f}/{n99 * 1000:.1f} ms; upstream hanging "
                f"{statistics.median(hanging_p50) * 1000:.1f}/{h99 * 1000:.1f} ms; "
                f"p99 ratio {h99 / n99:.2f}x (target <= 1.2x)"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def best_time(fn, repeat: int) -> float:
    """Best wall time of `repeat` runs (the least disturbed by the machine's noise)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) parent across exec.
_PEAK = """
import sys
sys.path.insert(0, {root!r})
from lxml import etree
from careers.personio.feed import parse_feed
from careers.safexml import hardened_parser as _parser
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
data = open({path!r}, "rb").read()
before = hwm()
result = {call}
print(hwm() - before)
"""


def peak_kib(path: str, call: str) -> int:
    """Peak RSS growth of one parse in a fresh process (libxml2's memory included)."""
    code = _PEAK.format(root=str(ROOT), path=path, call=call)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def bench_parse(n: int, repeat: int) -> None:
    positions = synthetic_positions(n)
    data = render_feed(positions)
    bare = best_time(lambda: etree.fromstring(data, hardened_parser()), repeat)
    cold = best_time(lambda: parse_feed(data), repeat)  # a new cache every time
    # A refresh after 1 % of the jobs changed their texts: the fragment cache is warm.
    edited = [
        replace(
            p,
            descriptions=tuple(
                replace(d, html=d.html + f"<p>edit {i}</p>") for d in p.descriptions
            ),
        )
        if i % 100 == 0
        else p
        for i, p in enumerate(positions)
    ]
    changed = render_feed(edited)
    cache = FragmentCache()
    parse_feed(data, cache)

    def refresh() -> None:
        parse_feed(changed, cache)
        parse_feed(data, cache)

    warm = best_time(refresh, repeat) / 2
    with tempfile.NamedTemporaryFile(suffix=".xml") as tmp:
        tmp.write(data)
        tmp.flush()
        bare_peak = peak_kib(tmp.name, "etree.fromstring(data, _parser())")
        full_peak = peak_kib(tmp.name, "parse_feed(data)")
    print(
        f"[3] {n:,}-position feed ({len(data) / 1e6:.1f} MB): bare lxml parse {bare * 1000:.0f} ms "
        f"(peak +{bare_peak / 1024:.0f} MB); parse + sanitise {cold * 1000:.0f} ms "
        f"(peak +{full_peak / 1024:.0f} MB); ratio {cold / bare:.2f}x (target <= 3x); "
        f"refresh with 1 % of jobs edited {warm * 1000:.0f} ms, ratio {warm / bare:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput run")
    parser.add_argument("--samples", type=int, default=300, help="requests per latency run")
    parser.add_argument("--positions", type=int, default=5000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    bench_pages(args.seconds, args.samples)
    bench_parse(args.positions, repeat=3)


if __name__ == "__main__":
    main()
