"""The origin check: every form post must come from a page of ours, not another site.

Browsers send Origin and Sec-Fetch-Site on every form post; together with the form tokens
(tokens.py) they stop cross-site posts without a cookie, so forms also work in the widget's
third-party iframe.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from .tokens import Forged


class Headers(Protocol):
    """A request's headers (werkzeug's, or a plain dict in tests)."""

    def get(self, key: str) -> str | None: ...


def check_origin(headers: Headers, own_origins: set[str]) -> None:
    """Refuse cross-site posts (Forged with the reason)."""
    site = headers.get("Sec-Fetch-Site")
    if site is not None and site not in {"same-origin", "none"}:
        raise Forged("cross_site")
    origin = headers.get("Origin")
    if origin is not None and origin != "null" and _origin(origin) not in own_origins:
        raise Forged("foreign_origin")
    if origin == "null" and site != "same-origin":
        raise Forged("opaque_origin")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(host_url: str, public_url: str) -> set[str]:
    """Our origin as the request sees it, and as configured behind a proxy."""
    return {_origin(u) for u in (host_url, public_url) if u}
