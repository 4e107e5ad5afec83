"""Every performance goal of docs/benchmarks.md in one run and one table (issue 13).

    .venv/bin/python -m bench.run [--quick] [--only P1,P3] [--postgres URL]

Each figure is a ratio against a baseline measured in the same run on the same machine,
under the same server configuration as `careers serve` (gunicorn gthread with
`careers.cli.serve.gunicorn_options`): the best the server stack can do, a bare WSGI app,
not another route of ours. Figures are medians of alternating rounds, printed with the
lowest and highest round (P2 and P8: rounds of thousands of requests, one client sending them
to the two servers compared in turn); a target is "met" or "missed" only when the rounds
spread no wider than the margin to it, "inconclusive" otherwise (bench/measure.py `verdict`).
Servers run on the first core and the load generators on the others (--no-pin to share
them), and the server CPU time per request is printed beside each rate. The machine and its
load are described before and after, so a table is never read without them. `--repeat 2`
measures the figures twice, one after the other, and says for each whether the two runs
agree within ±10 % (issue 25's test of a figure that reproduces).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import measure
from bench.measure import parse_rounds, spread

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    figure: str
    what: str
    result: str
    target: str
    met: str  # met, missed or inconclusive (measure.verdict)
    value: float  # the figure itself, the number two runs must agree on (--repeat)


def judged(rounds: list[float], target: float, at_least: bool) -> str:
    return measure.verdict(rounds, target, at_least=at_least)


def single(ok: bool) -> str:
    """A figure of one measurement (no rounds to spread): met or missed as measured."""
    return measure.MET if ok else measure.MISSED


def machine() -> list[str]:
    """What the figures were measured on."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    import gunicorn

    from careers.applications.rules import SERVE_THREADS

    tools = "wrk" if shutil.which("wrk") else "Python httpx clients (wrk not installed)"
    return [
        f"machine: {cpu}, {os.cpu_count()} cores{memory}",
        f"system: {platform.platform()}; Python {platform.python_version()}",
        f"server: gunicorn {gunicorn.__version__} gthread, 2 workers x {SERVE_THREADS}"
        " threads (careers serve's options), access log on",
        f"load generator: {tools}, on the same machine",
        f"PostgreSQL: {_postgres_version()}",
    ]


def _postgres_version() -> str:
    try:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "not reachable"
    return out.stdout.strip() or "not reachable"


def _print_markdown(header: Sequence[str], lines: Iterable[Sequence[str]]) -> None:
    """A Markdown table, its columns padded to their widest cell."""
    table = [header, *lines]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for i, line in enumerate(table):
        print("| " + " | ".join(cell.ljust(widths[j]) for j, cell in enumerate(line)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def print_table(rows: list[Row]) -> None:
    _print_markdown(
        ("#", "what", "result", "target", "met"),
        (
            (r.figure, r.what, r.result, r.target, r.met.upper() if r.met == "missed" else r.met)
            for r in rows
        ),
    )


Measure = Callable[[argparse.Namespace], list[Row]]
FIGURES: dict[str, Measure] = {}


def figure(name: str) -> Callable[[Measure], Measure]:
    def register(fn: Measure) -> Measure:
        FIGURES[name] = fn
        return fn

    return register


def _script(args: list[str]) -> str:
    """Run one of the bench modules (`python -m bench.NAME ARGS` from the repository root),
    echo what it prints, and return it."""
    out = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    print(out.stdout, end="", flush=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return out.stdout


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"no {pattern!r} in:\n{text}")
    return float(found[1])


@figure("P1")
def warm_list(args: argparse.Namespace) -> list[Row]:
    rounds, seconds = ("5", "2") if args.quick else ("9", "3")
    text = _script(["bench.bench_jobs", "--only", "1", "--rounds", rounds, "--seconds", seconds])
    rate, cpu = parse_rounds(text, "P1.rate"), parse_rounds(text, "P1.cpu")
    return [
        Row(
            "P1",
            "warm list page vs. a bare WSGI app with the same bytes (req/s)",
            f"{spread(rate)}; server CPU per request, bare / careers {spread(cpu)}",
            ">= 0.8x",
            judged(rate, 0.8, at_least=True),
            statistics.median(rate),
        )
    ]


@figure("P2")
def hanging_feed(args: argparse.Namespace) -> list[Row]:
    rounds, samples = ("3", "1000") if args.quick else ("7", "3000")
    command = ["bench.bench_jobs", "--only", "2", "--samples", samples]
    text = _script([*command, "--latency-rounds", rounds])
    ratios = parse_rounds(text, "P2")
    return [
        Row(
            "P2",
            f"list p99 while the feed hangs vs. normal: one client interleaving two servers,"
            f" {rounds} rounds of {samples} requests per side",
            spread(ratios),
            "<= 1.2x",
            judged(ratios, 1.2, at_least=False),
            statistics.median(ratios),
        )
    ]


@figure("P3")
def accepting(args: argparse.Namespace) -> list[Row]:
    command = ["bench.bench_applications", "--skip", "3", "--postgres", _fresh_db(args)]
    if args.quick:
        command.append("--quick")
    text = _script(command)
    rows = []
    for store, key in (("SQLite", "sqlite"), ("PostgreSQL", "pg")):
        rate, cpu = parse_rounds(text, f"P3.{key}.rate"), parse_rounds(text, f"P3.{key}.cpu")
        target = 0.5 if key == "sqlite" else 0.35  # issue 25: 0.35x on PostgreSQL
        rows.append(
            Row(
                "P3",
                f"accepting 2 MB applications vs. raw POSTs to a bare WSGI sink, {store}",
                f"{spread(rate)}; server CPU per request, sink / careers"
                f"{' + database' if key == 'pg' else ''} {spread(cpu)}",
                f">= {target}x",
                judged(rate, target, at_least=True),
                statistics.median(rate),
            )
        )
    if "peak - idle" in text:
        rise = _number(r"peak - idle ([\d.]+) MiB", text)
        rows.append(
            Row(
                "P3m",
                "peak RSS rise while accepting a 64 MB application",
                f"+{rise:.1f} MiB",
                "<= 32 MB",
                single(rise * 1.048576 <= 32),
                rise,
            )
        )
    return rows


def _fresh_db(args: argparse.Namespace) -> str:
    """A throwaway database for P3 (bench_applications empties its public schema), dropped
    when the run ends."""
    from bench.server import fresh_database

    stack = contextlib.ExitStack()
    url = stack.enter_context(fresh_database(args.postgres))
    _CLEANUP.append(stack.close)
    return url


_CLEANUP: list[Callable[[], None]] = []


@figure("P4")
def feed_parse(args: argparse.Namespace) -> list[Row]:
    rounds = "5" if args.quick else "7"
    text = _script(["bench.bench_feed", "--rounds", rounds])
    cpu, wall = parse_rounds(text, "P4.cpu"), parse_rounds(text, "P4.wall")
    refresh = parse_rounds(text, "P4.refresh")
    bare_peak = _number(r"#peak P4 ([\d.]+)", text)
    full_peak = _number(r"#peak P4 [\d.]+ ([\d.]+)", text)
    return [
        Row(
            "P4",
            "parse + sanitise a 5,000-position feed vs. a bare lxml parse, CPU time"
            " (off the request path)",
            f"{spread(cpu)}; wall time {spread(wall)}; peak +{full_peak:.0f} MB vs. "
            f"+{bare_peak:.0f} MB; refresh with 1 % edited {spread(refresh)}",
            "<= 3x",
            judged(cpu, 3.0, at_least=False),
            statistics.median(cpu),
        )
    ]


@figure("P5")
def backlog(args: argparse.Namespace) -> list[Row]:
    from bench import bench_hosts

    found = bench_hosts.run(quick=args.quick)
    sustained = float(found["sustained"])
    refused = int(found["refused_429"])
    return [
        Row(
            "P5",
            "backlog delivery, three hosts on one PostgreSQL: share of Personio's budget",
            f"{sustained:.1%} sustained, {refused} x 429, busiest window "
            f"{found['busiest_window']}, exactly once: {found['exactly_once']}",
            ">= 95 %, no 429",
            single(sustained >= 0.95 and refused == 0),
            sustained,
        )
    ]


@figure("P6")
def slow_clients(args: argparse.Namespace) -> list[Row]:
    import tempfile

    from bench import bench_slow_clients as slow
    from careers.sandbox.server import SandboxServer

    rounds, samples = (3, 500) if args.quick else (5, 2000)
    with SandboxServer() as sandbox, tempfile.TemporaryDirectory() as data:
        found = slow.run_paired(slow.sandbox_env(sandbox.url, data), 50, samples, rounds)
    ratios = found["rounds"]
    print(
        f"[P6] page p99 (fresh connections), one client interleaving an idle server and one"
        f" with 50 trickling uploads, {rounds} rounds of {samples} requests each: by round"
        f" {spread(ratios)}; of all {found['requests']:,} pooled {found['idle_p99'] * 1000:.1f}"
        f" -> {found['loaded_p99'] * 1000:.1f} ms; {found['failures']} timeouts; the tricklers"
        f" were answered {found['answers']}",
        flush=True,
    )
    print(measure.rounds_line("P6", ratios), flush=True)
    return [
        Row(
            "P6",
            f"page p99 with 50 uploads trickling at 100 B/s vs. idle: one client interleaving"
            f" two servers, {rounds} rounds of {samples} requests each",
            f"{spread(ratios)} ({found['idle_p99'] * 1000:.1f} -> "
            f"{found['loaded_p99'] * 1000:.1f} ms pooled, {found['failures']} timeouts)",
            "<= 2x, no timeouts",
            judged(ratios, 2.0, at_least=False) if found["failures"] == 0 else measure.MISSED,
            statistics.median(ratios),
        )
    ]


@figure("P7")
def connections(args: argparse.Namespace) -> list[Row]:
    from bench import bench_connections as conns

    rounds, n = (1, 20) if args.quick else (3, 30)
    rows = conns.run_all(["front"], rounds, n)
    idle = rows[0]
    return [
        Row(
            "P7",
            f"page max latency, {r['load']} (no proxy), vs. idle (the slowest of"
            f" {r['requests']} requests: a bound, it does not reproduce within ±10 %)",
            f"{r['max'] * 1000:.0f} ms (p99 {r['p99'] * 1000:.0f} vs. idle "
            f"{idle['p99'] * 1000:.0f} ms; rounds {conns.ms(r['rounds'][0])}-"
            f"{conns.ms(r['rounds'][1])}), {r['misses']} misses",
            "< 2 s",
            single(r["max"] < 2.0 and r["misses"] == 0),
            r["max"],
        )
        for r in rows[1:]
    ]


@figure("P8")
def funnel_cost(args: argparse.Namespace) -> list[Row]:
    rounds, samples = ("3", "1000") if args.quick else ("9", "2000")
    command = ["bench.bench_funnel", "--rounds", rounds, "--samples", samples, "--clients", "1"]
    text = _script(command)
    ratios = parse_rounds(text, "P8")
    stored = re.search(r"^#stored P8 (\d+) (\d+)$", text, re.MULTILINE)
    if stored is None:
        raise RuntimeError(f"no stored views in:\n{text}")
    counted = stored[1] == stored[2]
    return [
        Row(
            "P8",
            f"job page p99 with the funnel counting vs. without: one client interleaving two"
            f" servers, {rounds} rounds of {samples} requests per side",
            f"{spread(ratios)}; {stored[1]} of {stored[2]} views stored",
            "<= 1.1x, every view stored",
            judged(ratios, 1.1, at_least=False) if counted else measure.MISSED,
            statistics.median(ratios),
        )
    ]


def compare(runs: list[list[Row]]) -> list[tuple[Row, list[float], bool]]:
    """Each figure of the last run, with its value in every run and whether those values
    agree within ±10 % of each other (measure.agree): the issue's test of a reproducible
    figure. The runs measured the same figures in the same order."""
    if len(runs) < 2:
        raise ValueError("comparing needs at least two runs")
    if len({len(run) for run in runs}) != 1:
        raise ValueError("the runs did not measure the same figures")
    out = []
    for i, row in enumerate(runs[-1]):
        same = [run[i] for run in runs]
        if {(r.figure, r.what) for r in same} != {(row.figure, row.what)}:
            raise ValueError(f"the runs did not measure the same figures (at {row.figure})")
        values = [r.value for r in same]
        out.append((row, values, measure.agree(values)))
    return out


def print_agreement(runs: list[list[Row]]) -> None:
    print(f"\nThe same figures, run {len(runs)} times one after the other (issue 25):")
    _print_markdown(
        ("#", "what", *(f"run {i + 1}" for i in range(len(runs))), "within ±10 %"),
        (
            (row.figure, row.what, *(f"{v:.3g}" for v in values), "yes" if ok else "NO")
            for row, values, ok in compare(runs)
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller runs")
    parser.add_argument("--only", default="", help="comma list of figures, e.g. P1,P3")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the figures this many times, one after the other, and say whether each"
        " figure's values agree within ±10 %% (issue 25's test)",
    )
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL to create throwaway databases on (P3, P5)",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin servers and load generators to separate cores",
    )
    args = parser.parse_args()
    wanted = [f.strip().upper() for f in args.only.split(",") if f.strip()] or list(FIGURES)
    unknown = [name for name in wanted if name not in FIGURES]
    if unknown or args.repeat < 1:
        parser.error(
            f"unknown figures {', '.join(unknown)}; there are {', '.join(FIGURES)}"
            if unknown
            else "--repeat takes 1 or more"
        )
    pin = None if args.no_pin else measure.default_plan()
    if pin is not None:
        os.environ["BENCH_PIN"] = pin  # read by every bench module this run starts
    for line in machine():
        print(line)
    print(f"pinning: {measure.describe_pinning()}")
    loads = [f"load before: {measure.load()}"]
    print(loads[0])
    print(flush=True)
    runs: list[list[Row]] = []
    started = time.monotonic()
    try:
        for i in range(args.repeat):
            if args.repeat > 1:
                print(f"== run {i + 1} of {args.repeat}", flush=True)
            rows: list[Row] = []
            for name in wanted:
                print(f"-- {name}", flush=True)
                rows += FIGURES[name](args)
            runs.append(rows)
            if i + 1 < args.repeat:
                loads.append(f"load after run {i + 1}: {measure.load()}")
                print(loads[-1], flush=True)
    finally:
        for cleanup in _CLEANUP:
            cleanup()
    loads.append(f"load after:  {measure.load()}")
    print()
    for line in loads:
        print(line)
    print_table(runs[-1])
    if len(runs) > 1:
        print_agreement(runs)
    print(f"\n{len(runs[-1])} figures x {len(runs)} runs in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
