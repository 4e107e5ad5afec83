"""Security headers for every response, built in one place (docs/security.md)."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

# No inline script or style anywhere: everything comes from our own /static. (JSON-LD is a
# data block, not a script, and is not subject to script-src.)
_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)
EMBED_PREFIX = "/embed/"


def csp(frame_ancestors: str) -> str:
    """The whole policy with the given frame-ancestors source list."""
    return "; ".join((*_POLICY, f"frame-ancestors {frame_ancestors}"))


def add_headers(response: Response) -> Response:
    """Embeddable routes may be framed by the configured origins; every other route by none."""
    headers = response.headers
    if request.path.startswith(EMBED_PREFIX):
        allowed = " ".join(("'self'", *current_app.extensions["careers"].settings.frame_ancestors))
        headers.setdefault("Content-Security-Policy", csp(allowed))
        headers.setdefault("X-Robots-Tag", "noindex")  # the full pages are the canonical ones
    else:
        headers.setdefault("Content-Security-Policy", csp("'none'"))
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if not request.path.startswith(EMBED_PREFIX):
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
