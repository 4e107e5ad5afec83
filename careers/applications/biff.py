"""Excel's BIFF records: the structure of a pre-1995 sheet, and Excel 4.0 macro sheets in any .xls.

Excel 2.1–4.0 (BIFF2–4) saved a sheet as a bare stream of records, no compound file around it;
Excel 5 and later (BIFF5/8) keep the records in a compound file's `Workbook` (or `Book`)
stream. Every record is a 16-bit type, a 16-bit length and that many bytes, and every sheet
starts with a BOF record that says what kind of sheet it is. An Excel 4.0 macro sheet (XLM) is
such a sheet: its formulas run when the workbook opens, which is why malware still uses them;
the macro policy (docs/security.md, "Attachments") refuses them in .xls as in .xlsx.

Records are walked in order from a file or stream read piece by piece; nothing is decoded
beyond the record headers, the BOF records' sheet type and the BOUNDSHEET records' sheet type.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from .containers import OLE_SIGNATURE, ContainerError, ole_streams

# BIFF2, BIFF3 and BIFF4 BOF record types → the length of their data.
_FLAT_BOF = {0x0009: 4, 0x0209: 6, 0x0409: 6}
_BOF8 = 0x0809  # BIFF5 and BIFF8
_EOF = 0x000A
_BOUNDSHEET = 0x0085
# BOF sheet types: worksheet, chart, Excel 4.0 macro sheet, BIFF4 workbook.
_WORKSHEET, _CHART, _MACRO_SHEET, _WORKBOOK = 0x0010, 0x0020, 0x0040, 0x0100
_FLAT_TYPES = frozenset({_WORKSHEET, _CHART, _MACRO_SHEET, _WORKBOOK})
# BOUNDSHEET's sheet type byte (MS-XLS 2.4.28): 1 an Excel 4.0 macro sheet, 6 a VBA module sheet.
_MACRO_BOUNDSHEETS = frozenset({0x01, 0x06})
# A BIFF5/8 BOF record of a macro sheet, anywhere in a Workbook stream: type 0x0809, length 8
# (BIFF5, version 0x0500) or 16 (BIFF8, version 0x0600), sheet type 0x0040. Eight fixed bytes,
# so a cell value matching by chance is as good as impossible; a real macro sheet always has it.
_MACRO_BOF8 = re.compile(rb"\x09\x08(?:\x08\x00\x00\x05|\x10\x00\x00\x06)\x40\x00")
_WORKBOOK_STREAMS = frozenset({"workbook", "book"})
# A real sheet or a workbook's global part holds far fewer records (cells of a BIFF2–4 sheet
# included); a file that holds more is refused rather than walked for seconds.
MAX_RECORDS = 250_000
# Every Workbook and Book stream is scanned (Excel 97 & 5.0/95 dual-format files have both;
# a decoy in front must not hide the one Excel opens); more than this is no real workbook.
MAX_WORKBOOK_STREAMS = 4
_PIECE = 1 << 16


def _file_pieces(fh: BinaryIO) -> Iterator[bytes]:
    """A whole file from its first byte, in pieces."""
    fh.seek(0)
    while piece := fh.read(_PIECE):
        yield piece


def _records(pieces: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """(type, data) of each record, in order; (-1, rest) for bytes that are no whole record.

    ContainerError beyond MAX_RECORDS: what follows is not proven harmless.
    """
    buffer, at, count = b"", 0, 0
    source = iter(pieces)
    while True:
        if len(buffer) - at < 4 or len(buffer) - at < 4 + _length(buffer, at):
            more = next(source, b"")
            if more:
                buffer = buffer[at:] + more
                at = 0
                continue
            if at < len(buffer):
                yield -1, buffer[at:]
            return
        count += 1
        if count > MAX_RECORDS:
            raise ContainerError("too many records")
        kind, length = struct.unpack_from("<HH", buffer, at)
        yield kind, buffer[at + 4 : at + 4 + length]
        at += 4 + length


def _length(buffer: bytes, at: int) -> int:
    """The data length of the record header at `at` (0 while the header is incomplete)."""
    return int(struct.unpack_from("<H", buffer, at + 2)[0]) if len(buffer) - at >= 4 else 0


def is_flat_biff(fh: BinaryIO, size: int) -> bool:
    """A BIFF2–4 sheet or BIFF4 workbook: a BOF record first, records end to end, EOF last.

    Only NUL bytes may follow the last EOF (some writers pad to a block). A BOF in front of
    something else, or records that run past the end, are refused.
    """
    fh.seek(0)
    head = fh.read(8)
    if len(head) < 8:
        return False
    kind, length, _, sheet = struct.unpack("<HHHH", head)
    if _FLAT_BOF.get(kind) != length or sheet not in _FLAT_TYPES:
        return False
    last = -1
    try:
        for kind, data in _records(_file_pieces(fh)):
            if kind == -1 or (kind == 0 and not data):
                if data.strip(b"\0"):
                    return False
                continue
            last = kind
    except ContainerError:
        return False
    return last == _EOF


def has_macro_sheets(fh: BinaryIO, size: int) -> bool:
    """Whether an .xls holds an Excel 4.0 macro sheet or an Excel 5 VBA module sheet.

    BIFF5/8: a BOUNDSHEET record of the workbook's global part that declares one, or a macro
    sheet's BOF anywhere in a Workbook (or Book) stream, every one of them. BIFF2–4: a macro sheet's BOF anywhere.
    Anything else (a Word file, RTF) has no BIFF records: False.
    """
    fh.seek(0)
    head = fh.read(8)
    if head.startswith(OLE_SIGNATURE):
        streams = ole_streams(fh, size, _WORKBOOK_STREAMS)
        if len(streams) > MAX_WORKBOOK_STREAMS:
            raise ContainerError("too many workbook streams")
        return any(_workbook_has_macro_sheets(stream) for stream in streams)
    if len(head) == 8 and struct.unpack_from("<H", head)[0] in _FLAT_BOF:
        for kind, data in _records(_file_pieces(fh)):
            if kind in _FLAT_BOF and data[2:4] == _MACRO_SHEET.to_bytes(2, "little"):
                return True
    return False


def _workbook_has_macro_sheets(stream: Iterator[bytes]) -> bool:
    """Walk the global part to its EOF for BOUNDSHEETs, and scan the whole stream for BOFs."""
    found = False
    tail = b""

    def scanned() -> Iterator[bytes]:
        nonlocal found, tail
        for piece in stream:
            window = tail + piece
            found = found or _MACRO_BOF8.search(window) is not None
            tail = window[-7:]
            yield piece

    pieces = scanned()
    for kind, data in _records(pieces):
        if kind == _BOUNDSHEET and len(data) > 5 and data[5] in _MACRO_BOUNDSHEETS:
            return True
        if kind in (_EOF, -1):
            break
    for _ in pieces:  # the rest of the stream, for the scan
        pass
    return found
