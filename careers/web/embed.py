"""The iframe widget: the same pages without site chrome under /embed/, and /embed.js (docs/embedding.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from . import apply, pages
from .i18n import preferred_language
from .site_links import list_args

bp = Blueprint("embed", __name__)


@bp.before_request
def mark_embedded() -> None:
    """Templates drop the chrome, links stay inside the widget, headers allow framing."""
    g.embed = True


# The views are the site's own; only the URLs and the frame around them differ.
for rule, endpoint, view, methods in (
    ("/embed/<lang:lang>/jobs", "job_list", pages.job_list, ["GET"]),
    ("/embed/<lang:lang>/jobs/<int:job_id>", "detail", pages.detail, ["GET"]),
    ("/embed/<lang:lang>/jobs/<int:job_id>-<slug>", "detail", pages.detail, ["GET"]),
    ("/embed/<lang:lang>/jobs/<int:job_id>/apply", "form", apply.form, ["GET"]),
    ("/embed/<lang:lang>/jobs/<int:job_id>/apply", "submit", apply.submit, ["POST"]),
    ("/embed/<lang:lang>/applications/<receipt>", "receipt", apply.receipt, ["GET"]),
):
    bp.add_url_rule(rule, endpoint, view, methods=methods)


@bp.get("/embed/")
@bp.get("/embed")
def pick_language() -> BaseResponse:
    """A placeholder without data-lang gets the visitor's language; filters are kept."""
    lang = request.args.get("lang")
    if lang not in current_app.extensions["careers"].settings.languages:
        lang = preferred_language()
    # list_args keeps only known query parameters, none of them url_for's own (`_external`, …).
    values: dict[str, Any] = {"lang": lang, **list_args(request.args)}
    target = url_for("embed.job_list", **values)
    response = redirect(target, code=302)
    response.vary.add("Accept-Language")
    return response


@bp.get("/embed.js")
def loader() -> BaseResponse:
    """The loader host pages include; short cache so a fix reaches every site quickly."""
    path = Path(current_app.static_folder or "") / "embed.js"
    response = Response(path.read_bytes(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.add_etag()
    return response.make_conditional(request)
