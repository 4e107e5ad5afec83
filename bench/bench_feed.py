"""Figure 3 of the job benchmarks on its own: `python -m bench.bench_feed`, not in CI.

Parse + sanitise a generated feed (5,000 positions by default) against a bare lxml parse of
the same bytes with the same hardened parser, in alternating rounds; the ratio is the median
of the per-round ratios of CPU time (target <= 3x), with wall time beside it. CPU time (of
the whole process, every thread counted) is what the parse costs whatever else runs on the
machine; wall time on a shared machine also counts the waits for a core. Also: a refresh after 1 % of the jobs changed their
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

from bench.measure import rounds_line, spread
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


def timed(fn) -> tuple[float, float]:
    """(CPU seconds of this process, every thread; wall seconds) that `fn` took."""
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


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
        cpu, wall = timed(refresh)
        warm.append((cpu / 2, wall / 2))
    ratios = [c[0] / b[0] for c, b in zip(cold, bare, strict=True)]
    wall_ratios = [c[1] / b[1] for c, b in zip(cold, bare, strict=True)]
    warm_ratios = [w[0] / b[0] for w, b in zip(warm, bare, strict=True)]
    with tempfile.NamedTemporaryFile(suffix=".xml") as tmp:
        tmp.write(data)
        tmp.flush()
        bare_peak = peak_kib(tmp.name, "etree.fromstring(data, _parser())")
        full_peak = peak_kib(tmp.name, "parse_feed(data)")
    ms = lambda values, i: statistics.median(v[i] for v in values) * 1000  # noqa: E731
    print(
        f"[3] {n:,}-position feed ({len(data) / 1e6:.1f} MB), median of {rounds} alternating "
        f"rounds, CPU time: bare lxml parse {ms(bare, 0):.0f} ms (peak +{bare_peak / 1024:.0f} "
        f"MB); parse + sanitise {ms(cold, 0):.0f} ms (peak +{full_peak / 1024:.0f} MB); ratio "
        f"{spread(ratios)} (target <= 3x); wall time {ms(bare, 1):.0f} vs. {ms(cold, 1):.0f} "
        f"ms, ratio {spread(wall_ratios)}; refresh with 1 % of jobs edited "
        f"{ms(warm, 0):.0f} ms CPU, ratio {spread(warm_ratios)}"
    )
    print(rounds_line("P4.cpu", ratios))
    print(rounds_line("P4.wall", wall_ratios))
    print(rounds_line("P4.refresh", warm_ratios))
    print(f"#peak P4 {bare_peak / 1024:.1f} {full_peak / 1024:.1f}")


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
