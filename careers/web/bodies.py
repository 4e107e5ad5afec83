"""Small bodies everywhere but the application form: read before the view, bounded, on time.

Only the application form needs a large body, and it streams its own (applications/
upload.py). Every other route — the job-alert forms, confirm and unsubscribe links, any
post to a page — needs a few hundred bytes, so a body there is read here, before the view
and before werkzeug's form parser (which would spool a large multipart body to disk), in
the same order and with the same guards as the form (docs/security.md#small-bodies):

1. the client's refusal budget: spent, and the answer is 429 before a byte is read;
2. checks a route registers with `before_body` (an unsubscribe link that names no
   subscription: 404);
3. a `Content-Length` over SMALL_BODY_BYTES: 413;
4. an upload slot (shared with the form, so bodies never take every thread): 503 without;
5. the body itself, stopped at the limit (chunked bodies announce no length: 413 when
   they pass it), and cut as on the form when it stalls or crawls: 408.

`careers serve` reads small bodies before the app (careers/cli/front.py); one that stalls or
crawls there reaches the app marked (`FRONT_STALLED`), on any route, the form's included, and
is answered 408 after step 1, unread. Refusals 2, 3 and 5, and these, count against the budget. Any answer given before the body was read
closes the connection (apply.close_unread), so the rest of it is never read either. What
was read is handed to Flask from memory: the view and its form parser never touch the wire.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import IO, TYPE_CHECKING

from flask import Flask, current_app, g, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from ..applications.rules import REFUSAL_LIMIT, Limits
from ..applications.slowbody import FRONT_STALLED, client_socket, stop_reading
from ..applications.upload import UploadRejected, read_small
from ..db.ratelimit import KeyLimit
from ..network import client_key
from . import services

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

log = logging.getLogger(__name__)

SMALL_BODY_BYTES = 64 * 1024  # a job-alert form is under 2 KiB even with every filter
# The views that stream large bodies themselves (the application form, on the site and in
# the widget): everything else is read here.
STREAMING_ENDPOINTS = frozenset({"apply.submit", "embed.submit"})
# A small body is sent in one go: it may stall or crawl for less long than an upload.
SMALL_STALL_SECONDS = 10.0
SMALL_RATE_GRACE = 5.0

BeforeBody = Callable[..., Response | None]
_CHECKS = "careers.before_body"  # app.extensions: endpoint -> check


def before_body(app: Flask, endpoint: str, check: BeforeBody) -> None:
    """Run `check(**view_args)` before the body of a request to `endpoint` is read; a
    response it returns is the answer (a refusal: counted against the client's budget)."""
    app.extensions.setdefault(_CHECKS, {})[endpoint] = check


def client() -> str:
    """A keyed hash of the client's address (an IPv6 client is its /64): what per-client
    limits count, never the address itself."""
    return client_key(services().settings.secret_key, request.remote_addr or "")


def refusal_limit() -> KeyLimit:
    """The budget of refused posts for this client (applications/rules.py), one for the
    application form and every other route."""
    count, seconds = REFUSAL_LIMIT
    return services().limiter(count, seconds).of(f"refused:{client()}")


def has_body(environ: WSGIEnvironment) -> bool:
    """A request that announces a body: chunked, or a length that is not zero."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return True
    length = environ.get("CONTENT_LENGTH", "").strip()
    return bool(length) and not (length.isdigit() and int(length) == 0)


def small_limits(limits: Limits) -> Limits:
    """The form's pace rules, with the shorter patience a small body deserves."""
    return replace(
        limits,
        stall_seconds=min(limits.stall_seconds, SMALL_STALL_SECONDS),
        rate_grace=min(limits.rate_grace, SMALL_RATE_GRACE),
    )


def _refused(reason: str, *, count: bool = True) -> None:
    """A reason tag in the log, never personal data; counted against the budget."""
    log.warning("request body refused", extra={"reason": reason, "endpoint": request.endpoint})
    if count:
        refusal_limit().hit()


def _error(code: int, title: str, text: str) -> Response:
    response = make_response(
        render_template("error.html", code=code, title=title, text=text, gone_title=""), code
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def read_body() -> Response | None:
    """The before-request hook: None when the view may run with the body in memory."""
    environ = request.environ
    stalled = bool(environ.get(FRONT_STALLED))
    if not stalled and (request.endpoint in STREAMING_ENDPOINTS or not has_body(environ)):
        return None
    g.body_unread = True  # any answer from here on closes the connection (apply.close_unread)
    if request.routing_exception is not None and not stalled:
        return None  # Flask answers 404 / 405 without reading a byte
    svc = services()
    if stalled:  # the server stopped waiting for this body: what came is not read
        # The refusal is certain, so it is taken from the budget in the same step that looks
        # at it: stalled bodies reach the app in bursts, and a look first would let them all
        # pass before any is counted.
        wait = refusal_limit().hit()
        if wait > 0:
            return _spent(wait)
        _refused("body_stalled", count=False)
        return _too_slow()
    wait = refusal_limit().test()
    if wait > 0:
        return _spent(wait)
    checks: dict[str, BeforeBody] = current_app.extensions.get(_CHECKS, {})
    check = checks.get(request.endpoint or "")
    if check is not None:
        answer = check(**(request.view_args or {}))
        if answer is not None:
            _refused("unknown_link")
            return answer
    length = request.content_length
    if length is not None and length > SMALL_BODY_BYTES:
        _refused("body_too_large")
        return _too_large()
    slot = svc.upload_gate.acquire(client())
    if slot is None:
        _refused("uploads_busy", count=False)
        response = _error(503, _("Something went wrong"), _("Please try again in a moment."))
        response.headers["Retry-After"] = "30"
        return response
    try:
        body = read_small(
            _input(environ),
            SMALL_BODY_BYTES,
            small_limits(svc.limits),
            sock=client_socket(environ),
        )
    except UploadRejected as exc:
        _refused(exc.reason)
        if exc.status == 408:
            return _too_slow()
        if exc.status == 413:
            return _too_large()
        return _error(400, _("Bad request"), _("The request could not be understood."))
    finally:
        svc.upload_gate.release(slot)
    # The view reads the body from memory, as if it had come with a Content-Length.
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.input_terminated"] = True
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    g.body_unread = False
    return None


def _input(environ: WSGIEnvironment) -> IO[bytes]:
    """The body as the server hands it over: dechunked (`wsgi.input_terminated`) or bounded
    by its Content-Length, never read past it."""
    return get_input_stream(environ, safe_fallback=False)


def _too_slow() -> Response:
    return _error(408, _("The upload took too long"), _("Please try again in a moment."))


def _spent(wait: float) -> Response:
    """429: this client's refusal budget is spent; nothing of the body is read."""
    _refused("refusals_rate_limited", count=False)
    response = _error(429, _("Please wait a moment"), _("Please try again in a moment."))
    response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    return response


def _too_large() -> Response:
    """413: no person sends this much to these routes; a page in the site's words anyway."""
    return _error(413, _("Bad request"), _("The request could not be understood."))


def close_unread(response: Response) -> Response:
    """An answer given before the body was read (a refusal, 403, 404, 413, 429, 503, here
    or on the form) closes the connection: the rest of the body is never read, and on a
    kept-alive connection it would be taken for the next request.

    The socket's reading side is shut too. gunicorn closes such a connection gracefully
    (RFC 9112 §9.6): it reads what the client still sends for up to 2 s, on the thread that
    accepts connections. A client that sends nothing more would hold that thread, and with
    it the whole worker, for 2 s a connection; shut, the read ends at once."""
    if g.get("body_unread"):
        response.headers["Connection"] = "close"
        stop_reading(client_socket(request.environ))
    return response


def init_app(app: Flask) -> None:
    """After the language is known (url_value_preprocessor), before any view or blueprint
    hook reads `request.form`."""
    app.before_request(read_body)
    app.after_request(close_unread)
