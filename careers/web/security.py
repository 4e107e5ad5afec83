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
EMBED_LOADER = "/embed.js"


def csp(frame_ancestors: str, *, secure: bool = False) -> str:
    """The whole policy with the given frame-ancestors source list; over https, any http://
    reference a description or a company stylesheet carries is fetched over https instead."""
    upgrade = ("upgrade-insecure-requests",) if secure else ()
    return "; ".join((*_POLICY, f"frame-ancestors {frame_ancestors}", *upgrade))


def resource_policy(path: str) -> str:
    """Cross-Origin-Resource-Policy: who may load this response as a subresource.

    Other sites load two things of ours: /embed.js with a <script> tag, and the /embed/ pages
    in an iframe (a host page that sends `Cross-Origin-Embedder-Policy: require-corp` may only
    frame documents that allow it). Both say `cross-origin`. Everything else, the assets in
    /static included, is only ever loaded by our own pages (embedded pages are our origin
    too), so it says `same-origin`. CORS requests to /api/v1 are not subject to this header.
    """
    if path == EMBED_LOADER or path.startswith(EMBED_PREFIX):
        return "cross-origin"
    return "same-origin"


def add_headers(response: Response) -> Response:
    """Embeddable routes may be framed by the configured origins; every other route by none."""
    headers = response.headers
    if request.path.startswith(EMBED_PREFIX):
        allowed = " ".join(("'self'", *current_app.extensions["careers"].settings.frame_ancestors))
        headers.setdefault("Content-Security-Policy", csp(allowed, secure=request.is_secure))
        headers.setdefault("X-Robots-Tag", "noindex")  # the full pages are the canonical ones
    else:
        headers.setdefault("Content-Security-Policy", csp("'none'", secure=request.is_secure))
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    headers.setdefault("Cross-Origin-Resource-Policy", resource_policy(request.path))
    # No Flash or PDF plug-in may read a cross-domain policy file from this site (OWASP).
    headers.setdefault("X-Permitted-Cross-Domain-Policies", "none")
    if not request.path.startswith(EMBED_PREFIX):
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
