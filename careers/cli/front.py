"""The worker `careers serve` runs: gunicorn's gthread, with each request head (and a small
body) read in the worker's event loop before a thread is spent on it.

gthread hands every new connection to one of its threads, which then waits for the head and
reads it line by line: a hundred idle connections, or a few hundred sending a header line every
few seconds, hold every thread and pages stop answering (issue 18). Here the loop that already
watches kept-alive connections also reads heads: non-blocking, into a buffer, with a deadline
(`HEAD_SECONDS`) and a size cap (`HEAD_MAX`). Only a complete head — with its body too when the
body is small (`SMALL_BODY`) — goes to a thread, its bytes given back to gunicorn's parser.
Larger bodies (the application form) are read in the thread as before, under the form's own
upload slots and slow-body cut-off (careers/applications/slowbody.py). A small body that misses
its deadline (`BODY_SECONDS`) is not answered here: the request goes to a thread with what
arrived, the socket's reading side shut and `FRONT_STALLED` in its environ, and the app answers
408 at once, logged and counted against the client's refusal budget (careers/web/bodies.py),
as on the form. Connections are closed by the loop as well ("lingering close", as nginx does),
never by a thread or a blocking wait; a lingering socket counts against `worker_connections`,
the oldest closed at once when a new connection needs its room, so the descriptors stay within
the open-file limit, and a worker that runs out anyway stops accepting for a moment instead of
dying (`ACCEPT_PAUSE`).
Figures and the choice of design: docs/benchmarks.md ("Idle and slow connections").
"""

from __future__ import annotations

import errno
import heapq
import itertools
import resource
import selectors
import socket
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from gunicorn import http
from gunicorn.workers.gthread import _DEFER, STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

from ..applications.slowbody import FRONT_STALLED, stop_reading
from .heads import Plan, chunked_end, plan_body

HEAD_SECONDS = 10.0  # the whole head, from connect (or from the first byte when kept alive)
BODY_SECONDS = 10.0  # a small body after its head: 64 KiB at 6.5 kB/s or better
HEAD_MAX = 64 * 1024  # browsers send a few kB; nginx's default allows 32 kB
SMALL_BODY = 64 * 1024  # bodies up to this are read in the loop, on any route
DRAIN_SECONDS = 0.25  # a thread drains what the app left unread for this long at most
LINGER_SECONDS = 2.0  # closing: how long the loop discards what a client still sends
LINGER_MAX = 256 * 1024
WORKER_CONNECTIONS = 4096  # per process: 1,000 idle connections fit with room to spare
RESERVED_FDS = 256  # descriptors kept for the database, spool files, logs and sockets out
ACCEPT_BATCH = 32  # connections accepted per wake-up
ACCEPT_PAUSE = 0.5  # out of descriptors all the same: accepting stops this long
ACCEPT_FULL_LOG_SECONDS = 60.0  # and says so at most this often
# Out of descriptors (the process's or the system's) or of kernel memory: not this connection's
# fault, and nothing to end the worker for. Connections wait in the listen queue meanwhile.
_ACCEPT_FULL = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})

RECV = 64 * 1024
TIMEOUT_408 = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
TOO_LARGE_431 = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
    b"Content-Length: 0\r\n\r\n"
)
BAD_400 = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
CONTINUE_100 = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclass(eq=False)  # kept in a set and a heap by identity
class _Reading:
    """A connection whose next request is being read by the loop."""

    conn: TConn
    buf: bytearray
    deadline: float
    kept_alive: bool  # idle until the first byte: cfg.keepalive, then HEAD_SECONDS
    registered: bool = False
    done: bool = False
    start: int = -1  # where the request line begins (after at most one empty line)
    scanned: int = 0  # bytes already searched for the end of the head
    plan: Plan | None = None  # set once the head is complete
    chunk_pos: int = 0  # chunked bodies: the next chunk-size line

    @property
    def started(self) -> bool:
        """Whether any of a request has arrived (an idle connection is closed without a word)."""
        return self.start >= 0


@dataclass(eq=False)
class _Lingering:
    """A closing connection: write side shut, reading discarded until EOF or the deadline."""

    sock: socket.socket
    deadline: float
    drained: int = 0
    done: bool = False


class FrontWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn has no type hints
    """gthread with an asynchronous front for heads and small bodies (see the module doc)."""

    wsgi: Any  # the app, set by gunicorn's load_wsgi

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # TLS and cleartext HTTP/2 are negotiated in the thread by gunicorn; no documented
        # deployment uses either (a proxy or the platform terminates TLS), so they keep
        # gthread's own behaviour rather than a second implementation here.
        self.front = not self.cfg.is_ssl and getattr(self.cfg, "http2_cleartext", "off") in (
            "off",
            "upgrade",
        )
        self._timers: list[tuple[float, int, _Reading | _Lingering]] = []
        self._order = itertools.count()
        self._readings: set[_Reading] = set()
        # Oldest first (each lingers LINGER_SECONDS): counted against worker_connections.
        self._lingering: dict[_Lingering, None] = {}
        self._accept_paused_until = 0.0
        self._accept_full_logged = -ACCEPT_FULL_LOG_SECONDS
        # Sockets whose small body the loop stopped waiting for (see _hand_on_stalled). Added
        # by the loop before the request is queued, looked up by the thread that serves it,
        # removed by the loop when it is done: single set operations, atomic under the GIL.
        self._stalled: set[socket.socket] = set()

    def init_process(self) -> None:
        fitting, wanted = _raise_nofile() - RESERVED_FDS, int(self.cfg.worker_connections)
        if fitting < wanted:
            self.log.warning(
                "Open-file limit allows %d connections per worker, not %d: raise `ulimit -n`.",
                max(fitting, 1),
                wanted,
            )
            self.worker_connections = max(fitting, 1)
        super().init_process()

    def load_wsgi(self) -> None:
        """The app, told in its environ when the loop stopped waiting for a request's body.

        An environ key rather than a header: only this worker sets it, so no client (nor a
        proxy passing a client's headers on) can, and the app cannot mistake it for one."""
        super().load_wsgi()
        app, stalled = self.wsgi, self._stalled

        def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("gunicorn.socket") in stalled:
                environ[FRONT_STALLED] = True
            return app(environ, start_response)

        self.wsgi = wsgi

    # -- accepting and reading ------------------------------------------------------------

    def accept(self, listener: socket.socket) -> None:
        if not self.front:
            super().accept(listener)
            return
        for _ in range(ACCEPT_BATCH):
            if self.nr_conns >= self.worker_connections:
                return  # the run loop stops accepting until connections end
            if self.nr_conns + len(self._lingering) >= self.worker_connections:
                self._unlinger(next(iter(self._lingering)))  # the oldest: room for a new one
            try:
                client, address = listener.accept()
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    return
                if e.errno in _ACCEPT_FULL:
                    self._pause_accepting(e)
                    return
                raise
            self.nr_conns += 1
            conn = TConn(self.cfg, client, address, listener.getsockname())  # non-blocking
            self._read(conn, b"", time.monotonic() + HEAD_SECONDS, kept_alive=False)

    def _pause_accepting(self, error: OSError) -> None:
        """Out of descriptors though connections are budgeted (the app's own files, another
        process's): stop accepting for ACCEPT_PAUSE, free what lingers, and say so."""
        now = time.monotonic()
        self._accept_paused_until = now + ACCEPT_PAUSE
        self.set_accept_enabled(False)
        for lingering in list(self._lingering):
            self._unlinger(lingering)
        if now - self._accept_full_logged >= ACCEPT_FULL_LOG_SECONDS:
            self._accept_full_logged = now
            self.log.warning(
                "Cannot accept connections (%s): pausing %.1f s; %d open. Raise `ulimit -n` "
                "or lower worker_connections.",
                errno.errorcode.get(error.errno or 0, error.errno),
                ACCEPT_PAUSE,
                self.nr_conns,
            )

    def set_accept_enabled(self, enabled: bool) -> None:
        """gthread's run loop turns accepting back on as soon as there is room: not during a
        pause (`_pause_accepting`)."""
        if enabled and time.monotonic() < self._accept_paused_until:
            enabled = False
        super().set_accept_enabled(enabled)

    def _read(self, conn: TConn, buffered: bytes, deadline: float, *, kept_alive: bool) -> None:
        """Read the next request on `conn` in the loop; `buffered` is what already arrived."""
        if buffered:  # a request has begun: the head deadline applies, not the idle one
            deadline, kept_alive = time.monotonic() + HEAD_SECONDS, False
        reading = _Reading(conn, bytearray(buffered), deadline, kept_alive)
        self._readings.add(reading)
        self._arm(reading)
        if buffered:
            self._advance(reading)
        if not reading.done:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._readable, reading))
            reading.registered = True

    def _readable(self, reading: _Reading, sock: socket.socket) -> None:
        data = _recv(sock)
        if data is None:
            return
        if not data:
            self._end(reading, b"")  # the client left
            return
        if reading.kept_alive:
            reading.kept_alive = False
            reading.deadline = time.monotonic() + HEAD_SECONDS
            self._arm(reading)
        reading.buf += data
        try:
            self._advance(reading)
        except Exception:  # raised in the loop, it would end every request of this process
            self.log.exception("Reading a request head failed: closing its connection.")
            if not reading.done:
                self._end(reading, BAD_400)

    def _advance(self, reading: _Reading) -> None:
        """Dispatch once the head (and a small body) is complete; refuse what cannot be one."""
        buf = reading.buf
        if reading.plan is None:
            if reading.start < 0:
                rest = buf.lstrip(b"\r\n")  # only while nothing but line ends arrived: tiny
                if not rest:
                    if len(buf) > 2:  # RFC 9112 2.2: one empty line may precede a request
                        self._end(reading, BAD_400)
                    return
                reading.start = reading.scanned = len(buf) - len(rest)
            end = buf.find(b"\r\n\r\n", max(reading.start, reading.scanned - 3))
            if end < 0:
                reading.scanned = len(buf)
                if len(buf) > HEAD_MAX:
                    self._end(reading, TOO_LARGE_431)
                return
            head_end = end + 4
            if head_end > HEAD_MAX:
                self._end(reading, TOO_LARGE_431)
                return
            reading.plan = plan_body(bytes(buf[reading.start : head_end]), head_end, SMALL_BODY)
            reading.chunk_pos = head_end
            if not self._body_complete(reading) and reading.plan.expects_continue:
                _send(reading.conn.sock, CONTINUE_100)  # the client waits for it to send more
            reading.deadline = time.monotonic() + BODY_SECONDS
            self._arm(reading)
        if self._body_complete(reading):
            self._dispatch(reading)

    def _body_complete(self, reading: _Reading) -> bool:
        """Whether the thread can have this request without waiting on the client."""
        plan = reading.plan
        assert plan is not None
        if plan.chunked:
            if len(reading.buf) - plan.head_end > SMALL_BODY:
                return True  # a large chunked body: read in the thread, as large bodies are
            end, reading.chunk_pos = chunked_end(reading.buf, reading.chunk_pos)
            return end is not None
        return len(reading.buf) >= plan.need

    def _dispatch(self, reading: _Reading) -> None:
        """Give the request to a thread, its bytes to gunicorn's parser."""
        self._forget(reading)
        conn = reading.conn
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(reading.buf))
        conn.data_ready = True  # gthread's handle() waits for nothing
        self.enqueue_req(conn)

    def _hand_on_stalled(self, reading: _Reading) -> None:
        """A complete head whose small body missed its deadline: the app answers it (408,
        counted against the client's refusal budget), not the loop. Its socket's reading side
        is shut, so every read of the body ends at once: the thread is held for the answer
        alone, never for the client."""
        self.log.debug("Request body not received within its deadline: the app answers.")
        stop_reading(reading.conn.sock)
        self._stalled.add(reading.conn.sock)
        self._dispatch(reading)

    def _end(self, reading: _Reading, answer: bytes) -> None:
        """Close a connection the loop is reading: after `answer`, if there is one."""
        self._forget(reading)
        if answer:
            _send(reading.conn.sock, answer)
            self._linger(reading.conn.sock)
        else:
            self.nr_conns -= 1
            reading.conn.close()

    def _forget(self, reading: _Reading) -> None:
        reading.done = True
        self._readings.discard(reading)
        if reading.registered:
            reading.registered = False
            try:
                self.poller.unregister(reading.conn.sock)
            except (KeyError, ValueError, OSError):
                pass

    # -- closing ----------------------------------------------------------------------------

    def _linger(self, sock: socket.socket) -> None:
        """Close a connection without a blocking wait: shut the write side, discard what
        still arrives. It leaves `nr_conns` for `_lingering`, which accept counts too."""
        self.nr_conns -= 1
        try:
            sock.setblocking(False)
            sock.shutdown(socket.SHUT_WR)
            lingering = _Lingering(sock, time.monotonic() + LINGER_SECONDS)
            self.poller.register(sock, selectors.EVENT_READ, partial(self._discard, lingering))
        except (OSError, ValueError, KeyError):
            _close(sock)
            return
        self._lingering[lingering] = None
        self._arm(lingering)

    def _discard(self, lingering: _Lingering, sock: socket.socket) -> None:
        data = _recv(sock)
        if data is None:
            return
        lingering.drained += len(data)
        if not data or lingering.drained > LINGER_MAX:
            self._unlinger(lingering)

    def _unlinger(self, lingering: _Lingering) -> None:
        lingering.done = True
        self._lingering.pop(lingering, None)
        try:
            self.poller.unregister(lingering.sock)
        except (KeyError, ValueError, OSError):
            pass
        _close(lingering.sock)

    # -- deadlines: one heap, stale entries skipped, so each tick costs O(expired) ----------

    def _arm(self, item: _Reading | _Lingering) -> None:
        heapq.heappush(self._timers, (item.deadline, next(self._order), item))

    def murder_keepalived(self, force: bool = False) -> None:
        """gthread's tick (and its final clean-up with force): here, every deadline due."""
        super().murder_keepalived(force)
        now = time.monotonic()
        while self._timers and (force or self._timers[0][0] <= now):
            deadline, _, item = heapq.heappop(self._timers)
            if item.done or item.deadline != deadline:
                continue  # ended, or its deadline moved
            if isinstance(item, _Lingering):
                self._unlinger(item)
            elif not item.started:
                self._end(item, b"")  # idle: nothing to answer
            elif item.plan is not None and not force:
                self._hand_on_stalled(item)  # the head is here: the app answers, and counts
            else:
                self.log.debug("Request not received within its deadline: closing.")
                self._end(item, TIMEOUT_408)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self._timers:
            timeout = max(0.0, min(timeout, self._timers[0][0] - time.monotonic()))
        paused = self._accept_paused_until - time.monotonic()
        if paused > 0:  # wake when accepting may resume
            timeout = min(timeout, paused)
        super().wait_for_and_dispatch_events(timeout)

    def _cap_keepalive(self, deadline: float) -> None:
        """Stopping: connections that have not begun a request close within
        STOP_KEEPALIVE_LINGER; a request on its way keeps its deadline and is answered."""
        super()._cap_keepalive(deadline)
        for reading in list(self._readings):
            if not reading.started and reading.deadline > deadline:
                reading.deadline = deadline
                self._arm(reading)

    # -- after a thread has answered ------------------------------------------------------

    def finish_request(self, conn: TConn, fs: Any) -> None:
        if not self.front:
            super().finish_request(conn, fs)
            return
        self._stalled.discard(conn.sock)
        try:
            result = fs.result() if not fs.cancelled() else False
            if result and result is not _DEFER:
                conn.sock.setblocking(False)
                idle = time.monotonic() + self.cfg.keepalive
                if not self.alive:
                    idle = min(idle, time.monotonic() + STOP_KEEPALIVE_LINGER)
                # A pipelined request may have been read ahead, whole or in part: it goes
                # through the loop like any other, so a partial one cannot hold the thread.
                self._read(conn, conn.parser.unreader.take_buffered(), idle, kept_alive=True)
            else:
                self._linger(conn.sock)
        except Exception:
            self.nr_conns -= 1
            conn.close()

    def _keepalive_after(self, conn: TConn, keepalive: bool) -> bool:
        """A body the app left unread is drained only if it is already here (a small one
        always is); otherwise the connection closes, lingering in the loop, not a thread."""
        if not keepalive:
            return False
        if not self.front:
            return bool(super()._keepalive_after(conn, keepalive))
        return bool(conn.parser.finish_body(deadline=time.monotonic() + DRAIN_SECONDS))


def _recv(sock: socket.socket) -> bytes | None:
    """What a readable non-blocking socket has: None if nothing after all, b"" if the client
    is gone (EOF or an error)."""
    try:
        return sock.recv(RECV)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


def _send(sock: socket.socket, data: bytes) -> None:
    """A short answer on a non-blocking socket: it fits any send buffer, or the client is gone."""
    try:
        sock.send(data)
    except OSError:
        pass


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


def _raise_nofile() -> int:
    """Raise this process's open-file limit to its hard limit; returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # keep the soft limit; worker_connections shrinks to fit it
    return soft if soft != resource.RLIM_INFINITY else 1 << 16
