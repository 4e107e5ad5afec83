"""Operations endpoints: liveness, readiness, metrics; plus per-request timing."""

from __future__ import annotations

import hmac
import time

from flask import Blueprint, Flask, Response, g, jsonify, request

from ..applications.rules import Status
from ..jobs import pay
from ..personio.diagnosis import Condition
from ..store_errors import StoreUnavailable
from . import services

bp = Blueprint("ops", __name__)

# "Fresh enough" for /readyz: Personio confirmed the copy within this many TTLs (min. 1 hour).
STALE_TTLS = 12


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answering."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready when every language has a fresh enough copy, the data directory is writable and
    Personio accepts the credentials. What the feed's last answer meant (a moved feed, an
    empty board, Personio's maintenance: careers/personio/diagnosis.py) is said with the
    reason, or as a note of a ready site; a copy that ages during the maintenance window
    keeps the site ready."""
    svc = services()
    catalogue, settings = svc.catalogue, svc.settings
    problems: list[str] = []
    notes: list[str] = []
    limit = max(STALE_TTLS * settings.feed_ttl, 3600)
    # Each Personio account's feed on its own (one, without CAREERS_ACCOUNTS_FILE); with
    # several, a reason names the account, and one account's feed in trouble is a note
    # while another account's board of that language is fresh: taking the host out of the
    # load balancer would blank every account for one account's failure.
    troubled: dict[str, list[str]] = {}
    fresh: set[str] = set()
    for key, feed in catalogue.per_account():
        whose = f" ({key})" if settings.several_accounts else ""
        for lang in (lang for lang in settings.languages if lang in feed.languages):
            before = len(problems)
            age = feed.age(lang)
            found = feed.status(lang).diagnosis
            said = f": {found.message}" if found else ""
            if age is None:
                feed.refresh_in_background(lang)
                problems.append(f"feed {lang}{whose}: no copy yet{said}")
            elif age > limit:
                feed.snapshot(lang, wait=0)
                stale = (
                    f"feed {lang}{whose}: last confirmed {int(age)} s ago (limit {limit} s){said}"
                )
                maintenance = found is not None and found.condition is Condition.MAINTENANCE
                (notes if maintenance else problems).append(stale)
            elif found is not None:
                notes.append(f"feed {lang}{whose}: {found.message}")
            if len(problems) > before:
                troubled.setdefault(lang, []).extend(problems[before:])
            elif age is not None:
                fresh.add(lang)
    if settings.several_accounts:
        for lang, reasons in troubled.items():
            if lang in fresh:  # the board of this language still has fresh accounts
                problems[:] = [p for p in problems if p not in reasons]
                notes.extend(reasons)
    for check in (catalogue.store.writable, svc.outbox.check_writable):
        problem = check()
        if problem:
            problems.append(problem)
    # Set by this process's deliverers (careers/applications/delivery.py) while paused; with
    # several accounts, one account's refused credentials are a note while another delivers.
    delivering = [account for account in settings.accounts if not account.read_only]
    paused = [a for a in delivering if svc.health_of(a).problem]
    for account in paused:
        whose = f" ({account.key})" if settings.several_accounts else ""
        said = f"{svc.health_of(account).problem}{whose}"
        (notes if len(paused) < len(delivering) else problems).append(said)
    extra = {"notes": notes} if notes else {}
    details = {"pay_transparency": _pay_details()}
    if problems:
        return jsonify(status="unavailable", reasons=problems, details=details, **extra), 503
    return jsonify(status="ready", details=details, **extra), 200


def _pay_details() -> dict[str, object]:
    """The open jobs breaking CAREERS_PAY_TRANSPARENCY: a detail, never a reason for 503
    (an ad without pay is the employer's to fix; the site serves it meanwhile)."""
    svc = services()
    rule = svc.settings.pay_transparency
    found = pay.findings(svc.catalogue.boards(), rule)
    return {"rule": str(rule), "breaking": [finding.to_json() for finding in found]}


def _bearer_matches(header: str, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, credentials = header.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        credentials.strip().encode("utf-8", "replace"), token.encode()
    )


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format; with CAREERS_METRICS_TOKEN set, only for that bearer token."""
    svc = services()
    token = svc.settings.metrics_token
    if token and not _bearer_matches(request.headers.get("Authorization", ""), token):
        refused = Response("metrics need a bearer token\n", 401, mimetype="text/plain")
        refused.headers["WWW-Authenticate"] = "Bearer"
        refused.headers["Cache-Control"] = "no-store"
        return refused
    for lang in svc.settings.languages:
        age = svc.catalogue.age(lang)
        if age is not None:
            svc.metrics.feed_age.labels(lang).set(age)
        view = svc.catalogue.snapshot(lang, wait=0)
        svc.metrics.positions.labels(lang).set(len(view.positions) if view else 0)
    try:
        counts = svc.outbox.counts()
    except StoreUnavailable:
        counts = None  # the gauges keep their last values; /readyz says why
    for status in Status if counts is not None else ():
        svc.metrics.outbox.labels(status).set(counts.get(status, 0) if counts else 0)
    try:
        queue, subscriptions = svc.mail.mail_counts(), svc.mail.subscription_count()
    except StoreUnavailable:
        queue, subscriptions = {}, {}
    for state, count in queue.items():
        svc.metrics.mail_queue.labels(state).set(count)
    for kind, count in subscriptions.items():
        svc.metrics.subscriptions.labels(kind).set(count)
    return Response(svc.metrics.render(), mimetype="text/plain; version=0.0.4")


def _start_timer() -> None:
    g.started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.get("started")
    if started is not None:
        services().metrics.observe_request(
            request.endpoint or "unmatched",
            request.method,
            response.status_code,
            time.perf_counter() - started,
        )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
