"""The candidate's pages: list, detail, Atom feed (docs/routes.md)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_datetime
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response as BaseResponse

from ..accounts import Account
from ..jobs import search
from ..jobs.catalogue import Snapshot
from ..jobs.slugs import slugify
from ..personio.model import Position
from . import services
from .cache import cached_page
from .errors import FeedUnavailable, Gone
from .i18n import preferred_language
from .messages import DOCUMENT_LABELS, FIELD_LABELS, GENDER_LABELS, REFERRER_LABEL
from .present import FACET_NAMES, facts, label, pay_more_note, salary_text
from .site_links import attribution_args, list_args, site_url

bp = Blueprint("pages", __name__)
PAGE_SIZE = 50


def register_language_converter(app: Flask, languages: tuple[str, ...]) -> None:
    """`<lang:lang>` matches only configured languages (so `/favicon.ico/` is no language)."""

    class LanguageConverter(BaseConverter):
        regex = "(?:" + "|".join(re.escape(lang) for lang in languages) + ")"

    app.url_map.converters["lang"] = LanguageConverter


@bp.app_context_processor
def template_helpers() -> dict[str, object]:
    """Presentation helpers every template may use."""
    return {
        "facet_names": FACET_NAMES,
        "label": label,
        "facts": facts,
        "salary_text": salary_text,
        "pay_more_note": pay_more_note,
        "job_url": job_url,
        "absolute_url": absolute_url,
        "site_url": site_url,
        "attribution_args": attribution_args,
        "list_args": list_args,
        "apply_url": apply_url,
        "settings": services().settings,
        "format_date": format_date,
        "format_datetime": format_moment,
        "field_label": field_label,
        "document_labels": DOCUMENT_LABELS,
        "gender_labels": GENDER_LABELS,
    }


@bp.app_template_test("date_value")
def is_date(value: str) -> bool:
    """Whether `value` may stand in a date input's value attribute: a real day as YYYY-MM-DD
    (HTML's valid date string; the Nu checker refuses anything else)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)  # year 0 and days like 02-30 raise
    except ValueError:
        return False
    return True


def format_moment(timestamp: float) -> str:
    """A time in CAREERS_TIMEZONE, formatted for the page's language, with the zone named
    ("01.12.2026, 10:30:00 MEZ")."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return f"{format_datetime(moment, 'medium')} {format_datetime(moment, 'zzz')}"


def field_label(name: str) -> str:
    """A field's label in the page's language: ours for system fields, the form file's for
    custom questions (never `custom_attribute_1002`)."""
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    if name == services().settings.referrer_field:
        return str(REFERRER_LABEL)  # asked by careers itself (web/referrals.py)
    for account in services().settings.accounts:
        for extra in account.form.fields:
            if extra.id == name:
                return extra.label_for(g.lang)
    return name


def account_of(position: Position) -> Account:
    """The Personio account a position of the board belongs to (the only one, without
    CAREERS_ACCOUNTS_FILE)."""
    svc = services()
    return svc.settings.account(svc.catalogue.account_of(position.id))


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute URL on CAREERS_PUBLIC_URL when set (behind a proxy), else on this request's host."""
    path = url_for(endpoint, **values)
    public = services().settings.public_url
    if public:
        return public + path[len(request.script_root) :]
    return request.host_url.rstrip("/") + path


def job_url(
    position: Position, lang: str | None = None, *, external: bool = False, **kwargs: Any
) -> str:
    """A job's URL, `/<lang>/jobs/<id>-<slug>`; absolute ones are always the full site's
    (canonical), relative ones stay inside the widget when we are in it."""
    values = dict(lang=lang or g.lang, job_id=position.id, slug=slugify(position.name), **kwargs)
    if external:
        return absolute_url("pages.detail", **values)
    return site_url("detail", **values)


def apply_url(position: Position) -> str:
    """Our form; in read-only mode Personio's own application form (docs/operations.md)."""
    account = account_of(position)
    if account.read_only:
        # Personio's own page knows the channel parameter too (docs/personio.md §1.6).
        channel = attribution_args(request.args).get("_pc")
        query = f"?{urlencode({'_pc': channel})}" if channel else ""
        return f"{account.site_url}/job/{position.id}{query}#apply"
    return site_url("form", job_id=position.id)


def current_snapshot() -> Snapshot:
    """This language's board, or a friendly 503 when there has never been one."""
    snapshot = services().catalogue.snapshot(g.lang)
    if snapshot is None:
        raise FeedUnavailable()
    return snapshot


def open_position(job_id: int) -> tuple[Position, str]:
    """A position of the current board and its text language; 410 once it has left the
    feed, 404 when it was never published, 503 while there is no board at all."""
    catalogue = services().catalogue
    snapshot = current_snapshot()
    found = catalogue.find(g.lang, job_id)
    if found is None:
        title = catalogue.seen_title(job_id, g.lang)
        if title is None:
            abort(404)
        raise Gone(title, similar=snapshot.similar_closed.get(job_id, ()))
    return found


@bp.get("/")
def index() -> BaseResponse:
    """Send visitors to the job list in their language."""
    response = redirect(url_for("pages.job_list", lang=preferred_language()), code=302)
    response.vary.add("Accept-Language")
    return response


@bp.get("/jobs")
@bp.get("/jobs/<path:rest>")
def without_language(rest: str = "") -> BaseResponse:
    """`/jobs` and `/jobs/<id>…` (links typed or shortened by hand): the same page in the
    visitor's language, query string kept."""
    target = f"/{preferred_language()}/jobs" + (f"/{rest}" if rest else "")
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    response = redirect(target, code=302)
    response.vary.add("Accept-Language")
    return response


@bp.get("/favicon.ico")
def favicon() -> BaseResponse:
    """Browsers ask for /favicon.ico whatever the page says."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/<lang:lang>/")
def language_home() -> BaseResponse:
    """`/de/` is a natural thing to type."""
    return redirect(url_for("pages.job_list"), code=301)


def board_version() -> str:
    """Cache key part: changes whenever any language's board changes."""
    return current_snapshot().version


@bp.get("/<lang:lang>/jobs")
@cached_page(board_version)
def job_list() -> str:
    """Filterable, searchable list of open positions."""
    snapshot = current_snapshot()
    query = search.parse_query(request.args.to_dict(flat=False))
    filters, q, sort = query.filters, query.q, query.sort
    result = search.run(
        snapshot.positions,
        snapshot.haystack,
        filters=filters,
        q=q,
        sort=sort,
        min_salary=query.min_salary,
    )
    pages = max(1, -(-result.total // PAGE_SIZE))
    page = min(query.page, pages)
    shown = result.positions[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render_template(
        "jobs/list.html",
        result=result,
        positions=shown,
        filters=filters,
        q=q,
        sort=sort,
        page=page,
        pages=pages,
        snapshot=snapshot,
        min_salary=query.min_salary,
        active=bool(filters or q or query.min_salary is not None),
    )


@bp.get("/<lang:lang>/jobs/<int:job_id>")
@bp.get("/<lang:lang>/jobs/<int:job_id>-<slug>")
@cached_page(board_version)
def detail(job_id: int, slug: str | None = None) -> BaseResponse | str:
    """One job; other URL forms 301 to the canonical one, closed jobs 410, unknown 404."""
    catalogue = services().catalogue
    position, text_lang = open_position(job_id)
    canonical_slug = slugify(position.name)
    if slug != canonical_slug:
        target = site_url("detail", job_id=job_id, slug=canonical_slug, **list_args(request.args))
        return redirect(target, code=301)
    return render_template(
        "jobs/detail.html",
        position=position,
        text_lang=text_lang,
        similar=current_snapshot().similar.get(job_id, ()),
        alternates=[
            (lang, job_url(found_there[0], lang, external=True))
            for lang in services().settings.languages
            if lang != g.lang and (found_there := catalogue.find(lang, job_id)) is not None
        ],
    )


@bp.get("/<lang:lang>/jobs.atom")
def atom() -> Response:
    """Newest open positions as an Atom feed, for feed readers and aggregators."""
    snapshot = current_snapshot()
    result = search.run(snapshot.positions, snapshot.haystack, filters={}, sort="newest")
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    updated = max((p.created_at or epoch for p in result.positions), default=epoch)
    body = render_template(
        "jobs/feed.xml", positions=result.positions, updated=updated.isoformat(), epoch=epoch
    )
    return Response(body, mimetype="application/atom+xml")
