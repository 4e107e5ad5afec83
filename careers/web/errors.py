"""One place that turns every error into a translated HTML page or a JSON body."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

from ..personio.model import Position
from .i18n import preferred_language

log = logging.getLogger(__name__)


class FeedUnavailable(HTTPException):
    """No copy of the board exists yet and Personio did not answer in time."""

    code = 503
    description = "The job board is not available yet."


class Gone(HTTPException):
    """A position that was published once and has left the feed."""

    code = 410
    description = "This position is no longer open."

    def __init__(self, title: str = "", similar: tuple[Position, ...] = ()) -> None:
        super().__init__()
        self.title = title
        self.similar = similar  # open jobs like it: somewhere to go instead of a dead end


def wants_json() -> bool:
    """API clients get JSON; browsers get pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _messages(code: int) -> tuple[str, str]:
    """Title and explanation for a status, in the visitor's language."""
    table = {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (
            _("This form cannot be sent from here"),
            _(
                "For your security, applications can only be sent from the form on this site."
                " Please open the job here and apply from its form."
            ),
        ),
        404: (_("Page not found"), _("We could not find this page. It may have moved.")),
        405: (_("Method not allowed"), _("This address does not accept that kind of request.")),
        410: (
            _("This position has been filled or closed"),
            _("It is no longer open for applications."),
        ),
        503: (
            _("Our job board is loading"),
            _("We could not reach our job listings just now. Please try again in a minute."),
        ),
    }
    return table.get(code, (_("Something went wrong"), _("Please try again in a moment.")))


def handle_http(exc: HTTPException) -> Response:
    """Render any HTTP error the same way everywhere."""
    code = exc.code or 500
    title, text = _messages(code)
    if wants_json():
        response = jsonify(error={"status": code, "title": title, "detail": text})
    else:
        if "lang" not in g:
            g.lang = preferred_language()
        page = render_template(
            "error.html",
            code=code,
            title=title,
            text=text,
            gone_title=getattr(exc, "title", ""),
            similar=getattr(exc, "similar", ()),
        )
        response = make_response(page)
    response.status_code = code
    if code == 503:
        response.headers["Retry-After"] = "30"
    valid_methods = getattr(exc, "valid_methods", None)
    if code == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    return response


def handle_crash(exc: Exception) -> Response:
    """Log the crash (no request data: it may hold personal data) and show a calm page."""
    log.exception("unhandled error", extra={"reason": "unhandled", "endpoint": request.endpoint})
    return handle_http(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_crash)
