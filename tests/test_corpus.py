"""No false rejections: every public file an independent reader opens, careers accepts.

The files are real ones from the source distributions of public packages (fixtures/corpus/,
each named with its package, version and path in SOURCES.md). Each is first opened by a reader
that is not ours — pypdf, xlrd, odfpy, python-docx, openpyxl, python-pptx, Python's codecs — so
a file that reader refuses cannot make this test pass by accident; then `check_file` must
accept it under its own name.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import docx
import openpyxl
import pptx
import pypdf
import pytest
import xlrd
from odf import opendocument

from careers.applications.files import ALLOWED_TYPES, check_file

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
FILES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file())
SAMPLES = [name for name in FILES if name != "SOURCES.md"]
# What the text reader refuses in decoded text: the control characters no text holds.
_CONTROLS = re.compile("[\x00-\x08\x10-\x19\x1c-\x1f\x7f]")


def _pdf(path: Path, folder: str) -> None:
    """pypdf reads every page; strictly, except for the pointer repairs every viewer makes."""
    reader = pypdf.PdfReader(path, strict=folder != "pdf-repaired")
    for page in reader.pages:
        page.extract_text()


def _text(path: Path, folder: str) -> None:
    """The codec the folder names decodes the whole file, and the text holds no binary controls."""
    codec = path.parent.name
    text = path.read_bytes().decode(codec)
    assert not _CONTROLS.search(text)


READERS: dict[str, Callable[[Path, str], object]] = {
    "pdf": _pdf,
    "xls": lambda path, folder: xlrd.open_workbook(path, logfile=io.StringIO()),
    "odt": lambda path, folder: opendocument.load(str(path)),
    "ods": lambda path, folder: opendocument.load(str(path)),
    "docx": lambda path, folder: docx.Document(str(path)),
    "xlsx": lambda path, folder: openpyxl.load_workbook(path),
    "pptx": lambda path, folder: pptx.Presentation(str(path)),
    "txt": _text,
}


def test_the_corpus_covers_what_candidates_send() -> None:
    """Enough files of each kind, and SOURCES.md names exactly the files that are there."""
    kinds = {name.rsplit(".", 1)[-1] for name in SAMPLES}
    assert kinds == set(READERS) and len(SAMPLES) >= 100
    listed = re.findall(r"^\| `([^`]+)` \|", (CORPUS / "SOURCES.md").read_text(), re.M)
    assert sorted(listed) == SAMPLES


@pytest.mark.parametrize("name", SAMPLES)
def test_what_an_independent_reader_opens_is_accepted(name: str) -> None:
    path = CORPUS / name
    ext = name.rsplit(".", 1)[-1]
    READERS[ext](path, name.split("/", 1)[0])  # raises (or warns, an error here) if it cannot
    verdict = check_file(path, path.name, ALLOWED_TYPES)
    assert (verdict.ok, verdict.reason) == (True, None), verdict
