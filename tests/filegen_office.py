"""Office files for upload tests: OOXML and ODF packages, OLE2 compound files (doc, xls, ppt).

Each is the smallest package its application opens (checked with python-docx, openpyxl,
python-pptx, odfpy and olefile while writing this; none of them is a test dependency).
"""

from __future__ import annotations

import struct
import warnings
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

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


_VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_VBA_TYPE = "application/vnd.ms-office.vbaProject"


def make_docm_renamed_part(
    path: Path,
    *,
    main_type: str = "application/vnd.ms-word.document.macroEnabled.main+xml",
    part_type: str | None = _VBA_TYPE,
    relationship: str | None = _VBA_REL,
    encoding: str = "utf-8",
) -> Path:
    """A .docm under a .docx name whose VBA part is word/other.bin, so its name gives nothing away.

    The keywords take away one sign at a time (None: left out), to show each is caught alone:
    the main part's content type, the part's own content type, the relationship to it.
    """
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = f"{_XML}<w:document {w}><w:body><w:p><w:r><w:t>{CV_TEXT}</w:t></w:r></w:p></w:body></w:document>"
    overrides = f'<Override PartName="/word/document.xml" ContentType="{main_type}"/>'
    if part_type:
        overrides += f'<Override PartName="/word/other.bin" ContentType="{part_type}"/>'
    rels = '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    types = (
        f'<?xml version="1.0" encoding="{encoding}" standalone="yes"?>\n'
        f'<Types xmlns="{_PKG}/content-types">{rels}'
        f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>'
    )
    links = (
        f'<Relationship Id="rId9" Type="{relationship}" Target="other.bin"/>'
        if relationship
        else ""
    )
    document_rels = f'{_XML}<Relationships xmlns="{_PKG}/relationships">{links}</Relationships>'
    return write_zip(
        path,
        [
            ("[Content_Types].xml", types.encode(encoding)),
            ("_rels/.rels", _rels(("officeDocument", "word/document.xml"))),
            ("word/document.xml", body),
            ("word/_rels/document.xml.rels", document_rels),
            ("word/other.bin", OLE_SIGNATURE + bytes(504)),
        ],
    )


def make_macro_enabled(path: Path, kind: str) -> Path:
    """A .xlsm or .pptm renamed .xlsx/.pptx: the genuine package with its main part typed macroEnabled."""
    plain, macro = {
        "xlsx": (
            "spreadsheetml.sheet.main+xml",
            "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        ),
        "pptx": (
            "presentationml.presentation.main+xml",
            "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
        ),
    }[kind]
    build = make_xlsx if kind == "xlsx" else make_pptx
    return _rewrite_part(
        build(path), "[Content_Types].xml", lambda xml: xml.replace(_TYPES + plain, macro)
    )


def make_docx_with_content_types(path: Path, types: bytes) -> Path:
    """A genuine .docx whose [Content_Types].xml is replaced by `types`."""
    return _rewrite_part(make_docx(path), "[Content_Types].xml", lambda _: types.decode("latin-1"))


def make_docx_twice_typed(path: Path) -> Path:
    """A .docx with a second, macro-free [Content_Types].xml entry in another letter case."""
    make_docx(path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("[content_types].xml", _content_types({}))
    return path


def _rewrite_part(path: Path, name: str, change: Callable[[str], str]) -> Path:
    """Write the package again with one part's text changed, keeping the order of the parts."""
    with zipfile.ZipFile(path) as zf:
        parts = [(i.filename, zf.read(i.filename).decode("latin-1")) for i in zf.infolist()]
    parts = [(n, (change(t) if n == name else t).encode("latin-1")) for n, t in parts]
    return write_zip(path, list(parts))


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


# A compound file's tree: a stream's bytes, or a storage's own tree.
Tree = Mapping[str, "bytes | Tree"]


def _siblings(entries: list[dict[str, Any]], ids: list[int], depth: int = 0) -> int:
    """Link the entries `ids` (sorted) as a balanced binary tree; its root's id, or _FREE."""
    if not ids:
        return _FREE
    mid = len(ids) // 2
    node = entries[ids[mid]]
    node["depth"] = depth
    node["left"] = _siblings(entries, ids[:mid], depth + 1)
    node["right"] = _siblings(entries, ids[mid + 1 :], depth + 1)
    return ids[mid]


def make_cfb(path: Path, streams: Tree) -> Path:
    """A valid compound file (version 3) with streams and storages in regular sectors.

    Sector 0 is the FAT, then the directory, then the streams. Each stream is padded to the
    4096-byte mini-stream cut-off, so no mini FAT is needed. Entries are numbered storage by
    storage (the root's children first). Each storage's children form a proper red-black tree:
    sorted by name length, then upper-cased name, balanced, the deepest level red.
    """
    entries: list[dict[str, Any]] = [{"name": "Root Entry", "kind": 5, "tree": streams}]
    pending = [0]
    while pending:
        parent = entries[pending.pop(0)]
        names = sorted(parent["tree"], key=lambda n: (len(n), n.upper()))
        ids = list(range(len(entries), len(entries) + len(names)))
        for name in names:
            value = parent["tree"][name]
            if isinstance(value, bytes):
                entries.append({"name": name, "kind": 2, "data": value})
            else:
                pending.append(len(entries))
                entries.append({"name": name, "kind": 1, "tree": value})
        parent["child"] = _siblings(entries, ids)
        deepest = max((entries[i]["depth"] for i in ids), default=0)
        for i in ids:
            entries[i]["red"] = deepest > 0 and entries[i]["depth"] == deepest
    dir_sectors = -(-len(entries) // 4)
    fat = [_FATSECT, *range(2, dir_sectors + 1), _END]
    body = bytearray()
    for entry in entries:
        if entry["kind"] != 2:
            continue
        data = entry["data"].ljust(4096, b"\0")
        data = data.ljust(-(-len(data) // 512) * 512, b"\0")
        first, count = 1 + dir_sectors + len(body) // 512, len(data) // 512
        fat += [*range(first + 1, first + count), _END]
        entry["start"], entry["size"], body = first, len(data), body + data
    assert len(fat) <= 128, "one FAT sector maps 128 sectors"
    fat += [_FREE] * (128 - len(fat))
    directory = b"".join(
        _dir_entry(
            e["name"],
            e["kind"],
            e.get("red", False),
            e.get("left", _FREE),
            e.get("right", _FREE),
            child=e.get("child", _FREE),
            start=e.get("start", _END if e["kind"] == 5 else 0),
            size=e.get("size", 0),
        )
        for e in entries
    )
    directory += _dir_entry("", 0) * (4 * dir_sectors - len(entries))
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


# A VBA project as Office stores it: a VBA storage with `_VBA_PROJECT` (version header), `dir`
# (the compressed module directory) and one module, beside PROJECT and PROJECTwm. The streams
# only open like the real ones; nothing here would run.
_VBA: Tree = {
    "VBA": {
        "_VBA_PROJECT": b"\xcc\x61\xff\xff\x00\x00\x00",
        "dir": b"\x01\x00\x00",
        "Module1": b'\x01\x00\x00Attribute VB_Name = "Module1"',
    },
    "PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\nModule=Module1\r\n',
    "PROJECTwm": b"Module1\0M\0o\0d\0u\0l\0e\0\x31\0\0\0\0\0",
}


def make_doc_with_macros(path: Path, storage: str = "Macros", project: Tree = _VBA) -> Path:
    """A Word 97 document with a VBA project, where Word keeps one: the `Macros` storage."""
    word = struct.pack("<HH", 0xA5EC, 0x00C1)
    summary = _summary_information("Microsoft Office Word")
    return make_cfb(path, {"WordDocument": word, _SUMMARY: summary, storage: project})


def make_xls_with_macros(path: Path) -> Path:
    """An Excel 97 workbook with a VBA project in `_VBA_PROJECT_CUR`, as Excel saves it."""
    bof = struct.pack("<HHHH", 0x0809, 16, 0x0600, 0x0005)
    summary = _summary_information("Microsoft Excel")
    return make_cfb(path, {"Workbook": bof, _SUMMARY: summary, "_VBA_PROJECT_CUR": _VBA})


def make_odf_rezipped(
    path: Path,
    kind: str = "text",
    *,
    mimetype: str | None = None,
    extra: tuple[tuple[str, str | bytes], ...] = (),
    twice: bool = False,
    prefix: bytes = b"",
) -> Path:
    """An ODF package as `zip -r` leaves it: folders in name order, `mimetype` late and deflated.

    The keywords build hostile packages: another media type, `extra` parts (an executable),
    a second `mimetype` entry, or bytes in front of the archive (a self-extracting executable).
    """
    body = "<office:text><text:p>x</text:p></office:text>"
    if kind == "spreadsheet":
        body = '<office:spreadsheet><table:table table:name="CV"/></office:spreadsheet>'
    source = _odf(path, kind, body, None, stored=True, content=True)
    with zipfile.ZipFile(source) as zf:
        parts: list[tuple[str, str | bytes]] = [(n, zf.read(n)) for n in zf.namelist()]
    if mimetype is not None:
        parts = [(n, mimetype if n == "mimetype" else d) for n, d in parts]
    parts = sorted([*parts, *extra], key=lambda part: part[0].lower())
    if twice:
        parts.append(("mimetype", _ODF + ("spreadsheet" if kind == "text" else "text")))
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name we want
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    if prefix:
        path.write_bytes(
            prefix + path.read_bytes()
        )  # offsets now wrong: as a naive glue leaves them
    return path


# --- BIFF: Excel's records, bare (Excel 2.1–4.0) or in a Workbook stream (Excel 5 and later) ------


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def make_biff_sheet(path: Path, version: int = 4, sheet: int = 0x0010, tail: bytes = b"") -> Path:
    """An Excel 2.1/3.0/4.0 worksheet as Excel wrote it: a bare stream of BIFF records.

    BOF (its sheet type: 0x10 worksheet, 0x40 Excel 4.0 macro sheet), one LABEL cell, EOF;
    `tail` is glued on after the EOF.
    """
    bof = {2: (0x0009, b""), 3: (0x0209, b"\0\0"), 4: (0x0409, b"\0\0")}[version]
    text = b"Lebenslauf"
    label = struct.pack("<HH3sB", 0, 0, b"\0\0\0", len(text)) + text  # row, column, style, text
    records = _record(bof[0], struct.pack("<HH", 0, sheet) + bof[1])  # Excel wrote version 0
    records += _record(0x0004 if version == 2 else 0x0204, label) + _record(0x000A)
    path.write_bytes(records + tail)
    return path


def _bof8(sheet: int) -> bytes:
    """A BIFF8 BOF record: version 0x0600, the sheet type, build and year of Excel 97."""
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, sheet, 0x0DBB, 0x07CC, 0x41, 0x06))


def make_xls_workbook(
    path: Path, sheets: tuple[tuple[str, int], ...] = (("Lebenslauf", 0x00),), *, bof: int = 0x10
) -> Path:
    """An Excel 97 workbook: the global part with one BOUNDSHEET per sheet (its type byte: 0x00
    worksheet, 0x01 Excel 4.0 macro sheet), then each sheet's substream opening with a BOF of
    type `bof` (0x10 worksheet, 0x40 macro sheet)."""
    names = [bytes([0, kind, len(name), 0]) + name.encode("latin-1") for name, kind in sheets]
    start = len(_bof8(0x0005)) + sum(8 + len(n) for n in names) + 4  # where the sheets begin
    substream = _bof8(bof) + _record(0x000A)
    bound = b"".join(
        _record(0x0085, struct.pack("<I", start + i * len(substream)) + name)
        for i, name in enumerate(names)
    )
    glob = _bof8(0x0005) + bound + _record(0x000A)
    subs = substream * len(names)
    summary = _summary_information("Microsoft Excel")
    return make_cfb(path, {"Workbook": glob + subs, _SUMMARY: summary})
