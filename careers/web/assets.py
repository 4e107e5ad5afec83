"""Static files: content-hashed URLs, so they can be cached for a year and still update."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, request

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


def add_version(endpoint: str, values: dict) -> None:
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


def init_app(app: Flask) -> None:
    app.url_defaults(add_version)
    app.after_request(long_cache)
