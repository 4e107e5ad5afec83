"""Job alerts for candidates: ask on the list, confirm with a button, leave with one click.

Everything here works without cookies and without JavaScript, so also inside the widget's
frame: like the application form, every form carries a signed token naming what it is for
and in which language and a honeypot, and posts must come from our own origin (forms/).
Links in mails name their subscription with a signature (mail/alert_links.py). Their pages
change nothing on GET, since mail scanners open every link; only a button's POST acts, and
the RFC 8058 one-click POST that mail clients send to the List-Unsubscribe address.

What a visitor reads never tells whether an address is subscribed, and no address reaches a
log (docs/routes.md#job-alerts).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_number, format_timedelta
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..forms.email import normalize_email
from ..forms.origin import check_origin, own_origins
from ..forms.tokens import HONEYPOT_FIELD, TOKEN_FIELD, Forged, FormTokens
from ..jobs import search
from ..mail import alert_links
from ..mail.store import MAX_FILTER_CHARS, MAX_FILTER_VALUES, Filters, Subscription
from ..network import client_key
from ..store_errors import StoreUnavailable
from . import services
from .bodies import before_body
from .errors import FeedUnavailable
from .present import FACET_NAMES, label
from .security import EMBED_PREFIX
from .site_links import site_url

log = logging.getLogger(__name__)
bp = Blueprint("alerts", __name__)

RESEND_AFTER = 6 * 3600  # asking again for the same alert within hours sends no second mail
PER_ADDRESS_PER_DAY = 3  # confirmation mails to one address a day, whatever its filters
CLIENT_LIMIT = (5, 3600)  # requests per client and hour, shared by every host
MAX_ADDRESS = 254  # RFC 5321's path limit; longer input is refused before it is parsed
ONE_CLICK = ("List-Unsubscribe", "One-Click")  # RFC 8058 §3.2: the body mail clients POST
EMBEDDED = ("ask", "subscribe", "requested")  # token pages open from mails, never in a frame
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def init_app(app: Flask) -> None:
    # The list page that holds the subscribe form is cached while the board is unchanged,
    # so these tokens carry no age (forms/tokens.py).
    app.extensions["careers.alert_forms"] = FormTokens(
        app.extensions["careers"].settings.secret_key, salt="careers.job-alert-form"
    )
    app.register_blueprint(bp)
    # A link that names no subscription is answered before its body is read (web/bodies.py).
    for endpoint in ("alerts.unsubscribe", "alerts.confirm"):
        before_body(app, endpoint, _unknown_link)


@bp.before_request
def enabled() -> None:
    """No mail server, no job alerts; in the widget the pages keep to the frame. Leaving
    works even then: links in mails sent before mail was turned off must still delete."""
    leaving = request.endpoint in {"alerts.unsubscribe", "alerts.unsubscribe_page"}
    if not services().settings.mail_enabled and not leaving:
        abort(404)
    g.embed = request.path.startswith(EMBED_PREFIX)


@bp.app_template_global()
def alert_url(name: str, **values: Any) -> str:
    """URL of a job-alert page, inside the widget when the current page is."""
    embedded = g.get("embed") and name in EMBEDDED
    return url_for(f"alerts.{'embed_' if embedded else ''}{name}", **values)


def _tokens() -> FormTokens:
    tokens: FormTokens = current_app.extensions["careers.alert_forms"]
    return tokens


@bp.app_template_global()
def alert_token(purpose: str) -> str:
    """The form token for this page's language (templates/jobs/_job_alert.html)."""
    return _tokens().issue(purpose, g.lang)


@bp.app_context_processor
def form_fields() -> dict[str, str]:
    """The hidden fields' names, the application form's (forms/tokens.py)."""
    return {"alert_token_field": TOKEN_FIELD, "alert_honeypot": HONEYPOT_FIELD}


def _page(template: str, status: int = 200, **context: Any) -> Response:
    """Every page here answers one visitor about one request: never stored by a cache."""
    response = make_response(render_template(template, **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(code: int, title: str, text: str) -> Response:
    """An error page in these pages' own words (errors.py speaks of applications)."""
    return _page("error.html", code, code=code, title=title, text=text, gone_title="")


@bp.errorhandler(StoreUnavailable)
def store_unavailable(exc: StoreUnavailable) -> Response:
    """The database is away: nothing changed, every write being one transaction."""
    log.warning("job alerts unavailable", extra={"reason": "store_down"})
    response = _error(
        503,
        _("Please try again shortly"),
        _("We cannot take your request for a moment. Please try again in a few minutes."),
    )
    response.headers["Retry-After"] = "30"
    return response


# -- asking for an alert ---------------------------------------------------------------------


def _filters(args: dict[str, list[str]]) -> Filters:
    """The list's filters and search words, cleaned the list's way: unknown facets dropped."""
    query = search.parse_query(args)
    return Filters(query.filters, query.q, query.min_salary)


def _board_filters(filters: Filters) -> Filters | None:
    """What a subscription may keep: only facet values this language's board has, so no
    made-up text ever reaches a mail (docs/mail.md#privacy-and-abuse); None when a facet
    names none of them or there are more than a list page can select."""
    count = sum(len(values) for values in filters.facets.values())
    if count > MAX_FILTER_VALUES:
        return None
    snapshot = services().catalogue.snapshot(g.lang)
    if snapshot is None:
        raise FeedUnavailable()
    short = {
        name: tuple(v for v in values if len(v) <= MAX_FILTER_CHARS)
        for name, values in filters.facets.items()
    }
    kept = search.on_board(short, search.board_values(snapshot.positions))
    return None if kept is None else Filters(kept, filters.q, filters.min_salary)


def _ask(filters: Filters, *, email: str = "", error: str = "", status: int = 200) -> Response:
    """The form on a page of its own: where a refused address is shown again, kept."""
    return _page(
        "alerts/subscribe.html",
        status,
        filters=filters.facets,
        q=filters.q,
        min_salary=filters.min_salary,
        described=describe(filters),
        back_href=site_url("job_list", **_list_args(filters)),
        alert_email=email,
        alert_error=error,
    )


@bp.get("/<lang:lang>/job-alerts")
@bp.get("/embed/<lang:lang>/job-alerts", endpoint="embed_ask")
def ask() -> Response:
    """The form for the filters in the query string (a link can point here)."""
    return _ask(_filters(request.args.to_dict(flat=False)))


@bp.post("/<lang:lang>/job-alerts")
@bp.post("/embed/<lang:lang>/job-alerts", endpoint="embed_subscribe")
def subscribe() -> Response:
    """Queue a confirmation mail (the store decides whether one goes out), then 303 to a
    page that reads the same whatever happened."""
    svc = services()
    settings = svc.settings
    _check_post("subscribe")  # stateless: a forged post never costs a slot or a query
    client = client_key(settings.secret_key, request.remote_addr or "")
    wait = svc.limiter(*CLIENT_LIMIT).hit(f"job-alert:{client}")
    if wait > 0:
        log.info("job alert refused", extra={"reason": "rate_limited"})
        return _too_many(wait)
    form = request.form
    filters = _filters(form.to_dict(flat=False))
    if form.get(HONEYPOT_FIELD):
        # A bot: it is told what a person is told, and nothing is stored or sent.
        log.info("job alert refused", extra={"reason": "spam"})
        return redirect(alert_url("requested"), code=303)
    kept = _board_filters(filters)
    if kept is None:
        # Values no list page offers: made up (a mail would carry them to any address) or
        # more than anyone selects. Told what a person is told; nothing stored or sent.
        log.info("job alert refused", extra={"reason": "unknown_filter"})
        return redirect(alert_url("requested"), code=303)
    typed = form.get("email", "")
    address = normalize_email(typed) if len(typed) <= MAX_ADDRESS else None
    if address is None:
        log.info("job alert refused", extra={"reason": "invalid_address"})
        message = _("Please enter an email address like name@example.com.")
        return _ask(filters, email=typed[:MAX_ADDRESS], error=message, status=422)
    outcome = svc.mail.request_subscription(
        address,
        alert_links.address_hash(settings.secret_key, address),
        kept,
        g.lang,
        resend_after=RESEND_AFTER,
        per_address_per_day=PER_ADDRESS_PER_DAY,
    )
    log.info("job alert requested", extra={"outcome": str(outcome)})
    return redirect(alert_url("requested"), code=303)


def request_alert(address: str) -> None:
    """Queue the confirmation of an alert for every new job in this language, as the list's
    form would (same limits, same double opt-in): the open-application form's checkbox
    (web/referrals.py). The address was checked by the application's intake."""
    svc = services()
    outcome = svc.mail.request_subscription(
        address,
        alert_links.address_hash(svc.settings.secret_key, address),
        Filters(),
        g.lang,
        resend_after=RESEND_AFTER,
        per_address_per_day=PER_ADDRESS_PER_DAY,
    )
    log.info("job alert requested", extra={"outcome": str(outcome), "via": "open_application"})


@bp.get("/<lang:lang>/job-alerts/requested")
@bp.get("/embed/<lang:lang>/job-alerts/requested", endpoint="embed_requested")
def requested() -> Response:
    """The "check your inbox" page: the same whether a mail went out or not."""
    return _page("alerts/requested.html")


def _check_post(purpose: str) -> None:
    """403 for a post from another site or without our form's token."""
    settings = services().settings
    try:
        check_origin(request.headers, own_origins(request.host_url, settings.public_url))
        _tokens().check(request.form.get(TOKEN_FIELD, ""), purpose, g.lang)
    except Forged as exc:
        log.warning("job alert refused", extra={"reason": exc.reason})
        title = _("This form cannot be sent from here")
        abort(_error(403, title, _("Please open the job list on this site and use its form.")))


def _too_many(wait: float) -> Response:
    minutes = max(1, round(wait / 60))
    response = _page("alerts/too_many.html", 429, minutes=minutes)
    response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    return response


# -- the links in mails ----------------------------------------------------------------------


def _subscription(token: str) -> Subscription | None:
    """The subscription a link names, if it exists and the link was made for it."""
    sub_id = alert_links.token_id(token)
    found = services().mail.subscription(sub_id) if sub_id is not None else None
    secret = services().settings.secret_key
    if found is None or not alert_links.token_matches(secret, token, found.id, found.salt):
        return None
    return found


def _token_page(template: str, status: int = 200, **context: Any) -> Response:
    """A page whose URL holds a link's token: never cached, never sent on as a referrer."""
    response = _page(template, status, **context)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _no_link() -> Response:
    """404: a mistyped link, or one whose request expired (48 h) or was unsubscribed."""
    return _token_page("alerts/no_link.html", 404)


@bp.get("/<lang:lang>/job-alerts/<token>/confirm")
def confirm_page(token: str) -> Response:
    """What the alert is for and a button; opening the link changes nothing."""
    found = _subscription(token)
    if found is None:
        return _no_link()
    return _token_page("alerts/confirm.html", **_about(found))


@bp.post("/<lang:lang>/job-alerts/<token>/confirm")
def confirm(token: str) -> Response:
    """The button: consent is given now (confirming twice keeps the first time)."""
    _check_post("confirm")
    found = _subscription(token)
    if found is None:
        return _no_link()
    services().mail.confirm(found.id)
    log.info("job alert confirmed")
    interval = interval_text(services().settings.alert_interval)
    return _token_page("alerts/confirmed.html", interval=interval, **_about(found))


@bp.get("/<lang:lang>/job-alerts/<token>/unsubscribe")
def unsubscribe_page(token: str) -> Response:
    """A button to leave; opening the link changes nothing."""
    found = _subscription(token)
    if found is None:
        return _no_link()
    return _token_page("alerts/unsubscribe.html", **_about(found))


def _unknown_link(token: str) -> Response | None:
    """404 before the body of a post to a link that names no subscription: a forged or
    stale link costs a lookup, never a read (web/bodies.py)."""
    return _no_link() if _subscription(token) is None else None


@bp.post("/<lang:lang>/job-alerts/<token>/unsubscribe")
def unsubscribe(token: str) -> Response:
    """The button, or a mail client's RFC 8058 one-click POST (no cookie, no form token: the
    signed link is the proof). A link that names no subscription (forged, expired, left
    already) was answered 404 before its body was read."""
    found = _subscription(token)
    if found is None:
        return _no_link()
    if request.form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        _check_post("unsubscribe")  # the button; the one-click exemption is only this body
    services().mail.unsubscribe(found.id)
    log.info("job alert unsubscribed")
    return _token_page("alerts/unsubscribed.html")


# -- what the pages say ----------------------------------------------------------------------


def describe(filters: Filters) -> list[tuple[str, str]]:
    """The alert's filters as (name, values) lines in the page's language."""
    lines = [
        (str(FACET_NAMES[name]), ", ".join(label(name, v) for v in values))
        for name, values in filters.facets.items()
        if name in FACET_NAMES
    ]
    if filters.q:
        lines.append((_("Search"), filters.q))
    if filters.min_salary is not None:
        lines.append((_("Minimum pay a year"), format_number(filters.min_salary)))
    return lines


def _list_args(filters: Filters) -> dict[str, Any]:
    """The list URL's parameters for these filters (facet names only: clean_filters)."""
    args: dict[str, Any] = {name: list(values) for name, values in filters.facets.items()}
    if filters.q:
        args["q"] = filters.q
    if filters.min_salary is not None:
        args["min_salary"] = filters.min_salary
    return args


def _about(found: Subscription) -> dict[str, Any]:
    """What a link's page shows of its subscription: the filters, never the address."""
    return {
        "described": describe(found.filters),
        "list_href": url_for("pages.job_list", **_list_args(found.filters)),
        "confirmed": found.confirmed_at is not None,
    }


def interval_text(seconds: int) -> str:
    """CAREERS_ALERT_INTERVAL in words, in the largest unit that says it exactly ("1 hour",
    "2 days", "90 minutes"), so the promise "at most one email every …" holds."""
    unit, size = next((unit, size) for unit, size in _UNITS if seconds % size == 0)
    amount = timedelta(seconds=max(size, seconds))
    return str(format_timedelta(amount, granularity=unit, threshold=10**9))
