"""Stream a multipart form to disk, stopping at the first limit it breaks (docs/applications.md).

The body is read in 64 KiB chunks straight from the WSGI input and fed to python-multipart's
push parser; file parts go to spool files as they arrive, so memory stays flat whatever the
size, and reading stops the moment a limit is crossed.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from .form import FILE_CATEGORIES
from .rules import LIMITS, READ_CHUNK, Limits, UploadProblem
from .slowbody import WATCHER, Slot, SlowBodyWatcher, Watched
from .spool import Spool

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks


class UploadRejected(Exception):
    """The body broke a limit or is not a form; `reason` tags the log line, `status` the answer."""

    def __init__(self, reason: UploadProblem, status: int = 413) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class UploadedFile:
    category: str
    filename: str  # as the browser sent it; cleaned later
    path: Path
    size: int = 0
    sha256: str = ""  # of the bytes as received, to tell one submission from another


@dataclass
class Submission:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)

    def value(self, name: str) -> str:
        values = self.fields.get(name)
        return values[0] if values else ""

    def discard(self, spool: Spool) -> None:
        spool.discard([f.path for f in self.files])


class _Collector:
    """Callbacks for MultipartParser: one part at a time, each checked as its bytes arrive."""

    def __init__(
        self,
        spool: Spool,
        limits: Limits,
        offered: frozenset[str],
        on_field: Callable[[str, str], None] | None,
        before_files: frozenset[str],
    ) -> None:
        self.spool, self.limits, self.offered = spool, limits, offered
        self.on_field, self.awaited = on_field, set(before_files)
        self._hash = hashlib.sha256()
        self.result = Submission()
        self.parts = 0
        self.total_file_bytes = 0
        self.finished = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._file: UploadedFile | None = None
        self._handle: BinaryIO | None = None
        self._field_name = ""
        self._field = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.limits.parts:
            raise UploadRejected(UploadProblem.TOO_MANY_PARTS)
        self._headers.clear()
        self._file, self._field_name = None, ""
        self._field.clear()

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value.extend(data[start:end])
        if len(self._header_value) > self.limits.header_bytes:
            raise UploadRejected(UploadProblem.HEADER_TOO_LARGE)

    def header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if disposition != b"form-data" or not name:
            raise UploadRejected(UploadProblem.BAD_PART, status=400)
        if name in FILE_CATEGORIES:
            if self.awaited:
                # The form puts its token first: a file before it is no form of ours.
                raise UploadRejected(UploadProblem.TOKEN_LATE, status=403)
            if name not in self.offered:
                # No browser sends it (the input is not on the page): refuse, never forward.
                raise UploadRejected(UploadProblem.HIDDEN_CATEGORY, status=422)
            filename = params.get(b"filename", b"document").decode("utf-8", "replace")
            self._hash = hashlib.sha256()
            path, self._handle = self.spool.new_file()
            self._file = UploadedFile(name, filename, path)
            self.result.files.append(self._file)
        else:
            self._field_name = name

    def part_data(self, data: bytes, start: int, end: int) -> None:
        size = end - start
        if self._file is not None:
            self._file.size += size
            self.total_file_bytes += size
            if self._file.size > self.limits.file_bytes:
                raise UploadRejected(UploadProblem.FILE_TOO_LARGE)
            if self.total_file_bytes > self.limits.total_file_bytes:
                raise UploadRejected(UploadProblem.TOTAL_TOO_LARGE)
            assert self._handle is not None
            view = memoryview(data)[start:end]  # no copy of the chunk
            self._handle.write(view)
            self._hash.update(view)
        else:
            self._field.extend(data[start:end])
            if len(self._field) > self.limits.field_bytes:
                raise UploadRejected(UploadProblem.FIELD_TOO_LARGE)

    def part_end(self) -> None:
        if self._file is not None:
            assert self._handle is not None
            self._handle.close()
            self._handle = None
            self._file.sha256 = self._hash.hexdigest()
            if self._file.size == 0 and self._file.filename == "":
                # A file input left empty: browsers still send a part for it.
                self.spool.discard([self._file.path])
                self.result.files.remove(self._file)
            elif len(self.result.files) > self.limits.files:
                raise UploadRejected(UploadProblem.TOO_MANY_FILES)
        elif self._field_name:
            try:
                text = self._field.decode("utf-8")
            except UnicodeDecodeError:
                raise UploadRejected(UploadProblem.BAD_ENCODING, status=400) from None
            self.result.fields.setdefault(self._field_name, []).append(text)
            self.awaited.discard(self._field_name)
            if self.on_field is not None:
                self.on_field(self._field_name, text)

    def end(self) -> None:
        self.finished = True

    def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self.result.discard(self.spool)


def receive(
    stream: IO[bytes],
    content_type: str,
    content_length: int | None,
    spool: Spool,
    offered: frozenset[str],
    limits: Limits = LIMITS,
    *,
    sock: socket.socket | None = None,
    on_field: Callable[[str, str], None] | None = None,
    before_files: frozenset[str] = frozenset(),
    watcher: SlowBodyWatcher = WATCHER,
    slot: Slot | None = None,
) -> Submission:
    """Parse the request body into fields and spooled files, or raise UploadRejected.

    `offered` are the document inputs the form shows; a file under any other is refused.
    `on_field` sees each text field as soon as it has arrived and may raise to stop reading
    (the form token and the honeypot come first in the form, so a forged post costs one
    chunk); `before_files` names fields that must arrive before any file. With the client's
    `sock`, a stalled or crawling body is cut (careers/applications/slowbody.py); with the
    upload `slot` it holds, it can be cut to make room for a faster one (`UploadGate`).
    """
    mimetype, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if mimetype != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise UploadRejected(UploadProblem.NOT_MULTIPART, status=400)
    # Refuse a body that announces itself too large before reading a byte of it.
    if content_length is not None and content_length > limits.body_bytes:
        raise UploadRejected(UploadProblem.BODY_TOO_LARGE)
    collector = _Collector(spool, limits, offered, on_field, before_files)
    # The parser's own bound is a backstop above ours, so an oversized header is told as 413.
    parser = MultipartParser(
        boundary, collector.callbacks(), max_header_size=2 * limits.header_bytes
    )
    received = 0
    with _watching(sock, limits, watcher) as watched:
        if slot is not None:
            slot.watched = watched
        try:
            while chunk := _read(stream, watched):
                received += len(chunk)
                watched.received = received
                if received > limits.body_bytes:
                    raise UploadRejected(UploadProblem.BODY_TOO_LARGE)
                parser.write(chunk)
            parser.finalize()
            if not collector.finished:
                raise UploadRejected(UploadProblem.TRUNCATED, status=400)
        except MultipartParseError:
            collector.abort()
            raise UploadRejected(UploadProblem.MALFORMED, status=400) from None
        except BaseException:
            collector.abort()
            raise
    return collector.result


def read_small(
    stream: IO[bytes],
    limit: int,
    limits: Limits,
    *,
    sock: socket.socket | None = None,
    watcher: SlowBodyWatcher = WATCHER,
) -> bytes:
    """A whole small body (careers/web/bodies.py), or UploadRejected: 413 the moment more
    than `limit` bytes arrived, 408 when it stalls or crawls (the form's rules, `limits`)."""
    body = bytearray()
    with _watching(sock, limits, watcher) as watched:
        while chunk := _read(stream, watched, min(READ_CHUNK, limit + 1 - len(body))):
            body += chunk
            watched.received = len(body)
            if len(body) > limit:
                raise UploadRejected(UploadProblem.BODY_TOO_LARGE)
    return bytes(body)


@contextmanager
def _watching(
    sock: socket.socket | None, limits: Limits, watcher: SlowBodyWatcher
) -> Iterator[Watched]:
    """A body read under the slow-body rules: the watcher judges its pace, the socket's own
    timeout ends a stall; afterwards the socket gets its timeout back unless it was cut."""
    watched = watcher.watch(sock, limits.min_rate, limits.rate_grace)
    timeout = sock.gettimeout() if sock is not None else None
    if sock is not None:
        sock.settimeout(limits.stall_seconds)
    try:
        yield watched
    finally:
        watcher.release(watched)
        if sock is not None and not watched.cut:
            try:
                sock.settimeout(timeout)
            except OSError:
                pass


def _read(stream: IO[bytes], watched: Watched, size: int = READ_CHUNK) -> bytes:
    """One chunk; a stall or a cut by the watcher becomes a 408."""
    try:
        chunk = stream.read(size)
    except Exception as exc:
        if watched.cut:
            raise UploadRejected(_cut_reason(watched), status=408) from None
        if _timed_out(exc):
            raise UploadRejected(UploadProblem.STALLED, status=408) from None
        # The server could not read the body (the client went away, a broken chunk size):
        # a bad request, not a crash.
        raise UploadRejected(UploadProblem.TRUNCATED, status=400) from None
    if watched.cut:
        raise UploadRejected(_cut_reason(watched), status=408)
    return chunk


def _cut_reason(watched: Watched) -> UploadProblem:
    return UploadProblem.EVICTED if watched.evicted else UploadProblem.TOO_SLOW


def _timed_out(exc: BaseException | None) -> bool:
    """A socket timeout, possibly wrapped by the server's stream (werkzeug re-raises it as
    ClientDisconnected)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, TimeoutError):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False
