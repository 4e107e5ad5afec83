"""Attachment names and contents: clean what candidates send, and prove each file is what it claims.

Checks run cheapest first (docs/applications.md; docs/personio.md §2.1 for the 23 extensions): the name's
extension, the size, libmagic's verdict on the content (for text, only whether it names something
that runs), then a structural look at the container. Office files then go through one macro
policy (containers.has_macros for VBA, biff.has_macro_sheets for Excel 4.0 macro sheets).
Every rejection carries a short reason tag for logs, metrics and translated messages; file names and contents are never
logged. Nothing is executed or extracted, and nothing is decompressed but an OOXML package's few
small XML parts and an ODF package's `mimetype`, under caps (docs/security.md, "Attachments").
"""

from __future__ import annotations

import codecs
import re
import struct
import threading
import unicodedata
import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from ..forms.text import strip_invisible
from .biff import has_macro_sheets, is_flat_biff
from .containers import ContainerError, has_macros, has_ole_stream, is_odf, is_ooxml, is_zip
from .rules import LIMITS, FileProblem

LIBMAGIC_MISSING = (
    "libmagic is missing: install Debian's libmagic1 (apt-get install libmagic1) "
    "or your system's file/libmagic package"
)
try:
    import magic
except ModuleNotFoundError:
    raise  # python-magic itself is not installed: a broken install, which pip names
except ImportError as exc:
    # python-magic loads the C library while being imported and raises a bare ImportError
    # without it; name the package to install instead (the CLI prints just this line).
    raise ImportError(LIBMAGIC_MISSING) from exc

# Personio's per-file limit (docs/personio.md §2.1), as careers/applications/rules.py reads it.
MAX_FILE_BYTES = LIMITS.file_bytes

# Reason tags: stable identifiers, mapped by the caller to translated messages and log fields.
EXTENSION = FileProblem.EXTENSION
EMPTY = FileProblem.EMPTY
TOO_LARGE = FileProblem.TOO_LARGE
CONTENT_MISMATCH = FileProblem.CONTENT_MISMATCH
CONTAINER_STRUCTURE = FileProblem.CONTAINER_STRUCTURE
UNREADABLE = FileProblem.UNREADABLE
MACRO = FileProblem.MACRO

_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
# What libmagic 5.44 answers for a compound file it cannot name from its summary information or
# stream names (a .ppt without SummaryInformation gets x-ole-storage). The stream check below
# still demands the right main stream, so a generic compound file does not pass.
_OLE_GENERIC = ("application/vnd.ms-office", "application/x-ole-storage", "application/CDFV2")
# libmagic names an OOXML package only from its first few zip entries: with docProps parts before
# the main part it says application/octet-stream, with an unexpected first entry application/zip.
# An ODF package re-zipped with `mimetype` deflated or not first is application/zip to it too.
# The structure checks below are what tell a real package from a renamed zip.
_ZIP_FALLBACK = ("application/zip", "application/octet-stream")
# What libmagic says about most text. For .txt and .csv it does not decide, though: it names
# a text from its first line, and CVs beginning "PAUL SMITH" or "SPRACHKENNTNISSE" (HP-GL
# plotter commands to it) or "Date: …" (an e-mail) are still text. The byte scan decides, and
# libmagic's verdict only refuses what would run or render if renamed (_ACTIVE_TEXT).
_TEXT = ("text/plain", "text/csv")
_ACTIVE_TEXT = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "application/javascript",
        "text/javascript",
        "application/postscript",
        "application/pdf",
        "text/rtf",
        "application/rtf",
        "text/x-php",
        "text/x-perl",
        "text/x-ruby",
        "text/x-lua",
        "text/x-tcl",
        "text/x-awk",
        "text/x-msdos-batch",
    }
)  # and every type naming a script (text/x-shellscript, text/x-script.python, …)

# Extension → the MIME types libmagic may report for it; the first is the canonical one.
_TYPES: dict[str, tuple[str, ...]] = {
    "pdf": ("application/pdf",),
    "docx": (_OOXML + "wordprocessingml.document", *_ZIP_FALLBACK),
    "xlsx": (_OOXML + "spreadsheetml.sheet", *_ZIP_FALLBACK),
    "pptx": (_OOXML + "presentationml.presentation", *_ZIP_FALLBACK),
    "odt": (_ODF + "text", *_ZIP_FALLBACK),
    "ods": (_ODF + "spreadsheet", *_ZIP_FALLBACK),
    # Word has long saved RTF under .doc when asked for "Rich Text"; such files are common.
    "doc": ("application/msword", *_OLE_GENERIC, "text/rtf", "application/rtf"),
    # libmagic names bare BIFF4 worksheets (Excel 4.0) application/vnd.ms-excel, and every other
    # bare BIFF2–4 file (Excel 2.1–4.0 charts, macro sheets, BIFF4 workbooks) octet-stream;
    # the record walk (biff.is_flat_biff) then decides, and the macro policy still applies.
    "xls": ("application/vnd.ms-excel", *_OLE_GENERIC, "application/octet-stream"),
    "ppt": ("application/vnd.ms-powerpoint", *_OLE_GENERIC),
    "rtf": ("text/rtf", "application/rtf"),
    "txt": _TEXT,
    "csv": _TEXT,
    "jpg": ("image/jpeg",),
    "jpeg": ("image/jpeg",),
    "png": ("image/png",),  # animated PNG too, in 5.44
    "gif": ("image/gif",),
    "bmp": ("image/bmp", "image/x-ms-bmp"),  # x-ms-bmp: libmagic before 5.38
    "tif": ("image/tiff",),
    "tiff": ("image/tiff",),
    "zip": ("application/zip",),
    "gz": ("application/gzip", "application/x-gzip"),  # x-gzip: older libmagic
    "7z": ("application/x-7z-compressed",),
    # Names other libmagic versions and tools use; the structural checks still apply.
    "rar": ("application/x-rar", "application/vnd.rar", "application/x-rar-compressed"),
}
ALLOWED_TYPES: Mapping[str, frozenset[str]] = MappingProxyType(
    {e: frozenset(t) for e, t in _TYPES.items()}
)
# The type to declare when forwarding a file that passed: libmagic's answer may be a fallback.
CANONICAL_TYPES: Mapping[str, str] = MappingProxyType({e: t[0] for e, t in _TYPES.items()})


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """The outcome for one file: `reason` is a tag when rejected, `mimetype` what libmagic saw."""

    ok: bool
    reason: FileProblem | None
    extension: str
    mimetype: str


# --- names ------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[/\\]")
# Characters Windows refuses in names; a recruiter downloading the file would hit them.
_RESERVED = str.maketrans(dict.fromkeys('<>:"|?*', "_"))
_MAX_EXTENSION = 16


def _split_extension(name: str) -> tuple[str, str]:
    """Stem and extension; an extension is short and alphanumeric, or the name has none."""
    stem, dot, ext = name.rpartition(".")
    if dot and 0 < len(ext) <= _MAX_EXTENSION and ext.isalnum():
        return stem, ext
    return name, ""


# Names Windows takes for a device, whatever the extension and in any case: "CON.pdf",
# "nul.tar.gz" and "COM1 .docx" cannot be saved under that name (the superscript digits count
# as digits there too). Such a name gets a "_" in front.
_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789¹²³"}
)
# Private-use and unassigned code points: no font a recruiter has shows them.
_UNSHOWN = frozenset({"Co", "Cn"})


def _is_device(stem: str) -> bool:
    """Whether Windows would read the name as a device: what comes before the first dot, less
    trailing spaces, is one of `_DEVICES`."""
    return stem.partition(".")[0].rstrip(" ").upper() in _DEVICES


def clean_filename(name: str, *, max_length: int = 120) -> str:
    """A name safe to store, show and send on, and to save on Windows: no path, no control,
    bidi or other invisible characters (the rule form fields follow, `strip_invisible`), no
    device name, at most `max_length` characters with the extension kept."""
    if max_length < 2 * _MAX_EXTENSION:
        raise ValueError("max_length must leave room for a stem and an extension")
    last = _SEPARATORS.split(name)[-1]  # "..%2F" stays literal: nothing here decodes URLs
    spaced = "".join(
        " " if c.isspace() else c for c in last if unicodedata.category(c) not in _UNSHOWN
    )
    text = strip_invisible(spaced).translate(_RESERVED)
    text = " ".join(text.split()).rstrip(". ")  # Windows drops trailing dots and spaces too
    stem, ext = _split_extension(text)
    suffix = f".{ext}" if ext else ""
    stem = stem.strip(". ")  # no hidden files, no ".."
    if _is_device(stem):
        stem = "_" + stem
    stem = stem[: max_length - len(suffix)].rstrip(". ")
    return (stem or "document") + suffix


def extension_of(name: str) -> str:
    """The lower-case extension of the cleaned name ("cv.PDF" → "pdf", "a.tar.gz" → "gz")."""
    return _split_extension(clean_filename(name))[1].lower()


# --- content ----------------------------------------------------------------------------------


class _Sniffer:
    """One libmagic handle per process, created on first use; libmagic handles are not thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._magic: magic.Magic | None = None

    def __call__(self, path: Path) -> str:
        with self._lock:
            return self._handle().from_file(str(path))

    def ready(self) -> str:
        """Name one file type now, so a library or database that cannot work is found at
        start, not at the first upload; libmagic's version ("libmagic 5.44") when it works."""
        with self._lock:
            self._handle().from_buffer(b"%PDF-1.4\n")
        number = magic.version()
        return f"libmagic {number // 100}.{number % 100:02d}"

    def _handle(self) -> magic.Magic:
        """The handle, created on first use (the caller holds the lock)."""
        if self._magic is None:
            self._magic = magic.Magic(mime=True)
        return self._magic


sniff_mimetype = _Sniffer()


def _head(fh: BinaryIO, length: int) -> bytes:
    fh.seek(0)
    return fh.read(length)


# PDF white-space (ISO 32000-1 §7.2.2) and the pieces of a cross-reference section.
_WS = rb"[\x00\t\n\x0c\r ]"
_STARTXREF = re.compile(rb"startxref" + _WS + rb"+(\d{1,12})" + _WS + rb"*%%EOF")
_XREF_KEYWORD = re.compile(rb"(?<=" + _WS + rb")xref(?=" + _WS + rb")")
_SUBSECTION = re.compile(_WS + rb"*(\d{1,10})[ \t]+(\d{1,10})[ \t]*(?:\r\n|\r|\n)")
_XREF_ENTRY = re.compile(rb"\d{10} \d{5} [fn](?: \r\n| \r| \n|\r\n|\r|\n)")
_TRAILER = re.compile(_WS + rb"*trailer" + _WS + rb"*<<")
_XREF_STREAM = re.compile(rb"(?<!\d)\d{1,10}" + _WS + rb"+\d{1,5}" + _WS + rb"+obj" + _WS + rb"*<<")
_TYPE_XREF = re.compile(rb"/Type" + _WS + rb"*/XRef(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])")
_PDF_TAIL = 2048  # %%EOF in the last 1024 bytes, and the startxref line in front of it
# Producers that miscount their own output (a CR LF counted as one byte, a BOM or blank lines
# put in front of the header later) leave startxref a few bytes off, and every reader repairs
# that by looking nearby. We look within this many bytes either side, and no further.
_PDF_SLACK = 64
_XREF_STREAM_DICT = 8192  # an xref stream's dictionary (/W /Index /ID …) fits in this
# Bytes after the last %%EOF that readers skip: white space, and the NUL bytes some producers
# pad with (Selenium's print-to-PDF leaves 20 KB of them).
_PDF_PADDING = b"\x00\t\n\x0c\r "
_PDF_SCAN = 1 << 16  # the piece read at a time when looking for a section startxref missed
_PDF_SCAN_KEEP = 64  # candidates kept from that scan, the last ones in the file
_MAX_SUBSECTIONS = 10_000  # per file; incremental updates add one per run of changed objects
_MAX_XREF_OBJECTS = 8_388_607  # ISO 32000-1 Annex C: the most objects a PDF may have


def _is_pdf(fh: BinaryIO, size: int) -> bool:
    """PDF header at the start, and a cross-reference section where the last startxref says,
    or, when it says wrong, in front of it.

    Readers accept "%PDF-" anywhere in the first 1024 bytes, and libmagic 5.44 finds it even behind
    an HTML page. Content in front of the header is how PDF polyglots are built, so we accept it
    only at byte 0 after an optional UTF-8 BOM and whitespace, followed by a version "d.d"; and
    "%%EOF" must be in the last 1024 bytes, where readers look for it.

    Header and trailer are easily faked around an HTML page or a script, so the structure must be
    there too: the last "startxref N %%EOF" (linearized and incrementally updated files have
    several; the last is the one readers follow) must point at a classic xref table that ends in
    a trailer dictionary, or at a cross-reference stream object (/Type /XRef, PDF 1.5). Only the
    tail and small windows at the offsets it names are read, whatever the file's size.

    Every viewer repairs a pointer that misses by more than the slack (100 bytes, 1.4 KB in real
    files) by scanning for the section; so do we then, with the same demands on what it finds
    (_xref_section_before). NUL padding after %%EOF is skipped, as readers skip it.
    """
    head = _head(fh, 1024)
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\f")
    if not re.match(rb"%PDF-\d\.\d", body):
        return False
    end = _content_end(fh, size)
    tail_start = max(0, end - _PDF_TAIL)
    fh.seek(tail_start)
    tail = fh.read(end - tail_start)
    if b"%%EOF" not in tail[-1024:]:
        return False
    found = list(_STARTXREF.finditer(tail))
    if not found:
        return False
    offset, limit = int(found[-1][1]), tail_start + found[-1].start()
    # Some producers count offsets from the header rather than from byte 0: try both.
    anchors = {offset, offset + len(head) - len(body)}
    budget = [_MAX_SUBSECTIONS]  # shared by every candidate: one table's walk at most, in all
    if any(_xref_section_at(fh, anchor, limit, budget) for anchor in anchors if anchor < limit):
        return True
    return _xref_section_before(fh, limit, budget)


def _content_end(fh: BinaryIO, size: int) -> int:
    """Where the content ends, trailing padding (_PDF_PADDING) left out; read backwards in pieces."""
    end = size
    while end > 0:
        start = max(0, end - _PDF_SCAN)
        fh.seek(start)
        kept = len(fh.read(end - start).rstrip(_PDF_PADDING))
        if kept:
            return start + kept
        end = start
    return 0


def _xref_section_before(fh: BinaryIO, limit: int, budget: list[int]) -> bool:
    """The last cross-reference section in front of the last startxref, found by scanning.

    Candidates are each "xref" keyword and each "N G obj <<" (an xref stream is an object, the
    last one in front of startxref as a rule); from the last one backwards, each must pass the
    same test as a section startxref points at: a table that ends in a trailer, or a stream
    object whose dictionary says /Type /XRef. The file is read backwards from startxref in
    pieces, and only until _PDF_SCAN_KEEP candidates are found.
    """
    candidates: list[int] = []  # from the last one in the file backwards
    end = limit
    while end > 0 and len(candidates) < _PDF_SCAN_KEEP:
        start = max(0, end - _PDF_SCAN)
        fh.seek(start)
        window = fh.read(min(limit, end + 16) - start)  # "xref" needs the byte after it
        found = [m.start() for m in _XREF_KEYWORD.finditer(window) if m.start() < end - start]
        found += [m.start() for m in _XREF_STREAM.finditer(window, 0, end - start)]
        candidates += [start + at for at in sorted(found, reverse=True)]
        end = start
    return any(_xref_section_at(fh, at, limit, budget) for at in candidates[:_PDF_SCAN_KEEP])


def _xref_section_at(fh: BinaryIO, offset: int, limit: int, budget: list[int]) -> bool:
    """A cross-reference table or stream starting within _PDF_SLACK bytes of `offset`."""
    start = max(0, offset - _PDF_SLACK - 1)  # one byte more, to see what precedes the keyword
    fh.seek(start)
    window = fh.read(2 * _PDF_SLACK + 1 + _XREF_STREAM_DICT)
    low, high = offset - _PDF_SLACK - start, offset + _PDF_SLACK - start
    first = low if start == 0 else max(low, 1)
    for match in _XREF_KEYWORD.finditer(window, first):
        if match.start() > high:
            break
        if _table_ends_in_trailer(fh, start + match.end(), limit, budget):
            return True
    for match in _XREF_STREAM.finditer(window, first):
        if match.start() > high:
            break
        stream = window.find(b"stream", match.end())
        end = window.find(b"endobj", match.end())
        if stream < 0 or 0 <= end < stream:  # not a stream object, or its dictionary overran
            continue
        if _TYPE_XREF.search(window, match.end(), stream):
            return True
    return False


def _table_ends_in_trailer(fh: BinaryIO, position: int, limit: int, budget: list[int]) -> bool:
    """Walk an xref table's subsections from just after "xref" to its "trailer <<".

    Each subsection is a header "first count" and `count` fixed-width entries: we read the header
    and the first entry, jump over the rest and read what follows, so a table of any length costs
    a few small reads. Entries are 20 bytes; some producers write 19 or 21 (one or three bytes of
    end of line), which the first entry shows. Every subsection read spends one of `budget`.
    """
    while budget[0] > 0:
        budget[0] -= 1
        if position >= limit:
            return False
        fh.seek(position)
        chunk = fh.read(128)
        if _TRAILER.match(chunk):
            return True
        header = _SUBSECTION.match(chunk)
        if header is None or int(header[2]) > _MAX_XREF_OBJECTS:
            return False
        count = int(header[2])
        if count:
            entry = _XREF_ENTRY.match(chunk, header.end())
            if entry is None:
                return False
            position += header.end() + count * (entry.end() - entry.start())
        else:
            position += header.end()
    return False


def _is_png(fh: BinaryIO, size: int) -> bool:
    head = _head(fh, 24)
    return (
        head[:8] == b"\x89PNG\r\n\x1a\n"
        and head[12:16] == b"IHDR"
        and b"\0\0\0\0" not in (head[16:20], head[20:24])
    )


def _is_bmp(fh: BinaryIO, size: int) -> bool:
    head = _head(fh, 18)
    return (
        head[:2] == b"BM"
        and len(head) == 18
        and int.from_bytes(head[14:18], "little") in {12, 40, 52, 56, 64, 108, 124}
    )


def _is_7z(fh: BinaryIO, size: int) -> bool:
    """Signature plus the start header's CRC, which covers where the archive's directory lives."""
    head = _head(fh, 32)
    return (
        len(head) == 32
        and head[:6] == b"7z\xbc\xaf\x27\x1c"
        and zlib.crc32(head[12:32]) == int.from_bytes(head[8:12], "little")
    )


_RAR4 = b"Rar!\x1a\x07\x00"
_RAR5 = b"Rar!\x1a\x07\x01\x00"


def _is_rar(fh: BinaryIO, size: int) -> bool:
    """Signature plus the first header's CRC, in RAR 4 (WinRAR 2.9–4) or RAR 5 format."""
    head = _head(fh, 8)
    if head.startswith(_RAR4):
        return _rar4_main_header(fh)
    if head == _RAR5:
        return _rar5_first_header(fh)
    return False


def _rar4_main_header(fh: BinaryIO) -> bool:
    """HEAD_CRC is the low 16 bits of the CRC32 of the header from HEAD_TYPE to its end.

    The first block after the marker must be the main archive header (type 0x73, at least 13
    bytes). With MHD_COMMENT (0x0002), RAR 2.x put the comment inside this header and its CRC
    covers only the fixed fields before it, as unrar checks it.
    """
    fh.seek(7)
    fixed = fh.read(13)
    if len(fixed) != 13:
        return False
    crc, kind, flags, length = struct.unpack_from("<HBHH", fixed)
    if kind != 0x73 or not 13 <= length <= 0xFFFF:
        return False
    fh.seek(7)
    header = fh.read(length)
    if len(header) != length:
        return False
    if zlib.crc32(header[2:]) & 0xFFFF == crc:
        return True
    fields = 12 if flags & 0x0200 else 11  # MHD_ENCRYPTVER adds one byte
    return bool(flags & 0x0002) and zlib.crc32(header[2 : 2 + fields]) & 0xFFFF == crc


def _vint(data: bytes, pos: int) -> tuple[int, int]:
    """A RAR 5 variable-length integer at `pos`: 7 bits a byte, high bit set on all but the last."""
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            raise ValueError("vint runs past the data")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
    raise ValueError("vint longer than ten bytes")


def _rar5_first_header(fh: BinaryIO) -> bool:
    """CRC32 over the header size vint and the header data; the header is the main archive header
    (type 1), or the archive encryption header (type 4) that precedes it when headers are encrypted.
    """
    fh.seek(8)
    start = fh.read(4 + 3)  # CRC32, then the size: at most 3 bytes (2 MB) in RAR 5.0
    try:
        length, data_at = _vint(start, 4)
        if data_at - 4 > 3 or not 0 < length <= 2 * 1024 * 1024:
            return False
        fh.seek(12)
        header = fh.read(data_at - 4 + length)
        if len(header) != data_at - 4 + length:
            return False
        kind, _ = _vint(header, data_at - 4)
    except ValueError:  # a size or type that runs past the header
        return False
    return kind in (1, 4) and zlib.crc32(header) == int.from_bytes(start[:4], "little")


def _starts(*signatures: bytes) -> Callable[[BinaryIO, int], bool]:
    """A check that the file opens with one of the format's magic numbers."""
    return lambda fh, size: _head(fh, max(map(len, signatures))).startswith(signatures)


# Control characters that never occur in text: NUL and C0 controls other than tab, line and
# page breaks, SO and SI (ISO-2022 shifts), SUB (DOS end of file) and ESC; DEL.
_CONTROLS = "[\x00-\x08\x10-\x19\x1c-\x1f\x7f]"
_BINARY = re.compile(_CONTROLS.encode("latin-1"))
_BINARY_TEXT = re.compile(_CONTROLS)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Markup a browser or Windows' HTA host would run if the file were opened as a page. libmagic
# would name such a file text/html, but only from its first line: a first line such as
# "From: x" hides it. No CV or table needs these tags, so their presence anywhere refuses.
_ACTIVE_MARKUP = r"<\s*(?:script|html|svg|iframe|object|embed|hta:application|\?php)\b"
_MARKUP = re.compile(_ACTIVE_MARKUP.encode(), re.IGNORECASE)
_MARKUP_TEXT = re.compile(_ACTIVE_MARKUP, re.IGNORECASE)
_OVERLAP = 32  # a tag split across two chunks is still found


def _is_text(fh: BinaryIO, size: int) -> bool:
    """No binary bytes anywhere: libmagic judges text on its first 64 KiB only.

    Every byte string decodes as latin-1 (and cp1252 lacks only five bytes), so "decodable as
    UTF-8, cp1252 or latin-1" holds for any file without these control bytes; they are the test.
    UTF-16 with a byte-order mark (Notepad's and Excel's "Unicode text") is decoded instead,
    strictly, and the same control characters are looked for in what it says.
    """
    if _head(fh, 2) in _UTF16_BOMS:
        return _is_utf16_text(fh)
    fh.seek(0)
    tail = b""
    while chunk := fh.read(1 << 16):
        if _BINARY.search(chunk) or _MARKUP.search(tail + chunk):
            return False
        tail = chunk[-_OVERLAP:]
    return True


def _is_utf16_text(fh: BinaryIO) -> bool:
    """The whole file decodes as UTF-16 (the BOM says which order), and holds no binary controls.

    A binary file behind a BOM fails either way: odd lengths and lone surrogates do not decode,
    and NUL or other control characters show up in the decoded text.
    """
    decoder = codecs.getincrementaldecoder("utf-16")(errors="strict")
    fh.seek(0)
    tail = ""
    try:
        while chunk := fh.read(1 << 16):
            text = decoder.decode(chunk)
            if _BINARY_TEXT.search(text) or _MARKUP_TEXT.search(tail + text):
                return False
            tail = text[-_OVERLAP:]
        rest = decoder.decode(b"", final=True)
        return not (_BINARY_TEXT.search(rest) or _MARKUP_TEXT.search(tail + rest))
    except UnicodeDecodeError:
        return False


def _is_word(fh: BinaryIO, size: int) -> bool:
    """A Word 97–2003 compound file, or RTF saved under .doc."""
    if _head(fh, 5) == b"{\\rtf":
        return True
    return has_ole_stream(fh, size, frozenset({"WordDocument"}))


_RTF = _starts(b"{\\rtf")
_JPEG = _starts(b"\xff\xd8\xff")
_TIFF = _starts(b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # classic and BigTIFF

_STRUCTURE: Mapping[str, Callable[[BinaryIO, int], bool]] = {
    "pdf": _is_pdf,
    "docx": partial(is_ooxml, main_part="word/document.xml"),
    "xlsx": partial(is_ooxml, main_part="xl/workbook.xml"),
    "pptx": partial(is_ooxml, main_part="ppt/presentation.xml"),
    "odt": partial(is_odf, mimetype=(_ODF + "text").encode()),
    "ods": partial(is_odf, mimetype=(_ODF + "spreadsheet").encode()),
    "doc": _is_word,
    "xls": lambda fh, size: (
        has_ole_stream(fh, size, frozenset({"Workbook", "Book"})) or is_flat_biff(fh, size)
    ),
    "ppt": partial(has_ole_stream, wanted=frozenset({"PowerPoint Document"})),
    "rtf": _RTF,
    "txt": _is_text,
    "csv": _is_text,
    "jpg": _JPEG,
    "jpeg": _JPEG,
    "png": _is_png,
    "gif": _starts(b"GIF87a", b"GIF89a"),
    "bmp": _is_bmp,
    "tif": _TIFF,
    "tiff": _TIFF,
    "zip": is_zip,
    "gz": lambda fh, size: (
        (head := _head(fh, 4))[:3] == b"\x1f\x8b\x08" and len(head) == 4 and not head[3] & 0xE0
    ),
    "7z": _is_7z,
    "rar": _is_rar,
}
# For text, failing the byte scan means "not text": a content mismatch, not a broken container.
_TEXT_EXTENSIONS = frozenset({"txt", "csv"})
# Office files, sound in structure, then go through the one macro policy (containers.has_macros).
_OFFICE_EXTENSIONS = frozenset({"docx", "xlsx", "pptx", "doc", "xls", "ppt"})


def _libmagic_agrees(ext: str, mimetype: str) -> bool:
    """libmagic's verdict is one the extension allows; for text, one that runs nothing."""
    if ext in _TEXT_EXTENSIONS:
        return mimetype not in _ACTIVE_TEXT and "script" not in mimetype
    return mimetype in ALLOWED_TYPES[ext]


def _has_macros(fh: BinaryIO, size: int) -> bool:
    """The one macro policy: a VBA project in any Office container, or an Excel 4.0 macro
    sheet (or Excel 5 module sheet) in an .xls as in an .xlsx."""
    return has_macros(fh, size) or has_macro_sheets(fh, size)


def check_file(
    path: Path,
    filename: str,
    allowed_extensions: Collection[str],
    *,
    max_bytes: int = MAX_FILE_BYTES,
) -> FileVerdict:
    """Accept the spooled upload only if its name, size and content all agree on an allowed type."""
    ext = extension_of(filename)
    allowed = {e.lower().lstrip(".") for e in allowed_extensions}
    if ext not in allowed or ext not in ALLOWED_TYPES:  # a type we cannot verify is never allowed
        return FileVerdict(False, EXTENSION, ext, "")
    mimetype = ""
    try:
        size = path.stat().st_size
        if size == 0:
            return FileVerdict(False, EMPTY, ext, "")
        if size > max_bytes:
            return FileVerdict(False, TOO_LARGE, ext, "")
        mimetype = sniff_mimetype(path)
        if not _libmagic_agrees(ext, mimetype):
            return FileVerdict(False, CONTENT_MISMATCH, ext, mimetype)
        with path.open("rb") as fh:
            sound = _STRUCTURE[ext](fh, size)
            macros = sound and ext in _OFFICE_EXTENSIONS and _has_macros(fh, size)
    except ContainerError:
        # Sound enough to name, too damaged or too large in its parts to prove it has no macros.
        return FileVerdict(False, CONTAINER_STRUCTURE, ext, mimetype)
    except (OSError, ValueError, OverflowError, struct.error, magic.MagicException):
        # A hostile container can make any parser choke: that is a refusal, never a crash.
        return FileVerdict(False, UNREADABLE, ext, "")
    if not sound:
        reason = CONTENT_MISMATCH if ext in _TEXT_EXTENSIONS else CONTAINER_STRUCTURE
        return FileVerdict(False, reason, ext, mimetype)
    if macros:
        return FileVerdict(False, MACRO, ext, mimetype)
    return FileVerdict(True, None, ext, mimetype)
