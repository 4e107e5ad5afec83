"""Static files: content-hashed URLs, so they can be cached for a year and still update."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, request, url_for

from ..branding import logo_type

LONG = 365 * 24 * 3600


def _version(filename: str) -> str:
    """A short hash of the file's bytes, computed once per file and process."""
    cache: dict[str, str] = current_app.extensions.setdefault("careers.asset_versions", {})
    if filename not in cache:
        path = Path(current_app.static_folder or "") / filename
        try:
            cache[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        except OSError:
            cache[filename] = ""
    return cache[filename]


def add_version(endpoint: str, values: dict[str, Any]) -> None:
    """url_for('static', filename=…) gains ?v=<hash>."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = _version(values["filename"])
        if version:
            values["v"] = version


def long_cache(response: Response) -> Response:
    """A versioned asset never changes under its URL: let browsers and proxies keep it."""
    if request.endpoint == "static" and request.args.get("v") and response.status_code == 200:
        response.cache_control.public = True
        response.cache_control.max_age = LONG
        response.cache_control.immutable = True
    return response


@dataclass(frozen=True)
class BrandFile:
    """The company's logo or stylesheet, read once at start, served under its hash."""

    name: str  # e.g. "logo-3f9a1c2b7d4e.png"
    body: bytes
    mimetype: str


def _brand(path: Path | None, stem: str, mimetype: str | None) -> BrandFile | None:
    if path is None:
        return None
    body = path.read_bytes()
    kind = mimetype or logo_type(body) or "application/octet-stream"
    suffix = {"image/svg+xml": "svg", "image/jpeg": "jpg", "text/css": "css"}.get(
        kind, kind.rsplit("/", 1)[-1]
    )
    return BrandFile(f"{stem}-{hashlib.sha256(body).hexdigest()[:12]}.{suffix}", body, kind)


def brand_files(app: Flask) -> dict[str, BrandFile]:
    """Logo and stylesheet of CAREERS_LOGO_FILE / CAREERS_STYLESHEET_FILE, by role."""
    found: dict[str, BrandFile] = app.extensions.setdefault("careers.brand", {})
    return found


def brand_url(role: str) -> str | None:
    """The hashed URL of the logo ("logo") or the company stylesheet ("stylesheet")."""
    brand = current_app.extensions.get("careers.brand", {}).get(role)
    return url_for("brand", name=brand.name) if brand else None


def serve_brand(name: str) -> Response:
    for brand in current_app.extensions.get("careers.brand", {}).values():
        if brand.name == name:
            response = Response(brand.body, mimetype=brand.mimetype)
            response.cache_control.public = True
            response.cache_control.max_age = LONG
            response.cache_control.immutable = True
            return response
    abort(404)


def init_app(app: Flask) -> None:
    app.url_defaults(add_version)
    app.after_request(long_cache)
    settings = app.extensions["careers"].settings
    files = brand_files(app)
    logo = _brand(settings.logo_file, "logo", None)
    stylesheet = _brand(settings.stylesheet_file, "style", "text/css")
    if logo:
        files["logo"] = logo
    if stylesheet:
        files["stylesheet"] = stylesheet
    app.add_url_rule("/brand/<name>", "brand", serve_brand)
    app.jinja_env.globals["brand_url"] = brand_url
