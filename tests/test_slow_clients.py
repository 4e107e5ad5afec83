"""Slow clients against a real gunicorn (gthread, as `careers serve` runs it): a body that
stalls or crawls is cut with 408 and leaves no file; uploads cannot take every thread."""

from __future__ import annotations

import os
import select
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from careers.applications.slowbody import Slot, UploadGate, Watched

from .applying import JOB, apply_env
from .apps import SECRET
from .servers import eventually, form_body, open_post, read_status, start_slow_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def start_gunicorn(sandbox, sandbox_server, tmp_path) -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(threads: int = 8, **test_env: str) -> tuple[str, Path]:
        data_dir = tmp_path / f"data-{len(procs)}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
        settings = apply_env(sandbox_server.url, tmp_path)
        env.update({f"CAREERS_{k.upper()}": v for k, v in settings.items()})
        env.update(
            CAREERS_PERSONIO_FEED_URL=f"{sandbox_server.url}/xml",
            CAREERS_SECRET_KEY=SECRET,
            CAREERS_DATA_DIR=str(data_dir),
            CAREERS_MIN_FILL_SECONDS="0",
            **test_env,
        )
        proc, base = start_slow_app(env, threads)
        procs.append(proc)
        return base, data_dir

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _spool_empty(data_dir: Path) -> bool:
    spool = data_dir / "spool"
    return not any(spool.glob("*/*"))


@pytest.mark.system
def test_a_body_that_stalls_is_cut_with_408_and_its_file_removed(start_gunicorn, tmp_path):
    base, data_dir = start_gunicorn(TEST_STALL_SECONDS="1.5")
    body, content_type = form_body(base, tmp_path)
    sock = open_post(base, body, content_type)
    sock.sendall(body[: len(body) // 2])  # half the CV, then nothing
    started = time.monotonic()
    assert read_status(sock) == 408
    assert time.monotonic() - started < 10
    sock.close()
    assert eventually(lambda: _spool_empty(data_dir))


@pytest.mark.system
def test_a_body_that_crawls_is_cut_with_408(start_gunicorn, tmp_path):
    base, data_dir = start_gunicorn(TEST_MIN_RATE="20000", TEST_RATE_GRACE="1")
    body, content_type = form_body(base, tmp_path)
    sock = open_post(base, body, content_type)
    sock.settimeout(0.05)
    status = 0
    for start in range(0, len(body), 100):  # 100 bytes every 50 ms: 2 kB/s
        try:
            sock.sendall(body[start : start + 100])
        except OSError:
            break  # the server stopped reading and answered
        try:
            status = read_status(sock)
            break
        except TimeoutError:
            continue
    if not status:
        sock.settimeout(10)
        status = read_status(sock)
    assert status == 408
    sock.close()
    assert eventually(lambda: _spool_empty(data_dir))


@pytest.mark.system
def test_a_candidate_above_the_floor_gets_through(start_gunicorn, tmp_path):
    base, data_dir = start_gunicorn(TEST_MIN_RATE="20000", TEST_RATE_GRACE="1")
    body, content_type = form_body(base, tmp_path, size=300_000)
    sock = open_post(base, body, content_type)
    for start in range(0, len(body), 8192):  # ~160 kB/s, a slow mobile uplink
        sock.sendall(body[start : start + 8192])
        time.sleep(0.05)
    sock.settimeout(10)
    assert read_status(sock) == 303
    sock.close()


@pytest.mark.system
def test_uploads_cannot_take_every_thread(start_gunicorn, tmp_path):
    # No slot is taken over for a faster upload here (the fair pace is 0): this is the bound.
    base, _ = start_gunicorn(threads=8, TEST_UPLOAD_SLOTS="5", TEST_FAIR_RATE="0")
    body, content_type = form_body(base, tmp_path)
    held = []
    for n in range(5):
        sock = open_post(base, body, content_type, f"198.51.100.{n + 1}")
        sock.sendall(body[:1000])  # and then trickle nothing more: each holds a thread
        held.append(sock)
    try:
        # Every held upload is being read (the server says so), then a sixth is refused.
        assert eventually(lambda: _reading(base) == 5.0)
        assert _busy_answer(base, body, content_type, "198.51.100.9") == 503
        for path in ("/healthz", "/en/jobs", f"/en/jobs/{JOB}"):
            response = httpx.get(f"{base}{path}", timeout=5, follow_redirects=True)
            assert response.status_code == 200, path
    finally:
        for sock in held:
            sock.close()


def _reading(base: str) -> float:
    metrics = httpx.get(f"{base}/metrics", timeout=5).text
    lines = [line for line in metrics.splitlines() if line.startswith("careers_uploads_reading ")]
    return float(lines[0].split()[1]) if lines else -1.0


def _busy_answer(base: str, body: bytes, content_type: str, client: str = "") -> int:
    sock = open_post(base, body, content_type, client)
    try:
        sock.sendall(body[:1000])
        sock.settimeout(2)
        return read_status(sock)
    except TimeoutError:
        return 0  # it got a slot (the held uploads had not all arrived yet): try again
    finally:
        sock.close()


# --- fair slots: issue 18, "50 slow uploads from 50 addresses leave one candidate in 18 able
# to apply" -----------------------------------------------------------------------------------


class Trickler(threading.Thread):
    """An attacker's upload: a form body at about 6 kB/s, above the crawl floor (4 kB/s) and
    far below a candidate's pace, from an address of its own, until answered or stopped."""

    def __init__(self, base: str, body: bytes, content_type: str, client: str) -> None:
        super().__init__(daemon=True)
        self.base, self.body, self.content_type, self.client = base, body, content_type, client
        self.status = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with open_post(self.base, self.body, self.content_type, self.client) as sock:
            for start in range(0, len(self.body), 600):
                if self.stop.is_set():
                    return
                try:
                    sock.sendall(self.body[start : start + 600])
                except OSError:
                    break  # the server stopped reading and answered
                if select.select([sock], [], [], 0.1)[0]:
                    break
            sock.settimeout(10)
            try:
                self.status = read_status(sock)
            except OSError:
                self.status = -1


@pytest.mark.system
def test_a_candidate_takes_the_slot_of_an_upload_trickling_below_the_fair_pace(
    start_gunicorn, tmp_path
):
    base, _ = start_gunicorn(threads=8, TEST_UPLOAD_SLOTS="5", TEST_FAIR_GRACE="1")
    body, content_type = form_body(base, tmp_path)
    cv, cv_type = form_body(base, tmp_path, size=300_000)
    tricklers = [Trickler(base, body, content_type, f"198.51.100.{n + 1}") for n in range(5)]
    for trickler in tricklers:
        trickler.start()

    def candidate() -> int:
        """A candidate on a real uplink: the whole body at once; 503 until a trickle has been
        read long enough (the grace) to be judged, as a candidate would try again."""
        with open_post(base, cv, cv_type, "203.0.113.7") as sock:
            try:
                sock.sendall(cv)
            except OSError:
                pass  # refused before the end of the body: the answer is waiting
            return read_status(sock)

    try:
        assert eventually(lambda: _reading(base) == 5.0)  # every slot taken by a trickle
        assert eventually(lambda: candidate() == 303, seconds=10, every=0.5)
        # One trickle made room, told to send again (408), not the candidate sent away (503).
        assert eventually(lambda: any(t.status for t in tricklers))
        assert sorted(t.status for t in tricklers if t.status) == [408]
    finally:
        for trickler in tricklers:
            trickler.stop.set()
        for trickler in tricklers:
            trickler.join(timeout=15)


@pytest.mark.system
def test_one_client_holds_no_more_than_its_share_of_the_upload_slots(start_gunicorn, tmp_path):
    base, _ = start_gunicorn(threads=12, TEST_UPLOAD_SLOTS="8")
    body, content_type = form_body(base, tmp_path)
    held = []
    try:
        for _ in range(4):
            sock = open_post(base, body, content_type, "198.51.100.1")
            sock.sendall(body[:1000])
            held.append(sock)
        assert eventually(lambda: _reading(base) == 4.0)
        # Slots are free, but not for this client's fifth upload ...
        assert _busy_answer(base, body, content_type, "198.51.100.1") == 503
        # ... while another client's upload is read and accepted.
        with open_post(base, body, content_type, "198.51.100.2") as sock:
            sock.sendall(body)
            assert read_status(sock) == 303
    finally:
        for sock in held:
            sock.close()


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _reading_at(gate: UploadGate, clock: _Clock, client: str, rate: float) -> Slot:
    """A slot whose body has been read at `rate` bytes a second for 10 s (clock moved on)."""
    slot = gate.acquire(client)
    assert slot is not None
    slot.watched = Watched(None, clock.now, min_rate=4096, grace=20)
    return slot


def _after(clock: _Clock, seconds: float, *paced: tuple[Slot, float]) -> None:
    """Move the clock on, the bodies receiving at their rates, marks moved as the watcher does."""
    for _ in range(int(seconds)):
        clock.now += 1
        for slot, rate in paced:
            assert slot.watched is not None
            slot.watched.received += int(rate)
            slot.watched.note(clock.now)


def test_the_gate_takes_over_only_the_slowest_body_below_the_fair_pace():
    clock = _Clock()
    gate = UploadGate(3, fair_rate=32_000, grace=5, clock=clock)
    candidate = _reading_at(gate, clock, "a", 125_000)  # 1 Mbit/s
    slow = _reading_at(gate, clock, "b", 8_000)
    slower = _reading_at(gate, clock, "c", 5_000)
    assert gate.acquire("d") is None  # full, and no body has been read for the grace yet
    _after(clock, 10, (candidate, 125_000), (slow, 8_000), (slower, 5_000))
    newcomer = gate.acquire("d")
    assert newcomer is not None and gate.in_use == 3
    assert slower.watched is not None and slower.watched.evicted
    assert candidate.watched is not None and not candidate.watched.cut
    gate.release(slower)  # the cut body's thread ends: its slot is already the newcomer's
    assert gate.in_use == 3


def test_the_gate_never_cuts_a_body_at_a_fair_pace():
    clock = _Clock()
    gate = UploadGate(2, fair_rate=32_000, grace=5, clock=clock)
    one, two = _reading_at(gate, clock, "a", 40_000), _reading_at(gate, clock, "b", 125_000)
    _after(clock, 10, (one, 40_000), (two, 125_000))
    assert gate.acquire("c") is None  # 503 for the newcomer: both keep a fair pace


def test_a_fast_start_does_not_cover_a_crawl_for_long():
    clock = _Clock()
    gate = UploadGate(1, fair_rate=32_000, grace=5, clock=clock)
    burst = _reading_at(gate, clock, "a", 0)
    assert burst.watched is not None
    burst.watched.received = 2_000_000  # 2 MB at once, then 5 kB/s
    _after(clock, 11, (burst, 5_000))
    assert burst.watched.received / 11 > 32_000  # its average still looks fair ...
    assert gate.acquire("b") is not None  # ... its pace of the last seconds does not


def test_one_client_holds_at_most_its_share():
    gate = UploadGate(10, per_client=4)
    slots = [gate.acquire("one") for _ in range(4)]
    assert all(slots) and gate.acquire("one") is None
    assert gate.acquire("two") is not None
    gate.release(slots[0])
    assert gate.acquire("one") is not None


def test_a_client_cut_for_another_takes_no_slot_over_itself_for_a_while():
    """Otherwise each cut attacker, reconnecting at once, cuts the next: a chain that keeps
    every slot too new to judge, and candidates find none to take over."""
    clock = _Clock()
    gate = UploadGate(2, fair_rate=32_000, grace=5, cooldown=60, clock=clock)
    one, two = _reading_at(gate, clock, "one", 5_000), _reading_at(gate, clock, "two", 6_000)
    _after(clock, 10, (one, 5_000), (two, 6_000))
    assert gate.acquire("three") is not None  # "one" is cut ...
    gate.release(one)
    _after(clock, 10, (two, 6_000))
    assert gate.acquire("one") is None  # ... and, back at once, cuts nobody
    clock.now += 60
    assert gate.acquire("one") is not None  # a minute later it may
