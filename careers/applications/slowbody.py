"""Slow bodies: cut an upload that stalls or crawls, so it cannot hold a thread for hours.

A gthread worker reads a request body in the thread that serves it; a client trickling bytes
keeps that thread. Two guards, both on the client socket the server hands us (gunicorn's
`gunicorn.socket`, werkzeug's `werkzeug.socket`):

- a stall — no byte for `stall_seconds` — ends the blocked read through the socket's own
  timeout;
- a crawl — fewer than `min_rate` bytes a second on average once `rate_grace` has passed — is
  seen by one watcher thread per process, which shuts the socket's reading side: the blocked
  read returns, the receiver notices the cut and answers 408.

A real candidate at 1 Mbit/s sends 125 kB a second, thirty times the floor.

The floor alone leaves the upload slots to whoever trickles just above it: 50 clients at
5 kB/s held every slot of `careers serve` for minutes. So when every slot is taken, a new
upload takes the slot of the slowest one below a fair pace (`UploadGate`), and one client (an
IPv4 address or IPv6 /64) holds only a few slots at a time. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .rules import FAIR_COOLDOWN, FAIR_GRACE, FAIR_RATE, READ_CHUNK, UPLOADS_PER_CLIENT

PACE_WINDOW = 5.0  # seconds between the marks a body's pace is measured from


@dataclass(eq=False)  # watched by identity
class Watched:
    """One body being read: the receiver counts bytes, the watcher judges the pace."""

    sock: socket.socket | None
    started: float
    min_rate: float
    grace: float
    received: int = 0
    cut: bool = False
    evicted: bool = False  # cut to give its slot to another upload (UploadGate)
    # Two (time, bytes received) marks, PACE_WINDOW apart, moved on by the watcher: the pace
    # is measured over the last 5 to 10 s, so a fast start cannot cover a crawl for long.
    _marks: tuple[tuple[float, int], tuple[float, int]] = (0.0, 0), (0.0, 0)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._marks = (self.started, 0), (self.started, 0)

    def too_slow(self, now: float, slack: int) -> bool:
        """Behind the floor even if `slack` more bytes (the read in progress) had arrived."""
        elapsed = now - self.started
        return elapsed > self.grace and self.received + slack < self.min_rate * elapsed

    def note(self, now: float) -> None:
        """Move the pace window on (the watcher calls this once a second)."""
        if now - self._marks[1][0] >= PACE_WINDOW:
            self._marks = self._marks[1], (now, self.received)

    def pace(self, now: float) -> float:
        """Bytes a second lately: since the older mark, at most 2 x PACE_WINDOW ago."""
        at, received = self._marks[0]
        return (self.received - received) / max(now - at, 1e-3)

    def cut_off(self, *, evicted: bool = False) -> None:
        """Shut the socket's reading side; the response can still be written."""
        with self._lock:
            if self.cut:
                return
            self.cut, self.evicted = True, evicted
            stop_reading(self.sock)


class SlowBodyWatcher:
    """One daemon thread per process, looking at every body being read once a second."""

    def __init__(self, *, interval: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.interval, self.clock = interval, clock
        self._watched: set[Watched] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket | None, min_rate: float, grace: float) -> Watched:
        """Start watching one body; call `release` when it has been read."""
        watched = Watched(sock, self.clock(), min_rate, grace)
        with self._lock:
            self._watched.add(watched)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="careers-slow-bodies", daemon=True
                )
                self._thread.start()
        return watched

    def release(self, watched: Watched) -> None:
        with self._lock:
            self._watched.discard(watched)

    def sweep(self, slack: int) -> int:
        """Cut every body behind the floor; returns how many were cut."""
        now = self.clock()
        with self._lock:
            for watched in self._watched:
                watched.note(now)
            doomed = [w for w in self._watched if not w.cut and w.too_slow(now, slack)]
        for watched in doomed:
            watched.cut_off()
        return len(doomed)

    def _run(self) -> None:
        """Sweep until nothing is being read; `watch` starts a new thread when needed."""
        while True:
            time.sleep(self.interval)
            with self._lock:
                if not self._watched:
                    self._thread = None
                    return
            self.sweep(READ_CHUNK)


WATCHER = SlowBodyWatcher()


@dataclass(eq=False)  # held in a set by identity
class Slot:
    """One upload slot taken: whose it is, and its body once `receive` reads it."""

    client: str
    watched: Watched | None = None


class UploadGate:
    """A separate concurrency budget for reading bodies: at most `slots` at once in this
    process, so uploads never take every thread and pages keep answering.

    Fair when full: a new upload takes the slot of the slowest body that has been read for
    `grace` seconds and keeps less than `fair_rate` bytes a second; that body is cut (408,
    the "too slow, send it again" page). So holding the slots costs `slots` x `fair_rate` of
    bandwidth, not a trickle just above the crawl floor, while a candidate at 1 Mbit/s
    (125 kB/s) is never cut for another. A client whose body was cut so cannot take a slot
    over itself for `cooldown` seconds: otherwise each cut attacker, reconnecting at once,
    cuts another, and the slots fill with uploads too new to judge. One client holds at most
    `per_client` slots.
    """

    def __init__(
        self,
        slots: int,
        *,
        fair_rate: float = FAIR_RATE,
        grace: float = FAIR_GRACE,
        per_client: int = UPLOADS_PER_CLIENT,
        cooldown: float = FAIR_COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slots, self.per_client = slots, per_client
        self.fair_rate, self.grace, self.cooldown = fair_rate, grace, cooldown
        self.clock = clock
        self._held: set[Slot] = set()
        self._cut: dict[str, float] = {}  # client -> when a body of theirs was last cut here
        self._lock = threading.Lock()
        # Told the new count on every change (the uploads gauge): a gauge that asks for the
        # count when scraped cannot work across worker processes (careers/metrics.py).
        self.on_change: Callable[[int], object] | None = None

    @property
    def in_use(self) -> int:
        return len(self._held)

    def acquire(self, client: str = "") -> Slot | None:
        """Take a slot without waiting, making room if a body is too slow to keep its own;
        None when this client holds its share, or every slot is taken at a fair pace."""
        with self._lock:
            if sum(1 for slot in self._held if slot.client == client) >= self.per_client:
                return None
            if len(self._held) >= self.slots:
                now = self.clock()
                if now - self._cut.get(client, -self.cooldown) < self.cooldown:
                    return None
                victim = self._slowest_below_fair(now)
                if victim is None:
                    return None
                # The slot is handed over now: the cut body's thread only answers 408 and
                # ends, its reads return at once (its socket's reading side is shut).
                assert victim.watched is not None
                victim.watched.cut_off(evicted=True)
                self._held.discard(victim)
                self._note_cut(victim.client, now)
            slot = Slot(client)
            self._held.add(slot)
            self._changed()
        return slot

    def release(self, slot: Slot) -> None:
        """Give the slot back (a slot taken over by another upload is already gone)."""
        with self._lock:
            if slot in self._held:
                self._held.discard(slot)
                self._changed()

    def _note_cut(self, client: str, now: float) -> None:
        """Remember the cut; entries past their cooldown go once there are many."""
        self._cut[client] = now
        if len(self._cut) > 4096:
            self._cut = {c: at for c, at in self._cut.items() if now - at < self.cooldown}

    def _slowest_below_fair(self, now: float) -> Slot | None:
        paced = [
            (slot.watched.pace(now), slot)
            for slot in self._held
            if slot.watched is not None
            and not slot.watched.cut
            and now - slot.watched.started >= self.grace
        ]
        slowest = min(paced, key=lambda item: item[0], default=None)
        return slowest[1] if slowest is not None and slowest[0] < self.fair_rate else None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(len(self._held))


def stop_reading(sock: socket.socket | None) -> None:
    """Shut the socket's reading side (an answer is given, the body stays unread)."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass  # already closed by the client


def client_socket(environ: dict[str, object]) -> socket.socket | None:
    """The client's socket, from gunicorn or werkzeug's dev server; None elsewhere."""
    for key in ("gunicorn.socket", "werkzeug.socket"):
        sock = environ.get(key)
        if isinstance(sock, socket.socket):
            return sock
    return None


# The environ key `careers serve`'s worker (careers/cli/front.py) sets when it stopped waiting
# for a small body: what arrived is handed on, the socket's reading side shut, and the app
# answers 408 (careers/web/bodies.py). Only the worker sets it; no header can.
FRONT_STALLED = "careers.front.body_stalled"
