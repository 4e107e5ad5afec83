"""The application form: GET shows it, POST streams it in, checks it, stores it (SPEC §4)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    make_response,
    redirect,
    render_template,
    request,
)

from ..applications.attribution import channel_and_tags
from ..applications.files import check_file, clean_filename
from ..applications.form import FILE_CATEGORIES
from ..applications.guard import (
    HONEYPOT_FIELD,
    TOKEN_FIELD,
    Expired,
    Forged,
    check_origin,
    client_key,
    own_origins,
)
from ..applications.store import NewApplication, NewDocument
from ..applications.upload import Limits, UploadRejected, receive
from ..applications.validate import check_submission
from ..personio.model import Position
from . import services
from .links import attribution_args, site_url
from .messages import field_error, file_error, upload_error
from .pages import apply_url, open_position

log = logging.getLogger(__name__)
bp = Blueprint("apply", __name__)
LIMITS = Limits()


def _refused(reason: str) -> None:
    """Every refusal leaves a reason tag in the log and the metrics; never personal data."""
    log.warning("application refused", extra={"reason": reason})
    services().metrics.rejections.labels(reason).inc()


def _form(
    position: Position,
    *,
    values=None,
    errors=None,
    file_errors=None,
    status=200,
    notice="",
    attribution: str | None = None,
):
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
            frozenset(FILE_CATEGORIES),
            LIMITS,
        )
    except UploadRejected as exc:
        _refused(exc.reason)
        if exc.status == 400:
            abort(400)
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


def _accept(position: Position, submission) -> Response:
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
        checked = check_submission(submission.fields, settings.form, position.id, _today())
        return _form(
            position,
            values=checked.values,
            status=422,
            notice="expired",
            attribution=attribution,
        )
    if submission.value(HONEYPOT_FIELD) or svc.guard.too_fast(ticket, settings.min_fill_seconds):
        # Spam: refused without saying why (SPEC §4); a fast human just sends it again.
        _refused("spam")
        return _form(position, status=422, notice="retry", attribution=attribution)

    checked = check_submission(submission.fields, settings.form, position.id, _today())
    documents, file_errors = _check_files(submission)
    for category in settings.form.document_inputs:
        if settings.form.documents[category] == "required" and not any(
            f.category == category for f in submission.files
        ):
            file_errors.setdefault(category, []).append(field_error("required_file"))
    if checked.errors or file_errors:
        log.info(
            "application invalid",
            extra={"reason": "validation", "fields": ",".join(sorted(checked.errors))},
        )
        return _form(
            position,
            values=checked.values,
            errors={name: field_error(code) for name, code in checked.errors.items()},
            file_errors=file_errors,
            status=422,
            attribution=attribution,
        )

    wait = svc.outbox.take_slot(*_submit_limit())
    if wait > 0:
        return _too_many(wait)
    payload = {
        "first_name": checked.values["first_name"],
        "last_name": checked.values["last_name"],
        "email": checked.values["email"],
        "message": checked.values.get("message", ""),
        "attributes": checked.attributes,
    }
    channel, tags = channel_and_tags(svc.attribution.read(attribution), settings.channels)
    if channel is not None:
        payload["recruiting_channel_id"] = channel
    if tags:
        payload["tags"] = tags
    kept: list = []
    try:
        kept = svc.spool.keep([f.path for f in submission.files])
        application = NewApplication(
            position_id=position.id,
            language=g.lang,
            payload=payload,
            documents=tuple(
                NewDocument(doc.category, doc.filename, str(path), doc.size)
                for doc, path in zip(documents, kept, strict=True)
            ),
        )
        public_id = svc.outbox.add(application)
    except BaseException:
        svc.spool.discard(kept)  # not stored: leave nothing behind
        raise
    submission.files.clear()  # the outbox owns them now
    log.info("application accepted", extra={"documents": len(kept)})
    receipt = svc.receipts.make(public_id)
    return redirect(site_url("receipt", receipt=receipt), code=303)


def _check_files(submission) -> tuple[list[NewDocument], dict[str, list[str]]]:
    """Content checks per file; errors are grouped by the input they came from."""
    allowed = services().settings.allowed_extensions
    documents, errors = [], {}
    for upload in submission.files:
        name = clean_filename(upload.filename)
        verdict = check_file(upload.path, name, allowed)
        if not verdict.ok:
            _refused(f"document_{verdict.reason}")
            errors.setdefault(upload.category, []).append(
                file_error(verdict.reason, name, verdict.extension)
            )
        documents.append(NewDocument(upload.category, name, str(upload.path), upload.size))
    return documents, errors


def _today():
    return datetime.now(UTC).date()


def _too_large(position: Position, reason: str) -> Response:
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
