"""Attachment names and contents: clean what candidates send, and prove each file is what it claims.

Checks run cheapest first (docs/applications.md; docs/personio.md §2.1 for the 23 extensions): the name's
extension, the size, libmagic's verdict on the content, then a structural look at the container.
Every rejection carries a short reason tag for logs, metrics and translated messages; file names
and contents are never logged. Nothing is executed, extracted or decompressed.
"""

from __future__ import annotations

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

import magic

from .containers import has_ole_stream, is_odf, is_ooxml, is_zip
from .rules import LIMITS, FileProblem

# Personio's per-file limit (docs/personio.md §2.1), as careers/applications/rules.py reads it.
MAX_FILE_BYTES = LIMITS.file_bytes

# Reason tags: stable identifiers, mapped by the caller to translated messages and log fields.
EXTENSION = FileProblem.EXTENSION
EMPTY = FileProblem.EMPTY
TOO_LARGE = FileProblem.TOO_LARGE
CONTENT_MISMATCH = FileProblem.CONTENT_MISMATCH
CONTAINER_STRUCTURE = FileProblem.CONTAINER_STRUCTURE
UNREADABLE = FileProblem.UNREADABLE

_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
# What libmagic 5.44 answers for a compound file it cannot name from its summary information or
# stream names (a .ppt without SummaryInformation gets x-ole-storage). The stream check below
# still demands the right main stream, so a generic compound file does not pass.
_OLE_GENERIC = ("application/vnd.ms-office", "application/x-ole-storage", "application/CDFV2")
# libmagic names an OOXML package only from its first few zip entries: with docProps parts before
# the main part it says application/octet-stream, with an unexpected first entry application/zip.
# The OOXML structure check below is what tells a real package from a renamed zip.
_OOXML_FALLBACK = ("application/zip", "application/octet-stream")
_TEXT = ("text/plain", "text/csv")

# Extension → the MIME types libmagic may report for it; the first is the canonical one.
_TYPES: dict[str, tuple[str, ...]] = {
    "pdf": ("application/pdf",),
    "docx": (_OOXML + "wordprocessingml.document", *_OOXML_FALLBACK),
    "xlsx": (_OOXML + "spreadsheetml.sheet", *_OOXML_FALLBACK),
    "pptx": (_OOXML + "presentationml.presentation", *_OOXML_FALLBACK),
    "odt": (_ODF + "text",),
    "ods": (_ODF + "spreadsheet",),
    # Word has long saved RTF under .doc when asked for "Rich Text"; such files are common.
    "doc": ("application/msword", *_OLE_GENERIC, "text/rtf", "application/rtf"),
    "xls": ("application/vnd.ms-excel", *_OLE_GENERIC),
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


def clean_filename(name: str, *, max_length: int = 120) -> str:
    """A name safe to store, show and send on: no path, no control or bidi characters, bounded."""
    if max_length < 2 * _MAX_EXTENSION:
        raise ValueError("max_length must leave room for a stem and an extension")
    last = _SEPARATORS.split(name)[-1]  # "..%2F" stays literal: nothing here decodes URLs
    kept = (
        " " if c.isspace() else c
        for c in last
        if c.isspace() or not unicodedata.category(c).startswith("C")
    )
    text = unicodedata.normalize("NFC", "".join(kept)).translate(_RESERVED)
    text = " ".join(text.split()).rstrip(". ")  # Windows drops trailing dots and spaces too
    stem, ext = _split_extension(text)
    suffix = f".{ext}" if ext else ""
    stem = stem.strip(". ")[: max_length - len(suffix)].rstrip(". ")  # no hidden files, no ".."
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
            if self._magic is None:
                self._magic = magic.Magic(mime=True)
            return self._magic.from_file(str(path))


sniff_mimetype = _Sniffer()


def _head(fh: BinaryIO, length: int) -> bytes:
    fh.seek(0)
    return fh.read(length)


def _is_pdf(fh: BinaryIO, size: int) -> bool:
    """PDF header at the start, end-of-file marker at the end.

    Readers accept "%PDF-" anywhere in the first 1024 bytes, and libmagic 5.44 finds it even behind
    an HTML page. Content in front of the header is how PDF polyglots are built, so we accept it
    only at byte 0 after an optional UTF-8 BOM and whitespace, followed by a version "d.d"; and
    "%%EOF" must be in the last 1024 bytes, where readers look for it. A truncated upload or a
    text that merely starts with "%PDF" fails.
    """
    head = _head(fh, 1024).removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\f")
    if not re.match(rb"%PDF-\d\.\d", head):
        return False
    fh.seek(max(0, size - 1024))
    return b"%%EOF" in fh.read(1024)


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


def _starts(*signatures: bytes) -> Callable[[BinaryIO, int], bool]:
    """A check that the file opens with one of the format's magic numbers."""
    return lambda fh, size: _head(fh, max(map(len, signatures))).startswith(signatures)


# Control bytes that never occur in text: NUL and C0 controls other than tab, line and page
# breaks, SUB (DOS end of file) and ESC; DEL. UTF-16 text (NUL bytes) fails here on purpose.
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x19\x1c-\x1f\x7f]")


def _is_text(fh: BinaryIO, size: int) -> bool:
    """No binary bytes anywhere: libmagic judges text on its first 64 KiB only.

    Every byte string decodes as latin-1 (and cp1252 lacks only five bytes), so "decodable as
    UTF-8, cp1252 or latin-1" holds for any file without these control bytes; they are the test.
    """
    fh.seek(0)
    while chunk := fh.read(1 << 16):
        if _BINARY.search(chunk):
            return False
    return True


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
    "xls": partial(has_ole_stream, wanted=frozenset({"Workbook", "Book"})),
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
    "rar": _starts(b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00"),  # RAR 4 and RAR 5
}
# For text, failing the byte scan means "not text": a content mismatch, not a broken container.
_TEXT_EXTENSIONS = frozenset({"txt", "csv"})


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
    try:
        size = path.stat().st_size
        if size == 0:
            return FileVerdict(False, EMPTY, ext, "")
        if size > max_bytes:
            return FileVerdict(False, TOO_LARGE, ext, "")
        mimetype = sniff_mimetype(path)
        if mimetype not in ALLOWED_TYPES[ext]:
            return FileVerdict(False, CONTENT_MISMATCH, ext, mimetype)
        with path.open("rb") as fh:
            sound = _STRUCTURE[ext](fh, size)
    except (OSError, ValueError, OverflowError, struct.error, magic.MagicException):
        # A hostile container can make any parser choke: that is a refusal, never a crash.
        return FileVerdict(False, UNREADABLE, ext, "")
    if not sound:
        reason = CONTENT_MISMATCH if ext in _TEXT_EXTENSIONS else CONTAINER_STRUCTURE
        return FileVerdict(False, reason, ext, mimetype)
    return FileVerdict(True, None, ext, mimetype)
