"""Document bytes in PostgreSQL: sealed chunks every host can read.

A spool file is copied into `document_chunks` a MiB at a time (never a whole file in
memory), each chunk sealed with its application's key and bound to its place (application,
document, sequence number): once the key is deleted, dead tuples, WAL and backups hold only
noise, and no chunk can be swapped for another. A sealed chunk is kept as pieces of at most
PIECE_BYTES, one row each, small enough to stay in the table's pages: one bytea of a MiB
would be cut into some 525 rows of a TOAST table and its index, which costs the database
half as much again (schema step 009). An empty file is one empty chunk, so no chunk at all
means the document is gone. Reading back is a seekable stream that holds one chunk (and
runs one query) at a time, as httpx's multipart upload reads it.
"""

from __future__ import annotations

import bisect
import io
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..applications.sealing import SEAL_OVERHEAD, seal_into, unseal
from .postgresql import PostgresConnector, PostgresTx

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK_BYTES = 1024 * 1024  # document bytes are sealed, and read back, one MiB at a time
# A row of one piece (about 8,040 bytes with its header and columns) fits a heap page of
# 8 KiB, and the tables' toast_tuple_target (8160) keeps it there (step 009).
PIECE_BYTES = 8000

# COPY's binary format (PostgreSQL's documentation, COPY, "Binary Format"): a signature,
# then per row the number of fields and each field as its length and bytes (here int8,
# int4, int4, bytea: the columns of both chunk tables), and -1 fields to end.
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)  # no flags, no extension
# 4 fields; 8, document id; 4, seq; 4, piece; length of data
ROW_HEADER = struct.Struct("!hiqiiiii")
COPY_TRAILER = struct.pack("!h", -1)


@dataclass(frozen=True)
class ChunkTable:
    """Where chunks go: the outbox's documents, or the kept files of a refused post
    (kept.py). Fixed statements, never built from input."""

    copy: str
    layout: str  # named statement: (seq, n) of one file's chunks
    chunk: str  # named statement: one chunk's data


DOCUMENT_CHUNKS = ChunkTable(
    "COPY document_chunks (document_id, seq, piece, data) FROM STDIN (FORMAT BINARY)",
    "chunk_layout",
    "chunk",
)
KEPT_CHUNKS = ChunkTable(
    "COPY kept_chunks (file_id, seq, piece, data) FROM STDIN (FORMAT BINARY)",
    "kept_chunk_layout",
    "kept_chunk",
)


def chunk_context(public_id: str, document_id: int, seq: int) -> str:
    """What binds a sealed chunk to its place: no chunk can be swapped for another."""
    return f"{public_id}:{document_id}:{seq}"


def store(
    tx: PostgresTx,
    documents: list[tuple[int, str]],
    key: bytes,
    public_id: str,
    table: ChunkTable = DOCUMENT_CHUNKS,
) -> None:
    """Copy these (document id, spool path) files into chunks of `table`, in `tx`.

    One binary COPY for all of them: the chunks stream to the server without a round trip
    each. Each chunk is read into one buffer and sealed into another; its pieces are then
    laid out behind their rows' headers, in COPY's binary format, in the first (the plain
    bytes are sealed by then), and each chunk's rows go to psycopg in one write, as a view
    of that buffer: libpq copies them into its send buffer before `write` returns
    (psycopg's `write_row` would copy each row twice more, and a write per row would cost a
    call into libpq each). Two buffers, not three: each is a MiB of fresh pages to fault in
    per application, which cost the worker more system time than the layout itself."""
    if not documents:
        return
    aead = AESGCM(key)
    sealed = bytearray(CHUNK_BYTES + SEAL_OVERHEAD)
    rows = bytearray(_rows_bytes(len(sealed)))  # the plain chunk first, then its rows
    plain = memoryview(rows)[:CHUNK_BYTES]
    with tx.conn.cursor().copy(table.copy) as copy:
        copy.write(COPY_SIGNATURE)
        for document_id, path in documents:
            with open(path, "rb", buffering=0) as source:
                seq = 0
                while True:
                    size = _fill(source, plain)
                    if not size and seq > 0:
                        break
                    context = chunk_context(public_id, document_id, seq)
                    chunk = seal_into(aead, plain[:size], context, sealed)
                    copy.write(_lay_out(document_id, seq, chunk, rows))
                    seq += 1
                    if size < CHUNK_BYTES:
                        break
        copy.write(COPY_TRAILER)


def _rows_bytes(sealed: int) -> int:
    """The COPY rows that `sealed` bytes of a chunk take, headers included."""
    return sealed + -(-sealed // PIECE_BYTES) * ROW_HEADER.size


def _lay_out(document_id: int, seq: int, chunk: memoryview, rows: bytearray) -> memoryview:
    """The chunk's pieces as COPY rows in `rows` (sized by _rows_bytes); a view of them."""
    out = memoryview(rows)
    at = 0
    for piece, start in enumerate(range(0, len(chunk), PIECE_BYTES)):  # never empty: sealed
        data = chunk[start : start + PIECE_BYTES]
        ROW_HEADER.pack_into(rows, at, 4, 8, document_id, 4, seq, 4, piece, len(data))
        at += ROW_HEADER.size
        out[at : at + len(data)] = data
        at += len(data)
    return out[:at]


def _fill(source: io.RawIOBase, buffer: memoryview) -> int:
    """Read into `buffer` until it is full or the file ends; how many bytes were read."""
    filled = 0
    while filled < len(buffer):
        got = source.readinto(buffer[filled:])
        if not got:
            break
        filled += got
    return filled


def open_document(
    db: PostgresConnector,
    document_id: int,
    key: bytes,
    public_id: str,
    table: ChunkTable = DOCUMENT_CHUNKS,
) -> io.BufferedReader:
    """A document's bytes as a seekable stream; FileNotFoundError when they are gone."""
    with db.reading() as tx:
        layout = [
            (row["seq"], row["n"] - SEAL_OVERHEAD) for row in tx.all(table.layout, id=document_id)
        ]
    if not layout:
        raise FileNotFoundError(f"document {document_id} is no longer in the outbox")

    def read_chunk(seq: int) -> bytes | None:
        with db.reading() as tx:
            row = tx.one_binary(table.chunk, id=document_id, seq=seq)
        if row is None:
            return None
        return unseal(key, bytes(row["data"]), chunk_context(public_id, document_id, seq))

    return io.BufferedReader(ChunkReader(document_id, layout, read_chunk))


class ChunkReader(io.RawIOBase):
    """A document's bytes, read-only and seekable, one chunk (and one query) at a time."""

    def __init__(
        self,
        document_id: int,
        layout: Sequence[tuple[int, int]],
        read_chunk: Callable[[int], bytes | None],
    ) -> None:
        super().__init__()
        self._document_id = document_id
        self._seqs = [seq for seq, _ in layout]
        self._lengths = [length for _, length in layout]
        self._starts: list[int] = []
        total = 0
        for length in self._lengths:
            self._starts.append(total)
            total += length
        self._size = total
        self._read_chunk = read_chunk
        self._pos = 0
        self._index = -1
        self._data = b""

    def _open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed document")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._open()
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._open()
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        self._pos = target
        return target

    def readinto(self, buffer: WriteableBuffer) -> int:
        self._open()
        if self._pos >= self._size:
            return 0
        index = bisect.bisect_right(self._starts, self._pos) - 1
        if index != self._index:
            self._index, self._data = -1, b""  # one chunk in memory, not two
            data = self._read_chunk(self._seqs[index])
            if data is None:
                raise FileNotFoundError(f"document {self._document_id} is no longer in the outbox")
            if len(data) != self._lengths[index]:
                raise OSError(f"document {self._document_id} changed while it was read")
            self._index, self._data = index, data
        offset = self._pos - self._starts[index]
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._data) - offset)
        view[:count] = memoryview(self._data)[offset : offset + count]
        self._pos += count
        return count

    def close(self) -> None:
        self._data = b""
        super().close()
