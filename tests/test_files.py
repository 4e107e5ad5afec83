"""Attachment checks on real files: every allowed type passes, every disguise is caught by reason."""

from __future__ import annotations

import random
import threading
import tracemalloc
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from careers.applications import files
from careers.applications.files import (
    ALLOWED_TYPES,
    CANONICAL_TYPES,
    MAX_FILE_BYTES,
    check_file,
    clean_filename,
    extension_of,
)
from tests import filegen

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


MISMATCH, STRUCTURE = "content_mismatch", "container_structure"
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
    ("utf16-txt", filegen.make_utf16_txt, "cv.txt", MISMATCH),
    ("png-as-pdf", filegen.make_png, "cv.pdf", MISMATCH),
    ("png-as-jpg", filegen.make_png, "photo.jpg", MISMATCH),
    ("jpeg-as-png", filegen.make_jpeg, "photo.png", MISMATCH),
    ("pdf-as-txt", filegen.make_pdf, "cv.txt", MISMATCH),
    ("gz-as-zip", filegen.make_gz, "cv.zip", MISMATCH),
    ("rar-as-7z", filegen.make_rar, "cv.7z", MISMATCH),
    ("docx-as-xlsx", filegen.make_docx, "cv.xlsx", MISMATCH),
    ("xls-as-doc", filegen.make_xls, "cv.doc", MISMATCH),
    ("ods-as-odt", filegen.make_ods, "cv.odt", MISMATCH),
    ("odt-deflated-mimetype", partial(filegen.make_odt, stored=False), "cv.odt", MISMATCH),
    ("plain-zip-as-docx", filegen.make_plain_zip_as_docx, "cv.docx", STRUCTURE),
    ("plain-zip-as-pptx", filegen.make_plain_zip_as_docx, "cv.pptx", STRUCTURE),
    (
        "docx-late-main-as-xlsx",
        partial(filegen.make_docx, layout="late-main"),
        "cv.xlsx",
        STRUCTURE,
    ),
    ("docm-as-docx", filegen.make_docm_as_docx, "cv.docx", STRUCTURE),
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
    tags = {None, "content_mismatch", "container_structure", "empty"}
    path = tmp_path / "damaged"
    for _ in range(300):
        ext, build, _ = rng.choice(GENUINE + VARIANTS)
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
