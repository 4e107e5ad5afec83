"""Structural checks on zip and OLE2 containers: read their directories, never their contents.

Nothing here inflates, extracts or executes. A zip's central directory and an OLE2 file's FAT and
directory sectors are bookkeeping of bounded size; a zip bomb or a hostile macro inside is never
touched, so checking one costs the same as checking any other file of its size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

# A CV or a work sample holds tens of files; a central directory listing more is refused before
# anything is parsed (each entry costs memory, a 20 MB directory could list 450,000 of them).
MAX_ZIP_ENTRIES = 10_000
# Ample for any real document's directory (4 entries per 512-byte sector), bounded for a hostile one.
MAX_OLE_DIRECTORY_SECTORS = 1_024

ZIP_LOCAL = b"PK\x03\x04"
ZIP_END = b"PK\x05\x06"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END = b"PK\x06\x06"
_ZIP_CENTRAL = b"PK\x01\x02"
_CENTRAL_HEADER = struct.Struct(
    "<8xHH16xHHH8xI"
)  # flags, method, name/extra/comment length, offset
_OLE_END = 0xFFFFFFFE


class ContainerError(Exception):
    """The container's own bookkeeping is inconsistent, so nothing it claims can be trusted."""


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One central-directory record: what the archive says it holds, without opening it."""

    name: str
    method: int


def _read_at(fh: BinaryIO, offset: int, length: int) -> bytes:
    """Exactly `length` bytes at `offset`, or ContainerError: a short read is a broken container."""
    if offset < 0 or length < 0 or offset > 2**62:  # offsets come from the file: never trust them
        raise ContainerError("offset out of range")
    fh.seek(offset)
    data = fh.read(length)
    if len(data) != length:
        raise ContainerError("truncated")
    return data


def _zip_listing(fh: BinaryIO, size: int, *, allow_empty: bool) -> list[ZipEntry] | None:
    """The entries of a zip that starts at byte 0 (nothing glued in front), else None."""
    fh.seek(0)
    head = fh.read(4)
    if head != ZIP_LOCAL and not (allow_empty and head == ZIP_END):
        return None
    try:
        return zip_entries(fh, size)
    except ContainerError:
        return None


def _zip_directory_span(fh: BinaryIO, size: int) -> tuple[int, int, int]:
    """Offset, size and entry count of the central directory, from the (zip64) end record."""
    tail_start = max(0, size - 22 - 0xFFFF)  # the end record may be followed by a comment
    tail = _read_at(fh, tail_start, size - tail_start)
    at = tail.rfind(ZIP_END)
    if at < 0 or len(tail) - at < 22:
        raise ContainerError("no end of central directory")
    disk, cd_disk, _, count, cd_size, cd_offset = struct.unpack_from("<HHHHII", tail, at + 4)
    if disk or cd_disk:
        raise ContainerError("multi-volume archive")
    limit = tail_start + at
    if count == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):
        locator = _read_at(fh, limit - 20, 20) if limit >= 20 else b""
        if not locator.startswith(_ZIP64_LOCATOR):
            raise ContainerError("zip64 locator missing")
        (limit,) = struct.unpack_from("<Q", locator, 8)
        record = _read_at(fh, limit, 56)
        if not record.startswith(_ZIP64_END):
            raise ContainerError("zip64 end record missing")
        count, cd_size, cd_offset = struct.unpack_from("<QQQ", record, 32)
    if cd_offset + cd_size > limit:
        raise ContainerError("central directory overlaps its end record")
    return cd_offset, cd_size, count


def zip_entries(fh: BinaryIO, size: int, *, max_entries: int = MAX_ZIP_ENTRIES) -> list[ZipEntry]:
    """The central directory in archive order; ContainerError when it cannot be read."""
    cd_offset, cd_size, count = _zip_directory_span(fh, size)
    if count > max_entries:
        raise ContainerError("too many entries")
    directory = _read_at(fh, cd_offset, cd_size)
    entries, pos = [], 0
    for _ in range(count):
        if directory[pos : pos + 4] != _ZIP_CENTRAL or pos + _CENTRAL_HEADER.size > len(directory):
            raise ContainerError("bad central directory record")
        flags, method, name_len, extra_len, comment_len, _ = _CENTRAL_HEADER.unpack_from(
            directory, pos
        )
        raw = directory[pos + 46 : pos + 46 + name_len]
        pos += 46 + name_len + extra_len + comment_len
        if pos > len(directory):
            raise ContainerError("central directory record overruns")
        name = raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        entries.append(ZipEntry(name, method))
    return entries


def is_zip(fh: BinaryIO, size: int) -> bool:
    """A zip whose central directory reads cleanly; an empty archive counts."""
    return _zip_listing(fh, size, allow_empty=True) is not None


def is_ooxml(fh: BinaryIO, size: int, main_part: str) -> bool:
    """An Office Open XML package: content types, the main part, and no VBA project.

    A macro project inside a .docx/.xlsx/.pptx means a renamed .docm/.xlsm/.pptm, which Office
    refuses to open under that name anyway; it is the usual way macros are smuggled past filters.
    Part names in OPC are case-insensitive.
    """
    entries = _zip_listing(fh, size, allow_empty=False)
    if entries is None:
        return False
    names = {entry.name.lower() for entry in entries}
    has_macros = any(name.rsplit("/", 1)[-1] == "vbaproject.bin" for name in names)
    return "[content_types].xml" in names and main_part in names and not has_macros


def is_odf(fh: BinaryIO, size: int, mimetype: bytes) -> bool:
    """An OpenDocument package: first entry `mimetype`, stored, holding exactly the media type."""
    entries = _zip_listing(fh, size, allow_empty=False)
    if not entries or entries[0].name != "mimetype" or entries[0].method != 0:
        return False
    if "content.xml" not in {entry.name for entry in entries}:
        return False
    try:
        header = _read_at(fh, 0, 30)
        flags, method, stored, name_len, extra_len = struct.unpack_from("<6xHH8xI4xHH", header)
        name = _read_at(fh, 30, name_len)
        body = _read_at(fh, 30 + name_len + extra_len, len(mimetype))
    except ContainerError:
        return False
    # With a data descriptor (flag bit 3) the local header may carry size 0.
    sized = stored == len(mimetype) or (flags & 0x8 and stored == 0)
    return method == 0 and bool(sized) and name == b"mimetype" and body == mimetype


def ole_stream_names(fh: BinaryIO, size: int) -> set[str]:
    """Names of the streams in an OLE2 compound file, read by following the directory's FAT chain."""
    header = _read_at(fh, 0, 512)
    if not header.startswith(OLE_SIGNATURE):
        raise ContainerError("not a compound file")
    major, byte_order, shift = struct.unpack_from("<HHH", header, 26)
    if byte_order != 0xFFFE or (major, shift) not in {(3, 9), (4, 12)}:
        raise ContainerError("bad compound file header")
    sector = 1 << shift
    per_sector = sector // 4
    first_dir = struct.unpack_from("<I", header, 48)[0]
    first_difat, difat_count = struct.unpack_from("<II", header, 68)
    header_difat = struct.unpack_from("<109I", header, 76)
    sectors = (size + sector - 1) // sector - 1  # the header occupies the first sector's place

    def at(index: int) -> int:
        if index >= sectors:
            raise ContainerError("sector out of range")
        return (index + 1) * sector

    def fat_sector(k: int) -> int:
        if k < 109:
            return header_difat[k]
        hops, slot = divmod(k - 109, per_sector - 1)  # each DIFAT sector ends with a next pointer
        if hops >= difat_count:
            raise ContainerError("DIFAT too short")
        difat = first_difat
        for _ in range(hops):
            difat = struct.unpack_from("<I", _read_at(fh, at(difat) + sector - 4, 4))[0]
        return struct.unpack_from("<I", _read_at(fh, at(difat) + 4 * slot, 4))[0]

    names: set[str] = set()
    current, seen = first_dir, 0
    while current != _OLE_END:
        seen += 1
        if seen > MAX_OLE_DIRECTORY_SECTORS:
            raise ContainerError("directory chain too long or looping")
        fh.seek(at(current))
        data = fh.read(sector)  # some writers cut the file's last sector short: take whole entries
        for entry in range(0, len(data) - 127, 128):
            name_len, kind = struct.unpack_from("<HB", data, entry + 64)
            if kind == 2 and 2 <= name_len <= 64:  # a stream
                names.add(data[entry : entry + name_len - 2].decode("utf-16-le", errors="replace"))
        fat_k, slot = divmod(current, per_sector)
        current = struct.unpack_from("<I", _read_at(fh, at(fat_sector(fat_k)) + 4 * slot, 4))[0]
    return names


def has_ole_stream(fh: BinaryIO, size: int, wanted: frozenset[str]) -> bool:
    """A readable compound file holding one of the streams that make it a Word/Excel/PowerPoint file."""
    try:
        names = {name.casefold() for name in ole_stream_names(fh, size)}
    except ContainerError:
        return False
    return bool(names & {name.casefold() for name in wanted})
