"""Figure 3 of the job benchmarks on its own: `python -m bench.bench_feed`, not in CI.

Parse + sanitise a generated feed (5,000 positions by default) against a bare lxml parse of
the same bytes with the same hardened parser, in alternating rounds; the ratio is the median
of the per-round ratios (target <= 3x). Also: a refresh after 1 % of the jobs changed their
texts (the fragment cache warm), and peak memory of each as VmHWM growth of a fresh process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from lxml import etree

from careers.personio.feed import FragmentCache, parse_feed
from careers.safexml import hardened_parser
from careers.sandbox.feedxml import render_feed
from careers.sandbox.synthetic import synthetic_positions

ROOT = Path(__file__).resolve().parents[1]

# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) parent across exec.
_PEAK = """
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
    """Peak RSS growth of one parse in a fresh process (libxml2's memory included); run from
    the repository root, so it imports the careers beside this file, as its parent does."""
    code = _PEAK.format(path=path, call=call)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def edited_copy(positions: list) -> bytes:
    """The same board with the texts of every 100th job changed."""
    return render_feed(
        replace(
            p,
            descriptions=tuple(
                replace(d, html=d.html + f"<p>edit {i}</p>") for d in p.descriptions
            ),
        )
        if i % 100 == 0
        else p
        for i, p in enumerate(positions)
    )


def bench_parse(n: int, rounds: int) -> None:
    positions = synthetic_positions(n)
    data = render_feed(positions)
    changed = edited_copy(positions)
    cache = FragmentCache()
    parse_feed(data, cache)

    def refresh() -> None:
        parse_feed(changed, cache)
        parse_feed(data, cache)

    bare, cold, warm = [], [], []
    for _ in range(rounds):  # alternate, so a noisy neighbour hits both sides alike
        bare.append(timed(lambda: etree.fromstring(data, hardened_parser())))
        cold.append(timed(lambda: parse_feed(data)))  # a new cache every time
        warm.append(timed(refresh) / 2)
    ratios = [c / b for c, b in zip(cold, bare, strict=True)]
    cold_ratio = statistics.median(ratios)
    warm_ratio = statistics.median(w / b for w, b in zip(warm, bare, strict=True))
    with tempfile.NamedTemporaryFile(suffix=".xml") as tmp:
        tmp.write(data)
        tmp.flush()
        bare_peak = peak_kib(tmp.name, "etree.fromstring(data, _parser())")
        full_peak = peak_kib(tmp.name, "parse_feed(data)")
    ms = lambda values: statistics.median(values) * 1000  # noqa: E731
    print(
        f"[3] {n:,}-position feed ({len(data) / 1e6:.1f} MB), median of {rounds} alternating "
        f"rounds: bare lxml parse {ms(bare):.0f} ms (peak +{bare_peak / 1024:.0f} MB); "
        f"parse + sanitise {ms(cold):.0f} ms (peak +{full_peak / 1024:.0f} MB); ratio "
        f"{cold_ratio:.2f}x (target <= 3x; rounds {min(ratios):.2f}"
        f"-{max(ratios):.2f}x); refresh with 1 % of jobs edited "
        f"{ms(warm):.0f} ms, ratio {warm_ratio:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_feed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--positions", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    bench_parse(args.positions, args.rounds)


if __name__ == "__main__":
    main()
