"""Attachment checks on real files: every allowed type passes, every disguise is caught by reason."""

from __future__ import annotations

import random
import tempfile
import threading
import tracemalloc
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import BinaryIO

import pytest

from careers.applications import containers, files
from careers.applications.files import (
    ALLOWED_TYPES,
    CANONICAL_TYPES,
    MAX_FILE_BYTES,
    check_file,
    clean_filename,
    extension_of,
)
from careers.applications.rules import FileProblem
from tests import filegen
from tests.applying import apply_env, open_form, send, valid_fields

Builder = Callable[[Path], Path]
ALL = tuple(ALLOWED_TYPES)


def _patched(build: Builder, offset: int, data: bytes, replace: int | None = None) -> Builder:
    """The builder's file with `replace` bytes (default: as many as given) at `offset` swapped for `data`."""

    def make(path: Path) -> Path:
        raw = build(path).read_bytes()
        end = offset + (len(data) if replace is None else replace)
        path.write_bytes(raw[:offset] + data + raw[end:])
        return path

    return make


def _truncated(build: Builder, keep: int) -> Builder:
    """The builder's file cut to its first `keep` bytes (negative: drop that many at the end)."""

    def make(path: Path) -> Path:
        path.write_bytes(build(path).read_bytes()[:keep])
        return path

    return make


# Each allowed extension with a genuine file and what libmagic 5.44 (Debian bookworm) says about it.
GENUINE: list[tuple[str, Builder, str]] = [
    ("pdf", filegen.make_pdf, "application/pdf"),
    (
        "docx",
        filegen.make_docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "xlsx",
        filegen.make_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "pptx",
        filegen.make_pptx,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("odt", filegen.make_odt, "application/vnd.oasis.opendocument.text"),
    ("ods", filegen.make_ods, "application/vnd.oasis.opendocument.spreadsheet"),
    ("doc", filegen.make_doc, "application/msword"),
    ("xls", filegen.make_xls, "application/vnd.ms-excel"),
    ("ppt", filegen.make_ppt, "application/vnd.ms-powerpoint"),
    ("rtf", filegen.make_rtf, "text/rtf"),
    ("txt", filegen.make_txt, "text/plain"),
    ("csv", filegen.make_csv, "text/csv"),
    ("jpg", filegen.make_jpeg, "image/jpeg"),
    ("jpeg", filegen.make_jpeg, "image/jpeg"),
    ("png", filegen.make_png, "image/png"),
    ("gif", filegen.make_gif, "image/gif"),
    ("bmp", filegen.make_bmp, "image/bmp"),
    ("tif", filegen.make_tiff, "image/tiff"),
    ("tiff", filegen.make_tiff, "image/tiff"),
    ("zip", filegen.make_zip, "application/zip"),
    ("gz", filegen.make_gz, "application/gzip"),
    ("7z", filegen.make_7z, "application/x-7z-compressed"),
    ("rar", filegen.make_rar, "application/x-rar"),
]

# Real files from other producers, for which libmagic gives a less specific answer.
VARIANTS: list[tuple[str, Builder, str]] = [
    ("docx", partial(filegen.make_docx, layout="late-main"), "application/octet-stream"),
    ("docx", partial(filegen.make_docx, layout="foreign-first"), "application/zip"),
    ("xlsx", partial(filegen.make_xlsx, layout="late-main"), "application/octet-stream"),
    ("xlsx", partial(filegen.make_xlsx, layout="foreign-first"), "application/zip"),
    ("pptx", partial(filegen.make_pptx, layout="late-main"), "application/octet-stream"),
    ("pptx", partial(filegen.make_pptx, layout="foreign-first"), "application/zip"),
    ("doc", filegen.make_rtf, "text/rtf"),  # Word's "Rich Text" saved as .doc
    (
        "pdf",
        lambda p: _patched(filegen.make_pdf, 0, b"\xef\xbb\xbf%PDF", 4)(p),
        "application/pdf",
    ),  # BOM
    (
        "zip",
        lambda p: _patched(filegen.make_empty, 0, b"PK\x05\x06" + bytes(18))(p),
        "application/zip",
    ),
]
# Real-world structure the content checks must keep accepting: id, extension, builder, libmagic.
PDF, ZIP, CV = "application/pdf", "application/zip", "Berufserfahrung\nSeit 2019 Entwicklerin\n"
LAYOUTS: list[tuple[str, str, Builder, str]] = [
    ("pdf-xref-stream", "pdf", partial(filegen.make_pdf, xref="stream"), "application/pdf"),
    ("pdf-crlf-entries", "pdf", partial(filegen.make_pdf, eol=b"\r\n"), "application/pdf"),
    ("pdf-19-byte-entries", "pdf", partial(filegen.make_pdf, eol=b"\n"), "application/pdf"),
    ("pdf-libreoffice-spacing", "pdf", partial(filegen.make_pdf, compact=True), "application/pdf"),
    ("pdf-incremental-update", "pdf", filegen.make_pdf_updated, "application/pdf"),
    ("pdf-linearized", "pdf", filegen.make_pdf_linearized, "application/pdf"),
    (
        "pdf-startxref-7-late",
        "pdf",
        partial(filegen.make_pdf, startxref_error=7),
        "application/pdf",
    ),
    (
        "pdf-startxref-64-early",
        "pdf",
        partial(filegen.make_pdf, startxref_error=-64),
        "application/pdf",
    ),
    (
        "pdf-xref-stream-startxref-30-late",
        "pdf",
        partial(filegen.make_pdf, xref="stream", startxref_error=30),
        "application/pdf",
    ),
    ("rar5", "rar", filegen.make_rar5, "application/x-rar"),
    # What candidates really send (issue 18): each was refused before, each reader opens it.
    *[
        (f"pdf-startxref-{error}", "pdf", partial(filegen.make_pdf, startxref_error=error), PDF)
        for error in (65, -100, -300, 1432)
    ],
    (
        "pdf-xref-stream-startxref-150-early",
        "pdf",
        partial(filegen.make_pdf, xref="stream", startxref_error=-150),
        PDF,
    ),
    ("pdf-nul-padded", "pdf", filegen.make_pdf_padded, PDF),  # Selenium's print-to-PDF
    (
        "pdf-nul-padded-startxref-off",
        "pdf",
        partial(filegen.make_pdf_padded, nul=70_000, startxref_error=-100),
        PDF,
    ),
    *[
        (
            f"txt-{first.split()[0].lower().strip(':')}",
            "txt",
            partial(filegen.make_text, text=first + CV),
            mime,
        )
        for first, mime in (
            ("PAUL SMITH\n", "application/vnd.hp-HPGL"),
            ("PATRICIA MÜLLER\n", "application/vnd.hp-HPGL"),
            ("SPRACHKENNTNISSE\n", "application/vnd.hp-HPGL"),
            ("Date: 2025-03-01\n", "message/rfc822"),
            ("From: Anna Schmidt\n", "message/rfc822"),
        )
    ],
    ("txt-utf16-bom", "txt", filegen.make_utf16_txt, "text/plain"),  # Notepad's "Unicode"
    (
        "txt-cv-that-names-markup",  # words about HTML are not markup
        "txt",
        partial(filegen.make_text, text="Skills: HTML5, <b>bold</b> ideas, SVG icons, PHP 8\n"),
        "text/plain",
    ),
    (
        "txt-utf16-be-bom",
        "txt",
        partial(
            filegen.make_text, text="\ufeffName\tStadt\r\nJürgen\tKöln\r\n", encoding="utf-16-be"
        ),
        "text/plain",
    ),
    (
        "csv-utf16-excel-unicode-text",
        "csv",
        partial(filegen.make_text, text="Name\tStadt\r\nJürgen\tKöln\r\n" * 40, encoding="utf-16"),
        "text/plain",
    ),
    (
        "txt-iso-2022-kr",
        "txt",
        partial(filegen.make_text, text="이력서 " * 20, encoding="iso2022_kr"),
        "application/octet-stream",
    ),
    ("odt-deflated-mimetype", "odt", partial(filegen.make_odt, stored=False), ZIP),
    ("odt-rezipped", "odt", filegen.make_odf_rezipped, ZIP),
    ("ods-rezipped", "ods", partial(filegen.make_odf_rezipped, kind="spreadsheet"), ZIP),
    ("xls-biff4-worksheet", "xls", filegen.make_biff_sheet, "application/vnd.ms-excel"),
    (
        "xls-biff4-workbook",
        "xls",
        partial(filegen.make_biff_sheet, sheet=0x0100),
        "application/octet-stream",
    ),
    ("xls-biff3", "xls", partial(filegen.make_biff_sheet, version=3), "application/octet-stream"),
    ("xls-biff2", "xls", partial(filegen.make_biff_sheet, version=2), "application/octet-stream"),
    ("xls-biff8-workbook", "xls", filegen.make_xls_workbook, "application/vnd.ms-excel"),
    (
        "docx-unreferenced-bin",  # an inert part: nothing declares or loads it
        "docx",
        partial(
            filegen.make_docm_renamed_part,
            main_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            part_type=None,
            relationship=None,
        ),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
]


@pytest.mark.parametrize(
    ("ext", "build", "mimetype"), [row[1:] for row in LAYOUTS], ids=[row[0] for row in LAYOUTS]
)
def test_real_world_layouts_pass(tmp_path: Path, ext: str, build: Builder, mimetype: str) -> None:
    verdict = check_file(build(tmp_path / "upload.bin"), f"Lebenslauf.{ext}", ALL)
    assert verdict == files.FileVerdict(True, None, ext, mimetype)


CASES = [pytest.param(*row, id=row[0]) for row in GENUINE]
CASES += [pytest.param(*row, id=f"{row[0]}-as-{row[2].rsplit('/')[-1]}") for row in VARIANTS]


def test_every_allowed_extension_has_a_genuine_file() -> None:
    assert {ext for ext, _, _ in GENUINE} == set(ALLOWED_TYPES) == set(CANONICAL_TYPES)
    assert len(ALLOWED_TYPES) == 23  # docs/personio.md §2.1


@pytest.mark.parametrize("upper", [False, True], ids=["lower", "upper"])
@pytest.mark.parametrize(("ext", "build", "mimetype"), CASES)
def test_genuine_files_pass(
    tmp_path: Path, ext: str, build: Builder, mimetype: str, upper: bool
) -> None:
    path = build(tmp_path / "upload.bin")
    name = f"Lebenslauf.{ext.upper() if upper else ext}"
    verdict = check_file(path, name, ALL)
    assert verdict == files.FileVerdict(True, None, ext, mimetype), (
        "libmagic answer changed? review ALLOWED_TYPES"
    )


def test_canonical_type_is_one_libmagic_reports() -> None:
    for ext, types in ALLOWED_TYPES.items():
        assert CANONICAL_TYPES[ext] in types


MISMATCH, STRUCTURE, MACRO = "content_mismatch", "container_structure", "macro"
HOSTILE: list[tuple[str, Builder, str, str]] = [
    # id, builder, upload name, expected reason
    ("elf-as-pdf", filegen.make_elf, "cv.pdf", MISMATCH),
    ("pe-as-pdf", filegen.make_pe, "cv.pdf", MISMATCH),
    ("pe-as-docx", filegen.make_pe, "cv.docx", MISMATCH),
    ("html-as-pdf", filegen.make_html, "cv.pdf", MISMATCH),
    ("html-as-txt", filegen.make_html, "cv.txt", MISMATCH),
    ("html-as-csv", filegen.make_html, "cv.csv", MISMATCH),
    ("script-as-txt", filegen.make_shell_script, "notes.txt", MISMATCH),
    ("binary-after-64k-txt", filegen.make_binary_txt, "cv.txt", MISMATCH),
    ("png-as-pdf", filegen.make_png, "cv.pdf", MISMATCH),
    ("png-as-jpg", filegen.make_png, "photo.jpg", MISMATCH),
    ("jpeg-as-png", filegen.make_jpeg, "photo.png", MISMATCH),
    ("pdf-as-txt", filegen.make_pdf, "cv.txt", MISMATCH),
    ("gz-as-zip", filegen.make_gz, "cv.zip", MISMATCH),
    ("rar-as-7z", filegen.make_rar, "cv.7z", MISMATCH),
    ("docx-as-xlsx", filegen.make_docx, "cv.xlsx", MISMATCH),
    ("xls-as-doc", filegen.make_xls, "cv.doc", MISMATCH),
    ("ods-as-odt", filegen.make_ods, "cv.odt", MISMATCH),
    ("plain-zip-as-docx", filegen.make_plain_zip_as_docx, "cv.docx", STRUCTURE),
    ("plain-zip-as-pptx", filegen.make_plain_zip_as_docx, "cv.pptx", STRUCTURE),
    (
        "docx-late-main-as-xlsx",
        partial(filegen.make_docx, layout="late-main"),
        "cv.xlsx",
        STRUCTURE,
    ),
    ("docm-as-docx", filegen.make_docm_as_docx, "cv.docx", MACRO),
    ("zip-bomb-as-docx", filegen.make_zip_bomb, "cv.docx", STRUCTURE),
    ("odt-without-content", partial(filegen.make_odt, content=False), "cv.odt", STRUCTURE),
    (
        "ole-without-word-stream",
        partial(filegen.make_cfb, streams={"Contents": b"x"}),
        "cv.doc",
        STRUCTURE,
    ),
    (
        "ole-without-ppt-stream",
        partial(filegen.make_cfb, streams={"Contents": b"x"}),
        "cv.ppt",
        STRUCTURE,
    ),
    ("pdf-lookalike", filegen.make_pdf_lookalike, "cv.pdf", STRUCTURE),
    ("pdf-truncated", _truncated(filegen.make_pdf, 300), "cv.pdf", STRUCTURE),
    ("html-pdf-polyglot", filegen.make_html_pdf_polyglot, "cv.pdf", STRUCTURE),
    ("sfx-exe-as-zip", filegen.make_sfx_zip, "cv.zip", STRUCTURE),
    ("zip-truncated", _truncated(filegen.make_zip, -10), "cv.zip", STRUCTURE),
    (
        "zip-10001-entries",
        partial(filegen.make_zip_many_entries, count=10_001),
        "cv.zip",
        STRUCTURE,
    ),
    ("7z-bad-header-crc", _patched(filegen.make_7z, 8, b"\0\0\0\0"), "cv.7z", STRUCTURE),
    ("gz-reserved-flags", _patched(filegen.make_gz, 3, b"\xe0"), "cv.gz", STRUCTURE),
    ("png-zero-width", _patched(filegen.make_png, 16, bytes(4)), "cv.png", STRUCTURE),
    ("empty", filegen.make_empty, "cv.pdf", "empty"),
]

_PLAIN_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_PLAIN_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Override PartName="/word/document.xml" '
    f'ContentType="{_PLAIN_MAIN}"/>%s</Types>'
)


def _typed(extra: str, prolog: str = "") -> Builder:
    """A genuine .docx whose [Content_Types].xml carries `extra` entries (and a `prolog`)."""
    types = prolog + _PLAIN_TYPES % extra
    return partial(filegen.make_docx_with_content_types, types=types.encode())


def _replaced(build: Builder, old: bytes, new: bytes) -> Builder:
    """The builder's file with the first `old` replaced by `new`."""

    def make(path: Path) -> Path:
        raw = build(path).read_bytes()
        assert old in raw
        path.write_bytes(raw.replace(old, new, 1))
        return path

    return make


def _docx_vba_in_package_rels(path: Path) -> Path:
    """A .docx whose package relationships (_rels/.rels) wire in a VBA project."""
    vba = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
    link = f'<Relationship Id="rId7" Type="{vba}" Target="word/x.bin"/></Relationships>'
    with zipfile.ZipFile(filegen.make_docx(path)) as zf:
        parts = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    changed = [
        (n, d.replace(b"</Relationships>", link.encode()) if n == "_rels/.rels" else d)
        for n, d in parts
    ]
    return filegen.write_zip(path, list(changed))


_SENT = partial(filegen.make_docm_renamed_part, main_type=_PLAIN_MAIN)
_PE = filegen.make_pe(Path(tempfile.mkdtemp()) / "pe").read_bytes()
_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n'


def _padded(build: Builder) -> Builder:
    """The builder's file followed by 20 KB of NUL bytes."""
    return lambda path: filegen._write(path, build(path).read_bytes() + bytes(20_000))


def _utf16_bom(build: Builder) -> Builder:
    """The builder's bytes behind a UTF-16 byte-order mark."""
    return lambda path: filegen._write(path, b"\xff\xfe" + build(path).read_bytes())


def _html_saying_xref(path: Path) -> Path:
    """A page between a PDF header and a startxref that misses, the word xref in its text."""
    page = b"<html><body>see the xref 0 1 table<script>alert(1)</script></body></html>\n"
    return filegen._write(path, b"%PDF-1.4\n" + page + b"startxref\n9\n%%EOF\n")


def _without_mimetype(build: Builder) -> Builder:
    """The builder's package with its `mimetype` entry renamed, in both directory records."""
    return lambda path: filegen._write(
        path, build(path).read_bytes().replace(b"mimetype", b"mimetypx")
    )


def _biff4_macro_behind(path: Path) -> Path:
    """A BIFF4 worksheet with a macro sheet's records glued on behind it."""
    macro = filegen.make_biff_sheet(path, sheet=0x0040).read_bytes()
    return filegen.make_biff_sheet(path, tail=macro)


# Content checks as strict as the promise: each of these passed before.
HOSTILE += [
    # A PDF header and %%EOF around something else: no objects, no cross-reference section.
    ("pdf-header-html-eof", filegen.make_pdf_shell, "cv.pdf", STRUCTURE),
    ("pdf-header-script-eof", partial(filegen.make_pdf_shell, kind="sh"), "cv.pdf", STRUCTURE),
    ("pdf-startxref-into-html", filegen.make_pdf_fake_startxref, "cv.pdf", STRUCTURE),
    (
        "pdf-xref-without-trailer",
        _replaced(filegen.make_pdf, b"trailer", b"Trailer"),
        "cv.pdf",
        STRUCTURE,
    ),
    (
        "pdf-xref-table-cut-short",
        _replaced(filegen.make_pdf, b"\n0 6\n", b"\n0 9\n"),
        "cv.pdf",
        STRUCTURE,
    ),
    (
        "pdf-stream-not-xref",
        _replaced(partial(filegen.make_pdf, xref="stream"), b"/Type /XRef", b"/Type /XObj"),
        "cv.pdf",
        STRUCTURE,
    ),
    (
        "pdf-type-xrefstm-is-no-xref",
        _replaced(partial(filegen.make_pdf, xref="stream"), b"/Type /XRef ", b"/Type /XRefX"),
        "cv.pdf",
        STRUCTURE,
    ),
    (
        "pdf-xref-dictionary-without-stream",
        _replaced(
            partial(filegen.make_pdf, xref="stream"),
            b"FlateDecode >>\nstream",
            b"FlateDecode >>\nendobj",
        ),
        "cv.pdf",
        STRUCTURE,
    ),
    # A RAR signature glued to something else; a real header with a wrong CRC.
    ("rar4-signature-html", filegen.make_rar_html, "cv.rar", STRUCTURE),
    ("rar5-signature-html", partial(filegen.make_rar_html, version=5), "cv.rar", STRUCTURE),
    ("rar4-bad-header-crc", _patched(filegen.make_rar, 7, b"\0\0"), "cv.rar", STRUCTURE),
    ("rar5-bad-header-crc", _patched(filegen.make_rar5, 8, b"\0\0\0\0"), "cv.rar", STRUCTURE),
    ("rar4-first-block-not-main", _patched(filegen.make_rar, 9, b"\x74"), "cv.rar", STRUCTURE),
    (
        "rar5-size-runs-on",
        _patched(filegen.make_rar5, 12, b"\xff\xff\xff\xff"),
        "cv.rar",
        STRUCTURE,
    ),
    ("rar5-truncated", _truncated(filegen.make_rar5, 14), "cv.rar", STRUCTURE),
    # Macros by content type and relationship, whatever the VBA part is called.
    ("docm-vba-part-renamed", filegen.make_docm_renamed_part, "cv.docx", MACRO),
    (
        "docm-main-type-only",
        partial(filegen.make_docm_renamed_part, part_type=None, relationship=None),
        "cv.docx",
        MACRO,
    ),
    ("docm-part-type-only", partial(_SENT, relationship=None), "cv.docx", MACRO),
    ("docm-relationship-only", partial(_SENT, part_type=None), "cv.docx", MACRO),
    (
        "docm-utf16-content-types",
        partial(filegen.make_docm_renamed_part, encoding="utf-16"),
        "cv.docx",
        MACRO,
    ),
    (
        "docm-character-reference",
        _typed(
            '<Override PartName="/word/a.bin" ContentType="application/vnd.ms-office.vba&#x50;roject"/>'
        ),
        "cv.docx",
        MACRO,
    ),
    (
        "docm-default-by-extension",
        _typed(
            '<Default Extension="bin" ContentType="Application/VND.ms-office.vbaProject; x=1"/>'
        ),
        "cv.docx",
        MACRO,
    ),
    ("docm-package-relationship", _docx_vba_in_package_rels, "cv.docx", MACRO),
    ("xlsm-as-xlsx", partial(filegen.make_macro_enabled, kind="xlsx"), "cv.xlsx", MACRO),
    ("pptm-as-pptx", partial(filegen.make_macro_enabled, kind="pptx"), "cv.pptx", MACRO),
    (
        "binary-macro-enabled-type",
        _typed(
            '<Override PartName="/xl/m.bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
        ),
        "cv.docx",
        MACRO,
    ),
    # Package parts we cannot read to the end prove nothing: refused as broken.
    ("docx-content-types-huge", _typed("<!--" + "x" * (3 << 20) + "-->"), "cv.docx", STRUCTURE),
    (
        "docx-content-types-dtd",
        _typed("", '<!DOCTYPE Types [<!ENTITY a "b">]>'),
        "cv.docx",
        STRUCTURE,
    ),
    (
        "docx-content-types-xxe",
        _typed("<x>&e;</x>", '<!DOCTYPE Types [<!ENTITY e SYSTEM "file:///etc/passwd">]>'),
        "cv.docx",
        STRUCTURE,
    ),
    ("docx-content-types-malformed", _typed("<Override"), "cv.docx", STRUCTURE),
    ("docx-content-types-twice", filegen.make_docx_twice_typed, "cv.docx", STRUCTURE),
    # Each rule relaxed for real files still stops the attack it was there for (issue 18).
    ("pdf-nul-padded-exe-prefix", partial(filegen.make_pdf_padded, prefix=_PE), "cv.pdf", MISMATCH),
    (
        "pdf-nul-padded-html-prefix",
        partial(filegen.make_pdf_padded, prefix=b"<html><script>alert(1)</script></html>\n"),
        "cv.pdf",
        STRUCTURE,
    ),
    ("pdf-shell-nul-padded", _padded(filegen.make_pdf_shell), "cv.pdf", STRUCTURE),
    (
        "pdf-fake-startxref-nul-padded",
        _padded(filegen.make_pdf_fake_startxref),
        "cv.pdf",
        STRUCTURE,
    ),
    ("pdf-pointer-misses-xref-word-in-html", _html_saying_xref, "cv.pdf", STRUCTURE),
    (
        "pdf-pointer-misses-table-without-trailer",
        _replaced(partial(filegen.make_pdf, startxref_error=-300), b"trailer", b"Trailer"),
        "cv.pdf",
        STRUCTURE,
    ),
    ("txt-svg-script", partial(filegen.make_text, text=_SVG), "cv.txt", MISMATCH),
    (
        "txt-php",
        partial(filegen.make_text, text="<?php system($_GET['c']); ?>\n"),
        "cv.txt",
        MISMATCH,
    ),
    (
        "csv-postscript",
        partial(filegen.make_text, text="%!PS-Adobe-3.0\n/x 1 def\n"),
        "cv.csv",
        MISMATCH,
    ),
    # A first line libmagic reads as an e-mail or a plotter file hides markup from it; the
    # byte scan still finds what a browser or an HTA host would run.
    (
        "txt-html-behind-a-mail-header",
        partial(filegen.make_text, text="From: x\n\n<html><script>alert(1)</script></html>\n"),
        "cv.txt",
        MISMATCH,
    ),
    (
        "txt-hta-behind-a-name",
        partial(filegen.make_text, text="PAUL SMITH\n<HTA:APPLICATION ID=x>\n<script>x</script>"),
        "cv.txt",
        MISMATCH,
    ),
    (
        "csv-svg-deep-inside",
        partial(filegen.make_text, text="name;skills\n" * 9000 + "x;< svg onload=alert(1)>\n"),
        "cv.csv",
        MISMATCH,
    ),
    (
        "txt-utf16-script-behind-a-name",
        partial(filegen.make_text, text="PAUL SMITH\n<script>x</script>\n", encoding="utf-16"),
        "cv.txt",
        MISMATCH,
    ),
    ("txt-utf16-bom-binary", _utf16_bom(filegen.make_pe), "cv.txt", MISMATCH),
    ("txt-utf16-bom-elf", _utf16_bom(filegen.make_elf), "cv.txt", MISMATCH),
    (
        "txt-utf16-bom-odd-length",
        _utf16_bom(lambda p: filegen.make_text(p, "abc")),
        "cv.txt",
        MISMATCH,
    ),
    (
        "txt-utf16-bom-lone-surrogate",
        _utf16_bom(lambda p: filegen._write(p, b"a\x00\x00\xd8b\x00")),
        "cv.txt",
        MISMATCH,
    ),
    (
        "odt-rezipped-behind-exe",
        partial(filegen.make_odf_rezipped, prefix=_PE),
        "cv.odt",
        STRUCTURE,
    ),
    (
        "odt-rezipped-exe-without-mimetype",
        _without_mimetype(partial(filegen.make_odf_rezipped, extra=(("setup.exe", _PE),))),
        "cv.odt",
        STRUCTURE,
    ),
    (
        "odt-rezipped-two-mimetypes",
        partial(filegen.make_odf_rezipped, twice=True),
        "cv.odt",
        STRUCTURE,
    ),
    (
        "odt-rezipped-says-spreadsheet",
        partial(filegen.make_odf_rezipped, kind="spreadsheet"),
        "cv.odt",
        STRUCTURE,
    ),
    (
        "odt-rezipped-mimetype-bomb",
        partial(
            filegen.make_odf_rezipped,
            mimetype="application/vnd.oasis.opendocument.text" + " " * 1_000_000,
        ),
        "cv.odt",
        STRUCTURE,
    ),
    ("xls-biff4-macro-sheet", partial(filegen.make_biff_sheet, sheet=0x0040), "cv.xls", MACRO),
    (
        "xls-biff3-macro-sheet",
        partial(filegen.make_biff_sheet, version=3, sheet=0x0040),
        "cv.xls",
        MACRO,
    ),
    ("xls-biff4-macro-sheet-behind-worksheet", _biff4_macro_behind, "cv.xls", MACRO),
    (
        "xls-biff4-then-html",
        partial(filegen.make_biff_sheet, tail=b"<html>x</html>"),
        "cv.xls",
        STRUCTURE,
    ),
    (
        "xls-biff-bof-only",
        lambda p: filegen._write(p, filegen.make_biff_sheet(p).read_bytes()[:8]),
        "cv.xls",
        STRUCTURE,
    ),
    (
        "xls-xlm-boundsheet",  # the same sheet Excel refuses in .xlsx (xlMacrosheet)
        partial(filegen.make_xls_workbook, sheets=(("Auto_Open", 0x01),), bof=0x10),
        "cv.xls",
        MACRO,
    ),
    ("xls-xlm-bof-only", partial(filegen.make_xls_workbook, bof=0x40), "cv.xls", MACRO),
    (
        "xls-vba-module-sheet",
        partial(filegen.make_xls_workbook, sheets=(("Modul1", 0x06),)),
        "cv.xls",
        MACRO,
    ),
    (
        "xlsx-xlm-macrosheet",
        _typed(
            '<Override PartName="/xl/macrosheets/sheet1.xml" ContentType="application/vnd.ms-excel.macrosheet+xml"/>'
        ),
        "cv.docx",
        MACRO,
    ),
    # OLE: the same policy, by storage.
    ("doc-with-macros", filegen.make_doc_with_macros, "cv.doc", MACRO),
    ("xls-with-macros", filegen.make_xls_with_macros, "cv.xls", MACRO),
    (
        "doc-vba-storage-elsewhere",
        partial(filegen.make_doc_with_macros, storage="ObjectPool"),
        "cv.doc",
        MACRO,
    ),
    (
        "doc-empty-macros-storage",
        partial(filegen.make_doc_with_macros, project={"PROJECT": b"x"}),
        "cv.doc",
        MACRO,
    ),
]


@pytest.mark.parametrize(
    ("build", "name", "reason"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_files_are_rejected(tmp_path: Path, build: Builder, name: str, reason: str) -> None:
    verdict = check_file(build(tmp_path / "upload.bin"), name, ALL)
    assert (verdict.ok, verdict.reason) == (False, reason)
    assert verdict.extension == extension_of(name)


# --- cheap checks come first ----------------------------------------------------------------------


@pytest.fixture
def no_sniffing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if libmagic is consulted: the cheap checks must have decided already."""

    def refuse(path: Path) -> str:
        raise AssertionError("content was read although a cheap check should have decided")

    monkeypatch.setattr(files, "sniff_mimetype", refuse)


@pytest.mark.usefixtures("no_sniffing")
@pytest.mark.parametrize(
    ("name", "allowed", "expected_ext"),
    [
        ("cv.docx", ("pdf",), "docx"),
        ("cv.exe", ALL, "exe"),
        ("cv", ALL, ""),
        ("cv\u202efdp.exe", ALL, "exe"),  # looks like cvexe.pdf on screen
        ("cv.pdf.exe", ALL, "exe"),
        ("clip.mp4", ("mp4", "pdf"), "mp4"),  # allowed by the caller, but we cannot verify it
    ],
)
def test_extension_is_checked_first(
    tmp_path: Path, name: str, allowed: tuple[str, ...], expected_ext: str
) -> None:
    missing = tmp_path / "never-written"  # not even opened: the name alone decides
    verdict = check_file(missing, name, allowed)
    assert verdict == files.FileVerdict(False, "extension", expected_ext, "")


def test_allowed_list_is_case_and_dot_insensitive(tmp_path: Path) -> None:
    path = filegen.make_pdf(tmp_path / "a")
    assert check_file(path, "CV.Pdf", (".PDF",)).ok


@pytest.mark.usefixtures("no_sniffing")
def test_size_is_checked_before_content(tmp_path: Path) -> None:
    path = filegen.make_sized(tmp_path / "big", MAX_FILE_BYTES + 1)
    assert check_file(path, "cv.pdf", ALL).reason == "too_large"
    assert check_file(filegen.make_empty(tmp_path / "empty"), "cv.pdf", ALL).reason == "empty"
    small = filegen.make_sized(tmp_path / "small", 2048)
    assert check_file(small, "cv.pdf", ALL, max_bytes=1024).reason == "too_large"


def test_largest_allowed_size_is_read(tmp_path: Path) -> None:
    """At exactly the limit the content is judged: 20 MB of NUL bytes is no PDF."""
    path = filegen.make_sized(tmp_path / "big", MAX_FILE_BYTES)
    assert check_file(path, "cv.pdf", ALL).reason == "content_mismatch"


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    verdict = check_file(tmp_path / "gone", "cv.pdf", ALL)
    assert (verdict.ok, verdict.reason) == (False, "unreadable")


# --- nothing is inflated or extracted -----------------------------------------------------------


def test_zip_bomb_is_listed_not_inflated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = filegen.make_zip_bomb(tmp_path / "bomb")
    with zipfile.ZipFile(path) as zf:  # the fixture really claims gigabytes
        assert sum(info.file_size for info in zf.infolist()) > 4 * 10**9

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an archive member was decompressed or opened")

    for name in ("decompress", "decompressobj"):
        monkeypatch.setattr(zlib, name, refuse)
    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)
    tracemalloc.start()
    try:
        verdict = check_file(path, "bewerbung.zip", ALL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert verdict.ok, verdict  # a valid archive: what it would inflate to is not our business
    assert peak < 2_000_000


def test_pdf_structure_is_read_in_small_pieces(tmp_path: Path) -> None:
    """A 19 MB PDF with a 100,000-entry xref table: the tail and a few windows, never the file."""
    path = filegen.make_pdf(tmp_path / "big.pdf", padding=15_000_000, filler=100_000)
    assert path.stat().st_size > 19_000_000
    tracemalloc.start()
    try:
        verdict = check_file(path, "cv.pdf", ALL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert verdict.ok, verdict
    assert peak < 200_000


def test_only_small_package_xml_is_inflated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The macro policy reads [Content_Types].xml and the .rels parts; no document part, no media."""
    path = tmp_path / "cv.docx"
    filegen.make_docx(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("word/media/image1.png", random.Random(1).randbytes(3_000_000))
    inflated: list[str] = []
    real = containers._inflate

    def spy(fh: BinaryIO, entry: containers.ZipEntry, cap: int) -> bytes:
        inflated.append(entry.name)
        return real(fh, entry, cap)

    monkeypatch.setattr(containers, "_inflate", spy)
    assert check_file(path, "cv.docx", ALL).ok
    assert sorted(inflated) == ["[Content_Types].xml", "_rels/.rels"]


def test_one_macro_policy_for_every_office_container() -> None:
    """OOXML and OLE2 are judged by one function and refused with one reason."""
    for ext in ("docx", "xlsx", "pptx", "doc", "xls", "ppt"):
        assert ext in files._OFFICE_EXTENSIONS
    assert files.MACRO == FileProblem.MACRO == "macro"
    assert "vba" in containers.MACRO_STORAGES and "vbaproject" in containers.MACRO_RELATIONSHIPS


@pytest.fixture
def app(make_app, sandbox_server, tmp_path):
    """An app that takes applications (the conftest one has no application settings)."""
    return make_app(**apply_env(sandbox_server.url, tmp_path))


@pytest.mark.parametrize("lang", ["en", "de"])
def test_candidate_is_told_about_macros(app, client, sandbox, tmp_path: Path, lang: str) -> None:
    path = filegen.make_docm_renamed_part(tmp_path / "upload.bin")
    fields = valid_fields(open_form(client, lang=lang))
    response = send(client, fields, [("cv", path, "Anschreiben.docx")], lang=lang)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    expected = {"en": "contains macros", "de": "enthält Makros"}[lang]
    assert expected in page and "Anschreiben.docx" in page


def test_checks_are_safe_across_threads(tmp_path: Path) -> None:
    """One libmagic handle serves concurrent requests; answers must not cross between threads."""
    paths = [(build(tmp_path / f"f{n}"), ext, mime) for n, (ext, build, mime) in enumerate(GENUINE)]
    failures: list[object] = []

    def work() -> None:
        for path, ext, mime in paths * 3:
            verdict = check_file(path, f"x.{ext}", ALL)
            if verdict.mimetype != mime or not verdict.ok:
                failures.append((ext, verdict))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# --- names -----------------------------------------------------------------------------------------

NAMES = [
    ("../../x.pdf", "x.pdf"),
    ("C:\\fakepath\\cv.pdf", "cv.pdf"),
    ("/etc/passwd", "passwd"),
    ("folder/", "document"),
    ("..%2F..%2Fetc%2Fpasswd.pdf", "%2F..%2Fetc%2Fpasswd.pdf"),  # never URL-decoded
    ("cv\u202efdp.exe", "cvfdp.exe"),  # RTL override removed: the real extension shows
    ("Lebenslauf\x00\x07_Müller.pdf", "Lebenslauf_Müller.pdf"),
    ("cv\u200b\ufeff.pdf", "cv.pdf"),  # zero-width space, BOM
    ("my\tcv\n  final .pdf", "my cv final.pdf"),
    ("cv.pdf. . ", "cv.pdf"),
    ('a<b>c:d"e|f?g*h.pdf', "a_b_c_d_e_f_g_h.pdf"),
    ("", "document"),
    (".", "document"),
    ("..", "document"),
    ("...", "document"),
    (".pdf", "document.pdf"),
    (".hidden.pdf", "hidden.pdf"),
    ("\u202e\u202d.pdf", "document.pdf"),
    ("Lebenslauf_Müller.pdf", "Lebenslauf_Müller.pdf"),
    ("履歴書.pdf", "履歴書.pdf"),
    ("Résumé – Zoë.docx", "Résumé – Zoë.docx"),
    ("Lebenslauf_Mu\u0308ller.pdf", "Lebenslauf_Müller.pdf"),  # decomposed ü becomes one letter
    ("archive.tar.gz", "archive.tar.gz"),
    ("Zeugnis Dr. Müller", "Zeugnis Dr. Müller"),  # " Müller" is no extension
]


@pytest.mark.parametrize(("raw", "clean"), NAMES)
def test_clean_filename(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean
    assert clean_filename(clean) == clean  # idempotent: cleaning twice changes nothing


def test_clean_filename_is_nfc() -> None:
    decomposed = "Mu\u0308ller.pdf"
    assert clean_filename(decomposed) == unicodedata.normalize("NFC", decomposed) != decomposed


@pytest.mark.parametrize(
    ("raw", "limit", "suffix"),
    [
        ("x" * 300 + ".pdf", 120, ".pdf"),
        ("ü" * 300 + ".docx", 120, ".docx"),
        ("履" * 300 + ".pdf", 40, ".pdf"),
        ("y" * 300, 120, "y"),
        ("a" * 115 + ". b.pdf", 120, "a.pdf"),  # the cut lands after a dot, which must go
    ],
)
def test_long_names_keep_their_extension(raw: str, limit: int, suffix: str) -> None:
    clean = clean_filename(raw, max_length=limit)
    assert len(clean) <= limit and clean.endswith(suffix)
    assert len(clean) >= limit - 2


def test_absurd_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        clean_filename("cv.pdf", max_length=5)


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("cv.PDF", "pdf"),
        ("archive.tar.gz", "gz"),
        ("cv", ""),
        ("C:\\x\\CV.Docx", "docx"),
        ("cv.pdf.", "pdf"),
        ("cv\u202efdp.exe", "exe"),
        (".pdf", "pdf"),
        ("cv. pdf", ""),
        ("../cv.7Z", "7z"),
    ],
)
def test_extension_of(name: str, ext: str) -> None:
    assert extension_of(name) == ext


def test_damaged_files_never_raise(tmp_path: Path) -> None:
    """Random damage to real files gets a verdict, never an exception (that would be a 500)."""
    rng = random.Random(20240601)
    tags = {None, "content_mismatch", "container_structure", "empty", "macro"}
    path = tmp_path / "damaged"
    for _ in range(300):
        ext, build, _ = rng.choice(GENUINE + VARIANTS + [row[1:] for row in LAYOUTS])
        data = bytearray(build(path).read_bytes())
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data) + 1)
            if rng.random() < 0.3:
                data = data[:at]  # truncated upload
            else:  # a random or extreme number over sizes, offsets and counts
                word = rng.choice([0, 0xFFFF, 0xFFFFFFFF, rng.randrange(2**32)]).to_bytes(
                    4, "little"
                )
                data[at : at + 4] = word
        path.write_bytes(bytes(data))
        assert check_file(path, f"x.{ext}", ALL).reason in tags


def _zip64_pointing_nowhere(path: Path, offset: int) -> Path:
    """A real zip whose end record claims zip64 and whose locator points at `offset`."""
    import struct

    filegen.make_zip(path)
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 0xFFFF, 0xFFFF)  # entry counts: "see zip64"
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, offset, 1)
    path.write_bytes(bytes(data[:end]) + locator + bytes(data[end:]))
    return path


@pytest.mark.parametrize("offset", [2**64 - 1, 2**63, 10**12])
@pytest.mark.parametrize("ext", ["zip", "docx", "odt"])
def test_zip64_offsets_from_the_file_are_never_trusted(tmp_path, offset, ext):
    path = _zip64_pointing_nowhere(tmp_path / f"evil.{ext}", offset)
    verdict = check_file(path, f"evil.{ext}", ALL)
    assert not verdict.ok and verdict.reason in {
        "container_structure",
        "unreadable",
        "content_mismatch",
    }


def _ole_with_far_mini_chain(path: Path, sectors: int) -> Path:
    """A compound file with a small Workbook stream (so the mini stream is read) whose root
    entry starts its chain at a sector index far past the file, and whose DIFAT chain (claimed
    4 billion sectors long) loops on itself."""
    import struct

    far = 0xF0000005  # the FAT entry for it is slot 5 of FAT sector 1, which points at itself
    header = bytearray(512)
    header[:8] = containers.OLE_SIGNATURE
    struct.pack_into("<HHHH", header, 26, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIII", header, 44, 1, 0, 0, 4096, far)  # FATs, dir, -, cut-off, mini FAT
    struct.pack_into("<II", header, 68, 2, 0xFFFFFFFF)  # DIFAT: first sector 2, "4 billion"
    struct.pack_into("<109I", header, 76, 1, *[0xFFFFFFFF] * 108)
    body = bytearray(512 * sectors)
    for at, name, kind, start, size in (
        (0, "Root Entry", 5, far, 64),
        (128, "Workbook", 2, 0, 100),
    ):
        encoded = (name + "\0").encode("utf-16-le")
        body[at : at + len(encoded)] = encoded
        struct.pack_into("<HB", body, at + 64, len(encoded), kind)
        struct.pack_into("<IQ", body, at + 116, start, size)
    fat = [0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC] + [0xFFFFFFFF] * 125
    fat[5] = far
    struct.pack_into("<128I", body, 512, *fat)
    struct.pack_into("<128I", body, 1024, *[1] * 127, 2)  # every slot: FAT sector 1; link: itself
    path.write_bytes(bytes(header + body))
    return path


def test_compound_file_chains_never_leave_the_file(tmp_path: Path) -> None:
    """A chain's sector is checked before its FAT entry is looked up, however the chain is
    read: the mini stream's chains too (biff.has_macro_sheets reads a small Workbook stream).
    Unchecked, each link of the root entry's chain walked ~250,000 DIFAT hops: 0.5 s a
    sector, minutes for a 1 MB upload, on a request thread."""
    import time

    path = _ole_with_far_mini_chain(tmp_path / "far.xls", sectors=64)
    started = time.monotonic()
    verdict = check_file(path, "far.xls", ALL)
    assert not verdict.ok and verdict.reason == "container_structure"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("decoy_first", [True, False])
def test_every_workbook_stream_is_checked_for_macro_sheets(tmp_path: Path, decoy_first) -> None:
    """Excel opens `Workbook` before `Book` (Excel 97 & 5.0/95 files carry both): a clean
    `Book` stream placed in front of a `Workbook` with an Excel 4.0 macro sheet must not hide
    it. Every Workbook/Book stream is scanned, in whatever order the directory lists them."""
    from tests import filegen_office

    macro = tmp_path / "macro.xls"
    filegen.make_xls_workbook(macro, (("Auto_Open", 0x01),), bof=0x40)
    with macro.open("rb") as fh:
        compound = containers._Compound(fh, macro.stat().st_size)
        [entry] = [e for e in compound.entries() if e.name == "Workbook"]
        workbook = b"".join(compound.stream(entry))
    clean = filegen_office._bof8(0x0005) + filegen_office._record(0x000A)
    summary = {filegen_office._SUMMARY: filegen_office._summary_information("Microsoft Excel")}
    streams = {"Book": clean, "Workbook": workbook}
    tree = streams if decoy_first else dict(reversed(streams.items()))
    path = filegen.make_cfb(tmp_path / "dual.xls", {**tree, **summary})
    assert check_file(path, "dual.xls", ALL).reason == "macro"


def test_a_compound_file_of_many_workbook_streams_is_refused(tmp_path: Path) -> None:
    """No real workbook has more than two; each is scanned whole, so their number is capped."""
    from tests import filegen_office

    clean = filegen_office._bof8(0x0005) + filegen_office._record(0x000A)
    tree = {f"S{i}": {"Workbook": clean} for i in range(6)}
    tree["Workbook"] = clean
    tree[filegen_office._SUMMARY] = filegen_office._summary_information("Microsoft Excel")
    path = filegen.make_cfb(tmp_path / "many.xls", tree)
    assert check_file(path, "many.xls", ALL).reason == "container_structure"
