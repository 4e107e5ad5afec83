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
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .rules import READ_CHUNK


@dataclass(eq=False)  # watched by identity
class Watched:
    """One body being read: the receiver counts bytes, the watcher judges the pace."""

    sock: socket.socket | None
    started: float
    min_rate: float
    grace: float
    received: int = 0
    cut: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def too_slow(self, now: float, slack: int) -> bool:
        """Behind the floor even if `slack` more bytes (the read in progress) had arrived."""
        elapsed = now - self.started
        return elapsed > self.grace and self.received + slack < self.min_rate * elapsed

    def cut_off(self) -> None:
        """Shut the socket's reading side; the response can still be written."""
        with self._lock:
            if self.cut:
                return
            self.cut = True
            if self.sock is not None:
                try:
                    self.sock.shutdown(socket.SHUT_RD)
                except OSError:
                    pass  # already closed by the client


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


class UploadGate:
    """A separate concurrency budget for reading bodies: at most `slots` at once in this
    process, so uploads never take every thread and pages keep answering."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self.in_use = 0
        # Told the new count on every change (the uploads gauge): a gauge that asks for the
        # count when scraped cannot work across worker processes (careers/metrics.py).
        self.on_change: Callable[[int], object] | None = None

    def acquire(self) -> bool:
        """Take a slot without waiting; False when all are taken."""
        if not self._free.acquire(blocking=False):
            return False
        with self._lock:
            self.in_use += 1
            self._changed()
        return True

    def release(self) -> None:
        with self._lock:
            self.in_use -= 1
            self._changed()
        self._free.release()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.in_use)


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
