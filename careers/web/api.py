"""JSON API `/api/v1`: the same data as the pages, cacheable and CORS-aware (docs/routes.md)."""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, abort, g, jsonify, request
from werkzeug.wrappers import Response as BaseResponse

from ..jobs import search
from ..jobs.pay import yearly
from ..personio.model import Position
from . import services
from .pages import current_snapshot, job_url, open_position
from .present import label, salary_text

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _language() -> str:
    lang = request.args.get("lang") or services().settings.default_language
    if lang not in services().settings.languages:
        abort(400)
    g.lang = lang
    return lang


def position_json(
    position: Position, lang: str, text_lang: str, *, full: bool
) -> dict[str, object]:
    """A position as JSON; coded values carry their translated label."""
    data: dict[str, object] = {
        "id": position.id,
        "name": position.name,
        "url": job_url(position, lang, external=True),
        "language": lang,
        "text_language": text_lang,
        "office": position.office or None,
        "offices": list(position.offices),
        "department": position.department or None,
        "subcompany": position.subcompany or None,
        "category": position.recruiting_category or None,
        "keywords": list(position.keywords),
        "occupation": position.occupation or None,
        "occupation_category": position.occupation_category or None,
        "created_at": position.created_at.isoformat() if position.created_at else None,
    }
    for key, facet, value in (
        ("employment_type", "employment_type", position.employment_type),
        ("schedule", "schedule", position.schedule),
        ("seniority", "seniority", position.seniority),
        ("experience", "experience", position.years_of_experience),
    ):
        data[key] = {"code": value, "label": label(facet, value)} if value else None
    if position.account:  # a site of several Personio accounts (docs/accounts.md)
        data["account"] = {"key": position.account, "name": label("account", position.account)}
    salary = position.salary
    data["salary"] = (
        {
            "min": salary.min,
            "max": salary.max,
            "currency": salary.currency_code or None,
            "currency_symbol": salary.currency_symbol or None,
            "period": salary.type or None,
            "text": salary_text(salary) or None,
            "yearly": yearly(salary),
        }
        if salary
        else None
    )
    if full:
        data["descriptions"] = [{"name": d.name, "html": d.html} for d in position.descriptions]
    return data


def _cached_json(payload: dict[str, object], version: str) -> BaseResponse:
    """JSON with an ETag derived from the board version and the query; 304 when unchanged."""
    tag = hashlib.sha256(f"{version}|{request.full_path}".encode()).hexdigest()[:24]
    response = jsonify(payload)
    response.set_etag(tag)
    response.headers["Cache-Control"] = "public, max-age=60"
    response.vary.add("Origin")
    return response.make_conditional(request)


@bp.get("/jobs")
def jobs() -> BaseResponse:
    """Open positions with the list page's filters, search, sort and facet counts."""
    lang = _language()
    snapshot = current_snapshot()
    query = search.parse_query(request.args.to_dict(flat=False))
    result = search.run(
        snapshot.positions,
        snapshot.haystack,
        filters=query.filters,
        q=query.q,
        sort=query.sort,
        min_salary=query.min_salary,
    )
    payload = {
        "language": lang,
        "total": result.total,
        "jobs": [
            position_json(p, lang, snapshot.text_language.get(p.id, lang), full=False)
            for p in result.positions
        ],
        "facets": {
            name: [
                {
                    "value": v.value,
                    "label": label(name, v.value),
                    "count": v.count,
                    "selected": v.selected,
                }
                for v in values
            ]
            for name, values in result.facets.items()
            # The account facet only on a site of several (one account's answer is unchanged).
            if name != "account" or services().settings.several_accounts
        },
    }
    return _cached_json(payload, snapshot.version)


@bp.get("/jobs/<int:job_id>")
def job(job_id: int) -> BaseResponse:
    """One position with its descriptions; 410 once it has left the feed, 404 if never seen."""
    lang = _language()
    if job_id in services().catalogue.unlisted:
        abort(404)  # off the board (the open-application position): not a job to list
    position, text_lang = open_position(job_id)
    return _cached_json(
        {"job": position_json(position, lang, text_lang, full=True)}, current_snapshot().version
    )


def _origin_allowed(origin: str) -> bool:
    """CORS only for the configured embedding origins (`https://*.acme.de` wildcards allowed)."""
    for allowed in services().settings.frame_ancestors:
        pattern = "^" + re.escape(allowed).replace(r"\*\.", r"[A-Za-z0-9-]+\.") + "$"
        if re.match(pattern, origin):
            return True
    return False


@bp.after_request
def cors(response: Response) -> Response:
    origin = request.headers.get("Origin", "")
    if origin and _origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.vary.add("Origin")
    return response
