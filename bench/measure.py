"""What every benchmark shares since issue 25: the rule that says whether a target is met,
figures as median with the min–max of their rounds, pinning servers and load generators to
separate cores, CPU time of a process tree, and the machine's load around a run.

`verdict` and `spread` are pure functions (tests/test_bench_verdict.py); the rest reads
/proc and is Linux only, as the benchmarks are.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

MET, MISSED, INCONCLUSIVE = "met", "missed", "inconclusive"


def verdict(rounds: Sequence[float], target: float, *, at_least: bool) -> str:
    """ "met" or "missed" by the median of the rounds, or "inconclusive" when the rounds
    spread wider than the margin between their median and the target: another run could
    then land on the other side, and the figure is not a result yet.

    `at_least`: the target is a floor (ratio >= target), otherwise a ceiling (<= target).
    """
    if not rounds:
        raise ValueError("no rounds to judge")
    median = statistics.median(rounds)
    if max(rounds) - min(rounds) > abs(median - target):
        return INCONCLUSIVE
    return MET if (median >= target if at_least else median <= target) else MISSED


def spread(rounds: Sequence[float], unit: str = "x", digits: int = 2) -> str:
    """ "0.97x (0.91–1.02x)": the median, then the lowest and highest round."""
    if not rounds:
        raise ValueError("no rounds")
    f = f"{{:.{digits}f}}"
    median, low, high = (f.format(v) for v in (statistics.median(rounds), min(rounds), max(rounds)))
    return f"{median}{unit} ({low}–{high}{unit})"


def p99(values: Sequence[float]) -> float:
    """The 99th percentile (statistics.quantiles' default, exclusive method)."""
    if len(values) < 100:
        raise ValueError(f"a p99 of {len(values)} values is one of the slowest few, not a p99")
    return statistics.quantiles(values, n=100)[98]


def p99_ratios(
    base: Sequence[Sequence[float]], other: Sequence[Sequence[float]]
) -> tuple[list[float], float, float]:
    """Two sides' latencies, round by round (P2, P6, P8): each round's ratio of the p99s,
    other / base, and the p99 of each side's requests pooled."""
    ratios = [p99(o) / p99(b) for b, o in zip(base, other, strict=True)]
    return ratios, p99([v for r in base for v in r]), p99([v for r in other for v in r])


TOLERANCE = 0.10  # issue 25: two runs one after the other agree within ±10 %


def agree(values: Sequence[float], tolerance: float = TOLERANCE) -> bool:
    """Whether the figures of several runs agree within ±`tolerance` of each other: the
    largest is at most (1 + tolerance) times the smallest, so each lies within the tolerance
    of every other (measured from the smaller). Figures are positive (ratios, shares, sizes,
    seconds); two zeros agree.
    """
    if len(values) < 2:
        raise ValueError("agreement needs at least two runs")
    if any(v < 0 for v in values):
        raise ValueError(f"figures are not negative: {list(values)}")
    low, high = min(values), max(values)
    if high == 0:
        return True
    return high <= low * (1 + tolerance)


def rounds_line(name: str, values: Sequence[float]) -> str:
    """One machine-readable line a bench module prints for bench/run.py to judge."""
    return f"#rounds {name} " + " ".join(f"{v:.6g}" for v in values)


def parse_rounds(text: str, name: str) -> list[float]:
    """The values of the `#rounds NAME …` line in a bench module's output."""
    found = re.search(rf"^#rounds {re.escape(name)} (.+)$", text, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no rounds of {name!r} in:\n{text}")
    return [float(v) for v in found[1].split()]


# -- pinning ---------------------------------------------------------------------------------

# bench/run.py sets BENCH_PIN=server:client (e.g. "0:1"); each bench module then pins the
# servers it starts to the first set of cores and itself (the load generator, wrk included as
# its child) to the second. Unset, nothing is pinned.
_PIN = "BENCH_PIN"


def plan() -> tuple[set[int], set[int]] | None:
    """(server cores, client cores) when pinning was asked for and there are two cores."""
    value = os.environ.get(_PIN, "")
    if not value:
        return None
    server, client = value.split(":")
    return {int(c) for c in server.split(",")}, {int(c) for c in client.split(",")}


def default_plan() -> str | None:
    """BENCH_PIN for this machine: the server on the first core this process may use, the
    load generator on the others; None on one core."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    return f"{cores[0]}:{','.join(map(str, cores[1:]))}"


def pin_client() -> None:
    """Pin this process (and the children it starts from now on) to the client cores."""
    cores = plan()
    if cores is not None:
        os.sched_setaffinity(0, cores[1])


def pin_server() -> None:
    """For `preexec_fn`: a server process (and the workers it forks) on the server cores."""
    cores = plan()
    if cores is not None:
        os.sched_setaffinity(0, cores[0])


def describe_pinning() -> str:
    cores = plan()
    if cores is None:
        return "not pinned (server and load generator share every core)"
    server, client = (",".join(map(str, sorted(c))) for c in cores)
    return f"server on core {server}, load generator on core {client}"


# -- CPU time --------------------------------------------------------------------------------


def _ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def tree_pids(pid: int) -> list[int]:
    """A process and its descendants."""
    found, todo = [], [pid]
    while todo:
        each = todo.pop()
        found.append(each)
        try:
            for task in Path(f"/proc/{each}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes so far (gone ones count 0)."""
    total = 0
    for pid in pids:
        try:
            total += _ticks(pid)
        except (OSError, IndexError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a server (its master and workers) so far."""
    return cpu_seconds(tree_pids(pid))


# -- the machine's load ----------------------------------------------------------------------


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def load(seconds: float = 2.0) -> str:
    """The machine's load now: load averages, runnable tasks, and how busy the cores were
    over `seconds`, by processes other than this one and its children, with the busiest
    other commands; then the disk's: written data the kernel has yet to write out, which
    an fsync (P3's accept path makes several) may have to wait for or share the disk with."""
    own = set(tree_pids(os.getpid()))
    before = _per_process()
    busy0, total0 = _busy_jiffies()
    time.sleep(seconds)
    busy1, total1 = _busy_jiffies()
    after = _per_process()
    used = {pid: after[pid][1] - before[pid][1] for pid in after.keys() & before.keys()}
    others = {pid: t for pid, t in used.items() if pid not in own and t > 0}
    cores = os.cpu_count() or 1
    hz = os.sysconf("SC_CLK_TCK")
    share = (busy1 - busy0) / max(total1 - total0, 1)
    by_command: dict[str, int] = {}
    for pid, t in others.items():
        by_command[after[pid][0]] = by_command.get(after[pid][0], 0) + t
    top = sorted(by_command.items(), key=lambda item: -item[1])[:4]
    loadavg = Path("/proc/loadavg").read_text().split()
    return (
        f"load average {' '.join(loadavg[:3])}, {loadavg[3]} runnable/tasks; cores "
        f"{share:.0%} busy over {seconds:g} s ({cores} cores), other processes "
        f"{sum(others.values()) / hz / seconds:.2f} cores"
        + (" (" + ", ".join(f"{c} {t / hz / seconds:.2f}" for c, t in top) + ")" if top else "")
        + f"; {_unwritten()}"
    )


def _unwritten() -> str:
    """Dirty and Writeback of /proc/meminfo: written data not yet on the disk."""
    sizes = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Dirty", "Writeback"):
            sizes[name] = int(value.split()[0]) / 1024
    return f"unwritten {sizes.get('Dirty', 0):.0f} MiB, being written {sizes.get('Writeback', 0):.0f} MiB"


def _per_process() -> dict[int, tuple[str, int]]:
    """pid -> (command, CPU ticks so far) of every process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        command = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        out[int(entry.name)] = (command, int(fields[11]) + int(fields[12]))
    return out
