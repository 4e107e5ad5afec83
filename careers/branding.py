"""The company's logo and stylesheet (CAREERS_LOGO_FILE, CAREERS_STYLESHEET_FILE): what we
accept, judged by content, never by the file's name.

Plain Python, no Flask: config.py uses the two parsers at start-up, so a bad file stops
every command with one line; web/assets.py serves the accepted bytes under their hash.
"""

from __future__ import annotations

import re
from pathlib import Path

from .config_parsers import existing_file

LOGO_TYPES = {  # what the header shows: raster or SVG images, small enough for every page
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
MAX_BRAND_BYTES = 512 * 1024


def logo_type(data: bytes) -> str | None:
    """The logo's MIME type by content, or None when it is not an image we serve."""
    for magic_bytes, mimetype in LOGO_TYPES.items():
        if data.startswith(magic_bytes):
            return mimetype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg")) and b"<svg" in data[:4096].lower():
        # An SVG can carry script: refuse anything active rather than trust it.
        lowered = data.lower()
        active = (b"<script", b"javascript:", b"<foreignobject")
        if any(s in lowered for s in active) or re.search(rb"\son[a-z]+\s*=", lowered):
            return None
        return "image/svg+xml"
    return None


def logo_file(value: str) -> Path:
    """CAREERS_LOGO_FILE: an image the header can show on every page."""
    data = _read(value)
    if len(data) > MAX_BRAND_BYTES:
        raise ValueError(f"{value!r} is larger than 512 KB; a header logo needs far less")
    if logo_type(data) is None:
        raise ValueError(
            f"{value!r} is not a PNG, JPEG, GIF, WebP or SVG image (SVG without scripts or"
            " event handlers)"
        )
    return Path(value)


def stylesheet_file(value: str) -> Path:
    """CAREERS_STYLESHEET_FILE: CSS served as UTF-8 text after ours."""
    data = _read(value)
    if len(data) > MAX_BRAND_BYTES:
        raise ValueError(f"{value!r} is larger than 512 KB")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{value!r} is not a UTF-8 text file") from None
    return Path(value)


def _read(value: str) -> bytes:
    """The file's bytes; a missing or unreadable file is a ValueError naming it."""
    path = existing_file(value)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {value!r}: {exc.strerror or exc}") from None
