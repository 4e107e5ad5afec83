"""Office files for upload tests: OOXML and ODF packages, OLE2 compound files (doc, xls, ppt).

Each is the smallest package its application opens (checked with python-docx, openpyxl,
python-pptx, odfpy and olefile while writing this; none of them is a test dependency).
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

CV_TEXT = "Lebenslauf – Jürgen Müller, Straße 1, Köln"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def write_zip(
    path: Path, parts: list[tuple[str, str | bytes]], stored: frozenset[str] = frozenset()
) -> Path:
    """Write the parts in the given order (order matters to libmagic), deflated unless stored."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


# --- OOXML ---------------------------------------------------------------------------------------

_TYPES = "application/vnd.openxmlformats-officedocument."
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"


def _content_types(overrides: dict[str, str]) -> str:
    """The package's [Content_Types].xml with one override per part."""
    items = "".join(
        f'<Override PartName="/{p}" ContentType="{_TYPES}{k}"/>' for p, k in overrides.items()
    )
    rels = '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    xml = '<Default Extension="xml" ContentType="application/xml"/>'
    return f'{_XML}<Types xmlns="{_PKG}/content-types">{rels}{xml}{items}</Types>'


def _rels(*targets: tuple[str, str]) -> str:
    """A relationships part; each target is (relationship type, target path)."""
    items = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/{kind}" Target="{target}"/>'
        for n, (kind, target) in enumerate(targets, start=1)
    )
    return f'{_XML}<Relationships xmlns="{_PKG}/relationships">{items}</Relationships>'


def _ooxml(
    path: Path, overrides: dict[str, str], parts: list[tuple[str, str]], layout: str
) -> Path:
    """Package the parts; `layout` imitates producers whose entry order libmagic does not expect.

    libmagic 5.44 names the OOXML type only from the first few zip entries. "late-main" puts three
    docProps parts before the main part: libmagic then says application/octet-stream ("Microsoft
    OOXML"). "foreign-first" starts with a part it does not expect there: application/zip.
    """
    main = next(iter(overrides))
    head = [
        ("[Content_Types].xml", _content_types(overrides)),
        ("_rels/.rels", _rels(("officeDocument", main))),
    ]
    if layout == "late-main":
        head += [(f"docProps/custom{n}.xml", f"{_XML}<Properties/>") for n in range(3)]
    elif layout == "foreign-first":
        head.insert(0, ("media/notes.xml", f"{_XML}<notes/>"))
    return write_zip(path, head + parts)


def make_docx(path: Path, text: str = CV_TEXT, *, layout: str = "office") -> Path:
    """A Word document with one paragraph: the minimal parts Word opens."""
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = f"{_XML}<w:document {w}><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    overrides = {"word/document.xml": "wordprocessingml.document.main+xml"}
    return _ooxml(path, overrides, [("word/document.xml", body)], layout)


def make_docm_as_docx(path: Path) -> Path:
    """A macro-enabled Word package (it holds vbaProject.bin) renamed to .docx."""
    make_docx(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("word/vbaProject.bin", OLE_SIGNATURE + bytes(504))
    return path


def make_xlsx(path: Path, text: str = CV_TEXT, *, layout: str = "office") -> Path:
    """An Excel workbook with one sheet and one inline-string cell."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheets = '<sheets><sheet name="CV" sheetId="1" r:id="rId1"/></sheets>'
    cell = f'<c r="A1" t="inlineStr"><is><t>{text}</t></is></c>'
    overrides = {
        "xl/workbook.xml": "spreadsheetml.sheet.main+xml",
        "xl/worksheets/sheet1.xml": "spreadsheetml.worksheet+xml",
    }
    parts = [
        ("xl/workbook.xml", f'{_XML}<workbook {ns} xmlns:r="{_REL}">{sheets}</workbook>'),
        ("xl/_rels/workbook.xml.rels", _rels(("worksheet", "worksheets/sheet1.xml"))),
        (
            "xl/worksheets/sheet1.xml",
            f'{_XML}<worksheet {ns}><sheetData><row r="1">{cell}</row></sheetData></worksheet>',
        ),
    ]
    return _ooxml(path, overrides, parts, layout)


_P = (
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    f'xmlns:r="{_REL}" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
)
_TREE = '<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>'
_MAP = "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr>"
_COLOURS = ["dk1", "lt1", "dk2", "lt2", *(f"accent{n}" for n in range(1, 7)), "hlink", "folHlink"]


def _theme() -> str:
    """The smallest complete DrawingML theme; PowerPoint refuses a master without one."""
    colours = "".join(f'<a:{n}><a:srgbClr val="{i:06X}"/></a:{n}>' for i, n in enumerate(_COLOURS))
    font = '<a:latin typeface="Arial"/><a:ea typeface=""/><a:cs typeface=""/>'
    fill = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'
    effect = "<a:effectStyle><a:effectLst/></a:effectStyle>"
    return (
        f'{_XML}<a:theme {_P} name="Plain"><a:themeElements><a:clrScheme name="Plain">{colours}</a:clrScheme>'
        f'<a:fontScheme name="Plain"><a:majorFont>{font}</a:majorFont><a:minorFont>{font}</a:minorFont>'
        f'</a:fontScheme><a:fmtScheme name="Plain"><a:fillStyleLst>{fill * 3}</a:fillStyleLst>'
        f"<a:lnStyleLst>{('<a:ln>' + fill + '</a:ln>') * 3}</a:lnStyleLst>"
        f"<a:effectStyleLst>{effect * 3}</a:effectStyleLst><a:bgFillStyleLst>{fill * 3}"
        "</a:bgFillStyleLst></a:fmtScheme></a:themeElements></a:theme>"
    )


def _pptx_parts(text: str) -> list[tuple[str, str]]:
    """Presentation, master, layout, slide and theme, each with its relationships."""
    shape = (
        '<p:sp><p:nvSpPr><p:cNvPr id="2" name="Text"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr>'
        '<p:spPr><a:xfrm><a:off x="457200" y="457200"/><a:ext cx="8229600" cy="914400"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr>'
        f"<p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp>"
    )
    clr_map = " ".join(
        f'{k}="{v}"' for k, v in zip(["tx1", "bg1", "tx2", "bg2"], _COLOURS[:4], strict=True)
    )
    clr_map += "".join(f' {n}="{n}"' for n in _COLOURS[4:])
    master, layout, slide = (
        "slideMasters/slideMaster1.xml",
        "slideLayouts/slideLayout1.xml",
        "slides/slide1.xml",
    )
    return [
        (
            "ppt/presentation.xml",
            f'{_XML}<p:presentation {_P}><p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/>'
            '</p:sldMasterIdLst><p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst>'
            '<p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>',
        ),
        (
            "ppt/_rels/presentation.xml.rels",
            _rels(("slideMaster", master), ("slide", slide), ("theme", "theme/theme1.xml")),
        ),
        (
            f"ppt/{master}",
            f"{_XML}<p:sldMaster {_P}><p:cSld><p:spTree>{_TREE}</p:spTree></p:cSld><p:clrMap {clr_map}/>"
            '<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst></p:sldMaster>',
        ),
        (
            "ppt/slideMasters/_rels/slideMaster1.xml.rels",
            _rels(("slideLayout", f"../{layout}"), ("theme", "../theme/theme1.xml")),
        ),
        (
            f"ppt/{layout}",
            f"{_XML}<p:sldLayout {_P}><p:cSld><p:spTree>{_TREE}</p:spTree></p:cSld>{_MAP}</p:sldLayout>",
        ),
        ("ppt/slideLayouts/_rels/slideLayout1.xml.rels", _rels(("slideMaster", f"../{master}"))),
        (
            f"ppt/{slide}",
            f"{_XML}<p:sld {_P}><p:cSld><p:spTree>{_TREE}{shape}</p:spTree></p:cSld>{_MAP}</p:sld>",
        ),
        ("ppt/slides/_rels/slide1.xml.rels", _rels(("slideLayout", f"../{layout}"))),
        ("ppt/theme/theme1.xml", _theme()),
    ]


def make_pptx(path: Path, text: str = CV_TEXT, *, layout: str = "office") -> Path:
    """A presentation with one master, layout, theme and a slide with one text box."""
    overrides = {
        "ppt/presentation.xml": "presentationml.presentation.main+xml",
        "ppt/slideMasters/slideMaster1.xml": "presentationml.slideMaster+xml",
        "ppt/slideLayouts/slideLayout1.xml": "presentationml.slideLayout+xml",
        "ppt/slides/slide1.xml": "presentationml.slide+xml",
        "ppt/theme/theme1.xml": "theme+xml",
    }
    return _ooxml(path, overrides, _pptx_parts(text), layout)


# --- ODF -----------------------------------------------------------------------------------------

_ODF = "application/vnd.oasis.opendocument."
_ODF_NS = " ".join(
    f'xmlns:{p}="urn:oasis:names:tc:opendocument:xmlns:{p}:1.0"'
    for p in ("office", "text", "table", "manifest")
)


def _odf(
    path: Path, kind: str, body: str, mimetype: str | None, stored: bool, content: bool
) -> Path:
    """An ODF package: `mimetype` first and stored, then content and manifest."""
    mimetype = mimetype or _ODF + kind
    entry = '<manifest:file-entry manifest:full-path="{}" manifest:media-type="{}"/>'
    manifest = f'{_XML}<manifest:manifest {_ODF_NS} manifest:version="1.2">'
    manifest += (
        entry.format("/", mimetype)
        + entry.format("content.xml", "text/xml")
        + "</manifest:manifest>"
    )
    document = f'{_XML}<office:document-content {_ODF_NS} office:version="1.2"><office:body>{body}'
    parts = [
        ("mimetype", mimetype),
        ("content.xml", document + "</office:body></office:document-content>"),
    ]
    parts = [*parts[: 1 + content], ("META-INF/manifest.xml", manifest)]
    return write_zip(path, parts, stored=frozenset({"mimetype"} if stored else ()))


def make_odt(
    path: Path,
    text: str = CV_TEXT,
    *,
    mimetype: str | None = None,
    stored: bool = True,
    content: bool = True,
) -> Path:
    """A text document with one paragraph; the keywords build broken packages."""
    return _odf(
        path,
        "text",
        f"<office:text><text:p>{text}</text:p></office:text>",
        mimetype,
        stored,
        content,
    )


def make_ods(
    path: Path, text: str = CV_TEXT, *, mimetype: str | None = None, stored: bool = True
) -> Path:
    """A spreadsheet with one string cell."""
    cell = (
        f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'
    )
    table = f'<table:table table:name="CV"><table:table-row>{cell}</table:table-row></table:table>'
    return _odf(
        path,
        "spreadsheet",
        f"<office:spreadsheet>{table}</office:spreadsheet>",
        mimetype,
        stored,
        True,
    )


# --- OLE2 compound files (doc, xls, ppt) ---------------------------------------------------------

_FREE, _END, _FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
_DIR_ENTRY = struct.Struct("<64sHBBIII16sIQQIQ")
_HEADER = struct.Struct("<8s16s5H6s9I109I")


def _dir_entry(
    name: str, kind: int, red: bool = False, left: int = _FREE, right: int = _FREE, **kw: int
) -> bytes:
    """One 128-byte directory entry (kind 5 root storage, 2 stream, 0 unused)."""
    raw = (name + "\0").encode("utf-16-le") if name else b""
    colour = 1 if kind and not red else 0
    child, start, size = kw.get("child", _FREE), kw.get("start", 0), kw.get("size", 0)
    return _DIR_ENTRY.pack(
        raw, len(raw), kind, colour, left, right, child, b"", 0, 0, 0, start, size
    )


def make_cfb(path: Path, streams: dict[str, bytes]) -> Path:
    """A valid compound file (version 3) with up to three streams in regular sectors.

    Sector 0 is the FAT, sector 1 the directory, the streams follow. Each stream is padded to the
    4096-byte mini-stream cut-off, so no mini FAT is needed. The directory is a proper red-black
    tree: siblings sorted by name length, then upper-cased name.
    """
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    assert 1 <= len(names) <= 3, "one directory sector holds the root and three streams"
    fat, body, spans = [_FATSECT, _END], bytearray(), {}
    for name in names:
        data = streams[name].ljust(4096, b"\0")
        data = data.ljust(-(-len(data) // 512) * 512, b"\0")
        first, count = 2 + len(body) // 512, len(data) // 512
        fat += [*range(first + 1, first + count), _END]
        spans[name], body = (first, len(data)), body + data
    fat += [_FREE] * (128 - len(fat))
    mid = len(names) // 2  # the middle name is the tree's black root, its neighbours red leaves
    directory = _dir_entry("Root Entry", 5, child=mid + 1, start=_END)
    for n, name in enumerate(names):
        left = 1 if n == mid and mid > 0 else _FREE
        right = len(names) if n == mid and mid < len(names) - 1 else _FREE
        start, size = spans[name]
        directory += _dir_entry(name, 2, n != mid, left, right, start=start, size=size)
    directory += _dir_entry("", 0) * (3 - len(names))
    header = _HEADER.pack(
        OLE_SIGNATURE,
        b"",
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"",
        0,
        1,
        1,
        0,
        4096,
        _END,
        0,
        _END,
        0,
        0,
        *[_FREE] * 108,
    )
    path.write_bytes(header + struct.pack("<128I", *fat) + directory + bytes(body))
    return path


def _summary_information(application: str) -> bytes:
    """A SummaryInformation property set naming the application, where libmagic looks first."""
    raw = application.encode("cp1252") + b"\0"
    values = [  # PIDSI_CODEPAGE as VT_I2, PIDSI_APPNAME as VT_LPSTR
        (1, struct.pack("<HHhxx", 2, 0, 1252)),
        (0x12, struct.pack("<HHI", 0x1E, 0, len(raw)) + raw.ljust(-(-len(raw) // 4) * 4, b"\0")),
    ]
    offset, table, data = 8 + 8 * len(values), b"", b""
    for pid, value in values:
        table += struct.pack("<II", pid, offset + len(data))
        data += value
    section = struct.pack("<II", offset + len(data), len(values)) + table + data
    fmtid = bytes.fromhex("e0859ff2f94f6810ab9108002b27b3d9")  # FMTID_SummaryInformation
    return (
        struct.pack("<HHI16sI", 0xFFFE, 0, 0x00020006, b"", 1)
        + fmtid
        + struct.pack("<I", 48)
        + section
    )


_SUMMARY = "\x05SummaryInformation"


def make_doc(path: Path) -> Path:
    """A Word 97 container: WordDocument stream opening with the FIB magic (not a whole FIB)."""
    word = struct.pack("<HH", 0xA5EC, 0x00C1)
    return make_cfb(
        path, {"WordDocument": word, _SUMMARY: _summary_information("Microsoft Office Word")}
    )


def make_xls(path: Path) -> Path:
    """An Excel 97 container: Workbook stream opening with a BIFF8 BOF record (not a whole book)."""
    bof = struct.pack("<HHHH", 0x0809, 16, 0x0600, 0x0005)
    return make_cfb(path, {"Workbook": bof, _SUMMARY: _summary_information("Microsoft Excel")})


def make_ppt(path: Path) -> Path:
    """A PowerPoint 97 container: 'PowerPoint Document' and 'Current User' streams (both empty)."""
    summary = _summary_information("Microsoft Office PowerPoint")
    return make_cfb(path, {"PowerPoint Document": b"", "Current User": b"", _SUMMARY: summary})
