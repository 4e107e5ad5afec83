"""Links between our pages: full site or embedded widget, with attribution carried along.

The same views serve the full site (`/<lang>/jobs…`) and the iframe widget
(`/embed/<lang>/jobs…`). A link must stay on the side it started on, and the landing URL's
channel parameters (`_pc`, `utm_*`) must travel with the candidate to the application
without cookies, so every internal link is built here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, has_request_context, request, url_for
from werkzeug.datastructures import MultiDict

from ..jobs.search import FACETS

# short name -> (full-site endpoint, embedded endpoint)
ENDPOINTS = {
    "job_list": ("pages.job_list", "embed.job_list"),
    "detail": ("pages.detail", "embed.detail"),
    "form": ("apply.form", "embed.form"),
    "submit": ("apply.submit", "embed.submit"),
    "receipt": ("apply.receipt", "embed.receipt"),
}
_CARRIES = {endpoint for pair in ENDPOINTS.values() for endpoint in pair}
# Personio's channel parameter and the usual campaign parameters (docs/attribution.md).
ATTRIBUTION = ("_pc", "utm_source", "utm_medium", "utm_campaign")
_VALUE = re.compile(r"[\w .:/@+-]{1,100}")


# Query parameters a list URL may carry: filters, search, pay, sort, page, attribution.
LIST_PARAMS = (*FACETS, "q", "min_salary", "sort", "page", *ATTRIBUTION)


def list_args(args: MultiDict[str, str]) -> dict[str, list[str]]:
    """The known parameters of a query string, for building links from it: anything else
    (`_anchor`, `lang`, `job_id`, …) would be read by url_for as an instruction."""
    return {name: args.getlist(name) for name in LIST_PARAMS if args.getlist(name)}


def site_url(name: str, **values: Any) -> str:
    """URL of one of our pages, on the same side (site or widget) as the current request."""
    endpoint = ENDPOINTS[name][1 if g.get("embed") else 0]
    return url_for(endpoint, **values)


def attribution_args(args: Mapping[str, str]) -> dict[str, str]:
    """The attribution parameters of a query string, cleaned; junk is dropped, not refused."""
    found: dict[str, str] = {}
    for name in ATTRIBUTION:
        value = (args.get(name) or "").strip()
        if _VALUE.fullmatch(value):
            found[name] = value
    return found


def carry_attribution(endpoint: str, values: dict[str, Any]) -> None:
    """url_defaults hook: internal links keep the landing URL's attribution parameters."""
    if endpoint not in _CARRIES or not has_request_context():
        return
    for name, value in attribution_args(request.args).items():
        values.setdefault(name, value)


def init_app(app: Flask) -> None:
    app.url_defaults(carry_attribution)
