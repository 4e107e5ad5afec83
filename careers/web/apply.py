"""The application form: GET shows it, POST streams it in, checks it, stores it (docs/applications.md)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    g,
    make_response,
    redirect,
    render_template,
    request,
)
from werkzeug.wrappers import Response

from ..applications.attribution import channel_and_tags
from ..applications.guard import (
    HONEYPOT_FIELD,
    TOKEN_FIELD,
    Expired,
    Forged,
    check_origin,
    client_key,
    own_origins,
)
from ..applications.intake import Invalid, form_values, intake
from ..applications.model import Application
from ..applications.rules import LIMITS, FieldProblem, UploadProblem
from ..applications.upload import Submission, UploadRejected, receive
from ..personio.model import Position
from . import services
from .links import attribution_args, site_url
from .messages import field_error, file_error, upload_error
from .pages import apply_url, open_position

log = logging.getLogger(__name__)
bp = Blueprint("apply", __name__)


def _refused(reason: str) -> None:
    """Every refusal leaves a reason tag in the log and the metrics; never personal data."""
    log.warning("application refused", extra={"reason": reason})
    services().metrics.rejections.labels(reason).inc()


def _form(
    position: Position,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    file_errors: dict[str, list[str]] | None = None,
    status: int = 200,
    notice: str = "",
    attribution: str | None = None,
) -> Response:
    """Render the form; on errors keep what was typed and list every problem at the top."""
    svc = services()
    settings = svc.settings
    body = render_template(
        "apply/form.html",
        position=position,
        schema=settings.form,
        fields=settings.form.fields_for(position.id),
        values=values or {},
        errors=errors or {},
        file_errors=file_errors or {},
        notice=notice,
        token=svc.guard.issue(position.id, g.lang),
        attribution=svc.attribution.sign(attribution_args(request.args))
        if attribution is None
        else attribution,
        honeypot=HONEYPOT_FIELD,
        token_field=TOKEN_FIELD,
        limits=LIMITS,
        extensions=settings.allowed_extensions,
    )
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<lang:lang>/jobs/<int:job_id>/apply")
def form(job_id: int) -> Response:
    """The empty form, or Personio's own form in read-only mode."""
    position = open_position(job_id)[0]
    if services().settings.read_only:
        return redirect(apply_url(position))  # Personio's form, channel parameter kept
    return _form(position)


@bp.post("/<lang:lang>/jobs/<int:job_id>/apply")
def submit(job_id: int) -> Response:
    """Check cheap things first, stream the body to disk, validate, store, then 303."""
    svc = services()
    settings = svc.settings
    if settings.read_only:
        abort(404)
    try:
        check_origin(request.headers, own_origins(request.host_url, settings.public_url))
    except Forged as exc:
        _refused(exc.reason)
        abort(403)
    wait = svc.outbox.rate_wait(*_submit_limit())
    if wait > 0:
        _refused("rate_limited")
        return _too_many(wait)
    position = open_position(job_id)[0]

    try:
        submission = receive(
            request.stream,
            request.headers.get("Content-Type", ""),
            request.content_length,
            svc.spool,
            frozenset(settings.form.document_inputs),
        )
    except UploadRejected as exc:
        _refused(exc.reason)
        if exc.status == 400:
            abort(400)
        if exc.status == 422:
            return _form(position, status=422, notice="hidden_category")
        return _too_large(position, exc.reason)

    try:
        return _accept(position, submission)
    finally:
        # Anything not handed to the outbox is deleted: rejected forms leave no files behind.
        submission.discard(svc.spool)


def _submit_limit() -> tuple[str, int, int]:
    """CAREERS_SUBMIT_RATE_LIMIT for this client: key (a keyed hash, not the address), count, seconds."""
    settings = services().settings
    client = client_key(settings.secret_key, request.remote_addr or "")
    limit = settings.submit_rate_limit
    return f"submit:{client}", limit.count, limit.seconds


def _accept(position: Position, submission: Submission) -> Response:
    """Token and spam checks, then intake; a valid application is stored before the 303."""
    svc = services()
    settings = svc.settings
    attribution = submission.value("attribution")  # signed on GET, handed on as it came
    try:
        ticket = svc.guard.check(submission.value(TOKEN_FIELD), position.id, g.lang)
    except Forged as exc:
        _refused(exc.reason)
        abort(403)
    except Expired:
        log.info("application form expired", extra={"reason": "token_expired"})
        values = form_values(submission.fields, settings.form, position.id)
        return _form(position, values=values, status=422, notice="expired", attribution=attribution)
    if submission.value(HONEYPOT_FIELD) or svc.guard.too_fast(ticket, settings.min_fill_seconds):
        # Spam: refused without saying why (docs/applications.md); a fast human sends it again.
        _refused("spam")
        return _form(position, status=422, notice="retry", attribution=attribution)

    channel, tags = channel_and_tags(svc.attribution.read(attribution), settings.channels)
    outcome = intake(
        submission,
        settings.form,
        position_id=position.id,
        language=g.lang,
        allowed_extensions=settings.allowed_extensions,
        today=datetime.now(UTC).date(),
        channel_id=channel,
        tags=tuple(tags),
    )
    if isinstance(outcome, Invalid):
        return _invalid(position, outcome, attribution)

    wait = svc.outbox.take_slot(*_submit_limit())
    if wait > 0:
        return _too_many(wait)
    public_id = _store(outcome)
    submission.files.clear()  # the outbox owns them now
    log.info("application accepted", extra={"documents": len(outcome.documents)})
    receipt = svc.receipts.make(public_id)
    return redirect(site_url("receipt", receipt=receipt), code=303)


def _store(application: Application) -> str:
    """Move the files under the spool's `stored/` and commit the application; on any
    failure leave nothing behind."""
    svc = services()
    kept: list[Path] = []
    try:
        kept = svc.spool.keep([Path(d.path) for d in application.documents])
        documents = tuple(
            replace(d, path=str(path)) for d, path in zip(application.documents, kept, strict=True)
        )
        return svc.outbox.add(replace(application, documents=documents))
    except BaseException:
        svc.spool.discard(kept)
        raise


def _invalid(position: Position, invalid: Invalid, attribution: str) -> Response:
    """422 with every problem at the top and beside its field, typed values kept."""
    file_errors: dict[str, list[str]] = {}
    for refusal in invalid.files:
        _refused(f"document_{refusal.reason}")
        file_errors.setdefault(refusal.category, []).append(
            file_error(refusal.reason, refusal.filename, refusal.extension)
        )
    for category in invalid.missing_documents:
        file_errors.setdefault(category, []).append(field_error(FieldProblem.REQUIRED_FILE))
    log.info(
        "application invalid",
        extra={"reason": "validation", "fields": ",".join(sorted(invalid.errors))},
    )
    return _form(
        position,
        values=invalid.values,
        errors={name: field_error(code) for name, code in invalid.errors.items()},
        file_errors=file_errors,
        status=422,
        attribution=attribution,
    )


def _too_large(position: Position, reason: UploadProblem) -> Response:
    body = render_template(
        "apply/too_large.html", position=position, message=upload_error(reason), limits=LIMITS
    )
    response = make_response(body, 413)
    response.headers["Connection"] = "close"  # we stopped reading; don't reuse the connection
    return response


def _too_many(wait: float) -> Response:
    response = make_response(
        render_template("apply/too_many.html", minutes=max(1, round(wait / 60))), 429
    )
    response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    return response


@bp.get("/<lang:lang>/applications/<receipt>")
def receipt(receipt: str) -> Response:
    """The candidate's confirmation: received, forwarded, or needs attention."""
    svc = services()
    public_id = svc.receipts.read(receipt)
    summary = svc.outbox.summary(public_id) if public_id else None
    if summary is None:
        abort(404)
    found = svc.catalogue.find(g.lang, summary.position_id)
    title = found[0].name if found else svc.catalogue.seen_title(summary.position_id, g.lang)
    response = make_response(render_template("apply/receipt.html", summary=summary, title=title))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the receipt URL is a secret
    return response
