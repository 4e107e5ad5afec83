"""Structural checks on zip and OLE2 containers: read their directories, never their contents.

Nothing here extracts or executes, and archives are never inflated. A zip's central directory
and an OLE2 file's FAT and directory sectors are bookkeeping of bounded size; a zip bomb or a
hostile macro inside is never touched, so checking one costs the same as checking any other file
of its size. The one exception is the macro policy for OOXML packages (`has_macros`): it inflates
`[Content_Types].xml` and the `_rels/*.rels` parts, which are small XML, each and all together
under a cap (docs/security.md, "Attachments").
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from lxml import etree

from ..safexml import hardened_parser

# A CV or a work sample holds tens of files; a central directory listing more is refused before
# anything is parsed (each entry costs memory, a 20 MB directory could list 450,000 of them).
MAX_ZIP_ENTRIES = 10_000
# Ample for any real document's directory (4 entries per 512-byte sector), bounded for a hostile one.
MAX_OLE_DIRECTORY_SECTORS = 1_024
# The XML parts the macro policy reads from an OOXML package. [Content_Types].xml lists one
# Override of about 130 bytes per part, so MAX_ZIP_ENTRIES parts need 1.3 MB; a relationships
# part holds one line per link of its source part. Larger is refused, never truncated.
MAX_PACKAGE_XML_BYTES = 2 * 1024 * 1024
MAX_PACKAGE_XML_TOTAL = 8 * 1024 * 1024

ZIP_LOCAL = b"PK\x03\x04"
ZIP_END = b"PK\x05\x06"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END = b"PK\x06\x06"
_ZIP_CENTRAL = b"PK\x01\x02"
# flags, method, crc, compressed size, size, name/extra/comment length, local header offset
_CENTRAL_HEADER = struct.Struct("<8xHH4xIIIHHH8xI")
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, name and extra length
_ZIP64_EXTRA = 0x0001
_OLE_END = 0xFFFFFFFE
_OLE_STORAGE, _OLE_STREAM = 1, 2


class ContainerError(Exception):
    """The container's own bookkeeping is inconsistent, so nothing it claims can be trusted."""


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One central-directory record: what the archive says it holds, without opening it."""

    name: str
    method: int
    flags: int = 0
    crc: int = 0
    compressed_size: int = 0
    size: int = 0
    offset: int = 0


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


def _zip64_values(extra: bytes, wanted: list[bool]) -> list[int | None]:
    """The zip64 extended-information values for the fields marked 0xFFFFFFFF, in APPNOTE order."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if kind != _ZIP64_EXTRA:
            continue
        values: list[int | None] = []
        at = 0
        for flag in wanted:
            if flag and at + 8 <= len(body):
                values.append(struct.unpack_from("<Q", body, at)[0])
                at += 8
            else:
                values.append(None)
        return values
    return [None] * len(wanted)


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
        flags, method, crc, packed, unpacked, name_len, extra_len, comment_len, offset = (
            _CENTRAL_HEADER.unpack_from(directory, pos)
        )
        raw = directory[pos + 46 : pos + 46 + name_len]
        extra = directory[pos + 46 + name_len : pos + 46 + name_len + extra_len]
        pos += 46 + name_len + extra_len + comment_len
        if pos > len(directory):
            raise ContainerError("central directory record overruns")
        sizes = [unpacked, packed, offset]
        if 0xFFFFFFFF in sizes:
            big = _zip64_values(extra, [value == 0xFFFFFFFF for value in sizes])
            unpacked, packed, offset = (
                b if b is not None else s for b, s in zip(big, sizes, strict=True)
            )
        name = raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        entries.append(ZipEntry(name, method, flags, crc, packed, unpacked, offset))
    return entries


def is_zip(fh: BinaryIO, size: int) -> bool:
    """A zip whose central directory reads cleanly; an empty archive counts."""
    return _zip_listing(fh, size, allow_empty=True) is not None


def is_ooxml(fh: BinaryIO, size: int, main_part: str) -> bool:
    """An Office Open XML package: content types and the main part, each part named once.

    Part names in OPC are case-insensitive, and a package must not hold two equivalent ones
    (ECMA-376 Part 2, M1.12): two `[Content_Types].xml` entries would let a reader other than ours
    see a different package. Whether it carries macros is `has_macros`' question.
    """
    entries = _zip_listing(fh, size, allow_empty=False)
    if entries is None:
        return False
    names = [entry.name.lower() for entry in entries]
    unique = set(names)
    return len(unique) == len(names) and "[content_types].xml" in unique and main_part in unique


# The ODF media type is one short line; the `mimetype` entry is inflated up to this, no further.
_MAX_ODF_MIMETYPE = 256


def is_odf(fh: BinaryIO, size: int, mimetype: bytes) -> bool:
    """An OpenDocument package: a `mimetype` entry holding exactly the media type, and content.

    ODF asks for `mimetype` first and stored, so that tools can name the file from its first
    bytes; packages re-zipped by common tools have it deflated or further back, and LibreOffice
    opens them. So the entry may sit anywhere and be deflated (it is inflated under a tiny cap,
    its CRC checked); entry names must be unique, as in OOXML, so that no reader finds another
    `mimetype` or `content.xml` than ours.
    """
    entries = _zip_listing(fh, size, allow_empty=False)
    if not entries:
        return False
    names = {entry.name: entry for entry in entries}
    if len(names) != len(entries) or "content.xml" not in names or "mimetype" not in names:
        return False
    try:
        body = _inflate(fh, names["mimetype"], _MAX_ODF_MIMETYPE)
    except ContainerError:
        return False
    return body == mimetype


# --- OLE2 compound files ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OleEntry:
    """One directory entry of a compound file: a storage (folder) or a stream (file)."""

    name: str
    kind: int  # 1 storage, 2 stream (0 unused and 5 root are not listed)
    start: int = 0  # first sector (mini sector for a stream under the mini-stream cut-off)
    size: int = 0


class _Compound:
    """An OLE2 compound file's header and allocation tables, read on demand in small pieces."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        header = _read_at(fh, 0, 512)
        if not header.startswith(OLE_SIGNATURE):
            raise ContainerError("not a compound file")
        major, byte_order, shift, mini_shift = struct.unpack_from("<HHHH", header, 26)
        if byte_order != 0xFFFE or (major, shift) not in {(3, 9), (4, 12)} or mini_shift != 6:
            raise ContainerError("bad compound file header")
        self.fh = fh
        self.sector: int = 1 << shift
        self.per_sector = self.sector // 4
        self.first_dir, _, self.mini_cutoff, self.first_mini_fat = struct.unpack_from(
            "<IIII", header, 48
        )
        if self.mini_cutoff != 4096:  # fixed by MS-CFB 2.2; anything else is no Office file
            raise ContainerError("bad mini stream cut-off")
        self.first_difat, self.difat_count = struct.unpack_from("<II", header, 68)
        self.header_difat: tuple[int, ...] = struct.unpack_from("<109I", header, 76)
        # The header occupies the first sector's place; a chain longer than the file loops.
        self.sectors = (size + self.sector - 1) // self.sector - 1
        self.root = OleEntry("Root Entry", 5, _OLE_END, 0)

    def at(self, index: int) -> int:
        """The file offset of sector `index`."""
        if index >= self.sectors:
            raise ContainerError("sector out of range")
        return (index + 1) * self.sector

    def _fat_sector(self, k: int) -> int:
        """Where the k-th sector of the FAT lives, from the header's DIFAT or the DIFAT chain."""
        if k < 109:
            return self.header_difat[k]
        hops, slot = divmod(k - 109, self.per_sector - 1)  # each DIFAT sector ends with a link
        if hops >= self.difat_count:
            raise ContainerError("DIFAT too short")
        difat = self.first_difat
        for _ in range(hops):
            difat = self._word(self.at(difat) + self.sector - 4)
        return self._word(self.at(difat) + 4 * slot)

    def _word(self, offset: int) -> int:
        return int(struct.unpack("<I", _read_at(self.fh, offset, 4))[0])

    def chain(self, first: int, limit: int) -> Iterator[int]:
        """The sectors of a chain in the FAT, at most `limit` of them (more means a loop)."""
        current, seen = first, 0
        while current != _OLE_END:
            seen += 1
            if seen > limit:
                raise ContainerError("chain too long or looping")
            # Checked before the next link is looked up, whoever consumes the chain: an index
            # far past the file would make _fat_sector walk a looping DIFAT chain for seconds.
            self.at(current)
            yield current
            fat_k, slot = divmod(current, self.per_sector)
            current = self._word(self.at(self._fat_sector(fat_k)) + 4 * slot)

    def entries(self) -> list[OleEntry]:
        """Every storage and stream in the directory; the root entry is kept in `self.root`."""
        entries: list[OleEntry] = []
        for current in self.chain(self.first_dir, MAX_OLE_DIRECTORY_SECTORS):
            self.fh.seek(self.at(current))
            data = self.fh.read(self.sector)  # some writers cut the last sector short
            for entry in range(0, len(data) - 127, 128):
                name_len, kind = struct.unpack_from("<HB", data, entry + 64)
                start, length = struct.unpack_from("<IQ", data, entry + 116)
                if self.sector == 512:  # version 3 leaves the size's high half undefined
                    length &= 0xFFFFFFFF
                if kind == 5 and not entries and entry == 0:
                    self.root = OleEntry("Root Entry", 5, start, length)
                elif kind in (_OLE_STORAGE, _OLE_STREAM) and 2 <= name_len <= 64:
                    name = data[entry : entry + name_len - 2].decode("utf-16-le", errors="replace")
                    entries.append(OleEntry(name, kind, start, length))
        return entries

    def stream(self, entry: OleEntry) -> Iterator[bytes]:
        """A stream's data, piece by piece, from the FAT or from the mini stream."""
        left = entry.size
        if left < self.mini_cutoff:
            yield from self._mini_stream(entry.start, left)
            return
        for current in self.chain(entry.start, self.sectors):
            if left <= 0:
                return
            piece = _read_at(self.fh, self.at(current), min(self.sector, left))
            left -= len(piece)
            yield piece
        if left > 0:
            raise ContainerError("stream shorter than its directory entry")

    def _mini_stream(self, first: int, left: int) -> Iterator[bytes]:
        """A small stream's 64-byte mini sectors, kept inside the root entry's chain."""
        container = list(self.chain(self.root.start, self.sectors)) if left else []
        mini_fat = list(self.chain(self.first_mini_fat, self.sectors)) if left else []
        current, seen = first, 0
        while left > 0:
            seen += 1
            if current == _OLE_END or seen > len(container) * self.sector // 64:
                raise ContainerError("mini stream chain broken")
            big, offset = divmod(current * 64, self.sector)
            if big >= len(container):
                raise ContainerError("mini sector out of range")
            piece = _read_at(self.fh, self.at(container[big]) + offset, min(64, left))
            left -= len(piece)
            yield piece
            fat_k, slot = divmod(current, self.per_sector)
            if fat_k >= len(mini_fat):
                raise ContainerError("mini FAT too short")
            current = self._word(self.at(mini_fat[fat_k]) + 4 * slot)


def ole_entries(fh: BinaryIO, size: int) -> list[OleEntry]:
    """The storages and streams of an OLE2 compound file, read by following the directory's FAT chain."""
    return _Compound(fh, size).entries()


def ole_streams(fh: BinaryIO, size: int, wanted: frozenset[str]) -> list[Iterator[bytes]]:
    """The data of every stream named one of `wanted` (case-insensitive), wherever it hangs in
    the tree and in directory order, each piece by piece (read one after the other).

    Every one, not the first: a reader picks its own (Excel takes `Workbook` before `Book`,
    and the root's before a storage's), so a check that looked at the first only could be
    shown a decoy placed in front of the stream Excel opens."""
    compound = _Compound(fh, size)
    return [
        compound.stream(entry)
        for entry in compound.entries()
        if entry.kind == _OLE_STREAM and entry.name.casefold() in wanted
    ]


def ole_stream_names(fh: BinaryIO, size: int) -> set[str]:
    """Names of the streams in an OLE2 compound file."""
    return {entry.name for entry in ole_entries(fh, size) if entry.kind == _OLE_STREAM}


def has_ole_stream(fh: BinaryIO, size: int, wanted: frozenset[str]) -> bool:
    """A readable compound file holding one of the streams that make it a Word/Excel/PowerPoint file."""
    try:
        names = {name.casefold() for name in ole_stream_names(fh, size)}
    except ContainerError:
        return False
    return bool(names & {name.casefold() for name in wanted})


# --- the macro policy --------------------------------------------------------------------------------
#
# One policy for every Office container we accept (.docx .xlsx .pptx, .doc .xls .ppt): a file
# that carries a macro project is refused, whatever it is called inside. A VBA project is an
# OLE2 storage named VBA holding `_VBA_PROJECT` and `dir`; Word 97–2003 keeps it in a `Macros`
# storage, Excel in `_VBA_PROJECT_CUR`, and OOXML in a part (by convention vbaProject.bin, itself
# a compound file) that the package declares by content type and wires in by relationship.
# Excel 4.0 macro sheets are macros too. Names are compared case-insensitively, as Office does.

# Storages (OLE2) that hold or are a VBA project.
MACRO_STORAGES = frozenset({"macros", "_vba_project_cur", "vba"})
# Streams (OLE2) that exist only in a VBA project.
MACRO_STREAMS = frozenset({"_vba_project"})
# The OOXML part name every Office version uses for the project.
MACRO_PART = "vbaproject.bin"
# OOXML content types of macro parts; and any type containing MACRO_ENABLED (the main part of a
# .docm/.xlsm/.pptm/.xlsb/.dotm/…, e.g. application/vnd.ms-word.document.macroEnabled.main+xml).
MACRO_CONTENT_TYPES = frozenset(
    {
        "application/vnd.ms-office.vbaproject",
        "application/vnd.ms-office.vbaprojectsignature",
        "application/vnd.ms-word.vbadata+xml",
        "application/vnd.ms-excel.macrosheet+xml",
        "application/vnd.ms-excel.intlmacrosheet+xml",
        "application/vnd.ms-excel.macrosheet",
    }
)
MACRO_ENABLED = "macroenabled"
# OOXML relationship types, by their last segment (the namespace differs between Office's
# transitional and strict schemas): http://schemas.microsoft.com/office/2006/relationships/vbaProject …
MACRO_RELATIONSHIPS = frozenset({"vbaproject", "wordvbadata", "xlmacrosheet", "xlintlmacrosheet"})

_RELS_PART = re.compile(r"(?:^|/)_rels/[^/]*\.rels\Z")
_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}Types"


def has_macros(fh: BinaryIO, size: int) -> bool:
    """Whether an Office file carries macros, under the one policy above.

    Call it on a file that passed its structure check. ContainerError when the package cannot be
    read far enough to tell (an oversized, encrypted or malformed XML part): that is no proof of
    absence, so the caller refuses the file as broken.
    """
    head = _read_at(fh, 0, 8)
    if head.startswith(OLE_SIGNATURE):
        entries = ole_entries(fh, size)
        storages = {e.name.casefold() for e in entries if e.kind == _OLE_STORAGE}
        streams = {e.name.casefold() for e in entries if e.kind == _OLE_STREAM}
        # Every entry counts, wherever it hangs: no tree walk that a damaged tree could defeat.
        return bool(storages & MACRO_STORAGES or streams & MACRO_STREAMS)
    if head.startswith(ZIP_LOCAL):
        return _package_has_macros(fh, size)
    return False  # RTF saved as .doc: the format has no place for a macro project


def _package_has_macros(fh: BinaryIO, size: int) -> bool:
    """An OOXML package that holds a macro part, declares one by content type or wires one in."""
    parts = {entry.name.lower(): entry for entry in zip_entries(fh, size)}
    if any(name.rsplit("/", 1)[-1] == MACRO_PART for name in parts):
        return True
    budget = [MAX_PACKAGE_XML_TOTAL]
    if "[content_types].xml" not in parts:
        raise ContainerError("no content types part")
    types = _package_xml(fh, parts["[content_types].xml"], budget)
    if types.tag != _CONTENT_TYPES:
        raise ContainerError("not a content types part")
    for element in types.iter():
        kind = str(element.get("ContentType", "")).split(";", 1)[0].strip().lower()
        if kind in MACRO_CONTENT_TYPES or MACRO_ENABLED in kind:
            return True
    for name, entry in parts.items():
        if not _RELS_PART.search(name):
            continue
        for element in _package_xml(fh, entry, budget).iter():
            kind = str(element.get("Type", "")).strip().rstrip("/").lower()
            if kind.rsplit("/", 1)[-1] in MACRO_RELATIONSHIPS:
                return True
    return False


def _package_xml(fh: BinaryIO, entry: ZipEntry, budget: list[int]) -> etree._Element:
    """One small XML part of a package, inflated under the caps and parsed without a DTD.

    lxml rather than a regular expression: attribute values may spell any letter as a character
    reference (`vba&#x50;roject`) and the part may be UTF-16, and Office reads both; a real XML
    parser sees what Office sees. The parser resolves no entities, loads no DTD and opens no
    network or file; a DOCTYPE at all is refused, as OPC requires (ECMA-376 Part 2, M1.17).
    """
    data = _inflate(fh, entry, min(MAX_PACKAGE_XML_BYTES, budget[0]))
    budget[0] -= len(data)
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as error:
        raise ContainerError("malformed XML part") from error
    if root.getroottree().docinfo.doctype:
        raise ContainerError("DTD in a package part")
    return root


def _inflate(fh: BinaryIO, entry: ZipEntry, cap: int) -> bytes:
    """A zip entry's data, at most `cap` bytes; ContainerError if larger, encrypted or inconsistent."""
    if entry.flags & 0x1:
        raise ContainerError("encrypted part")
    if entry.size > cap or entry.compressed_size > cap + 65_536:  # deflate adds < 0.1 %
        raise ContainerError("part too large")
    signature, name_len, extra_len = _LOCAL_HEADER.unpack(_read_at(fh, entry.offset, 30))
    if signature != ZIP_LOCAL:
        raise ContainerError("no local header")
    raw = _read_at(fh, entry.offset + 30, name_len)
    if raw.decode("utf-8" if entry.flags & 0x800 else "cp437", errors="replace") != entry.name:
        raise ContainerError("local and central names differ")
    packed = _read_at(fh, entry.offset + 30 + name_len + extra_len, entry.compressed_size)
    if entry.method == 0:
        data = packed
    elif entry.method == 8:
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(packed, cap + 1)  # never more than the cap, whatever it says
        except zlib.error as error:
            raise ContainerError("bad deflate data") from error
        if len(data) > cap or not inflater.eof:
            raise ContainerError("part too large or cut short")
    else:
        raise ContainerError("compression method Office does not write")
    if len(data) != entry.size or zlib.crc32(data) != entry.crc:
        raise ContainerError("part does not match its directory record")
    return data
