"""The application form: GET shows it, POST streams it in, checks it, stores it (docs/applications.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import assert_never

from babel.units import format_unit
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

from ..applications.accept import (
    Accepted,
    Desk,
    FormReused,
    NotValid,
    RateLimited,
    SentBefore,
    accept,
)
from ..applications.attribution import channel_and_tags
from ..applications.files import clean_filename
from ..applications.form import SYSTEM_FIELDS
from ..applications.intake import FileRefusal, Invalid, check_files, form_values
from ..applications.rules import (
    KEPT_LIMIT,
    LIMITS,
    READ_CHUNK,
    FieldProblem,
    Status,
    UploadProblem,
)
from ..applications.slowbody import client_socket
from ..applications.store import AlreadySubmitted, NonceReused
from ..applications.upload import Submission, UploadedFile, UploadRejected, receive
from ..db.kept import KEPT_SECONDS, Keep, KeptFile, KeptGone
from ..db.ratelimit import KeyLimit
from ..forms.origin import check_origin, own_origins
from ..forms.tokens import (
    HONEYPOT_FIELD,
    KEPT_FIELD,
    KEPT_REMOVE_FIELD,
    TOKEN_FIELD,
    EarlyCheck,
    Expired,
    Forged,
    Spam,
)
from ..jobs.funnel import channel_of
from ..mail.alerts import AlertKind, mail_key, webhook_key
from ..personio.model import Position
from ..store_errors import StoreUnavailable
from . import referrals, services
from .bodies import client, refusal_limit
from .messages import DOCUMENT_LABELS, field_error, file_error, upload_error
from .pages import account_of, apply_url, field_label, open_position
from .site_links import attribution_args, site_url

log = logging.getLogger(__name__)
bp = Blueprint("apply", __name__)


def _refused(reason: str, *, count: bool = True) -> None:
    """Every refusal leaves a reason tag in the log and the metrics, never personal data;
    it also counts against the client's budget of refusals unless `count` is False."""
    svc = services()
    log.warning("application refused", extra={"reason": reason})
    svc.metrics.rejections.labels(reason).inc()
    if count:
        refusal_limit().hit()


@dataclass(frozen=True)
class Kept:
    """The checked files of a refused post, kept for its resubmission (careers/db/kept.py):
    the batch, the secret half of its key (only the new form's reference carries it) and
    what the form shows of each file."""

    batch: str
    secret: str
    files: list[KeptFile]


def _form(
    position: Position,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    file_errors: dict[str, list[str]] | None = None,
    status: int = 200,
    notice: str = "",
    attribution: str | None = None,
    attached: int = 0,
    kept: Kept | None = None,
) -> Response:
    """Render the form; on errors keep what was typed and list every problem at the top.
    `attached` is how many files the refused post carried that were not kept (they must be
    attached again); `kept` the files that were, shown as attached and named by a reference
    bound to this rendering's form token."""
    svc = services()
    settings = svc.settings
    account = account_of(position)
    form = account.form
    token = svc.guard.issue(position.id, g.lang)
    kept_token = ""
    kept_files: dict[str, list[dict[str, object]]] = {}
    if kept is not None:
        kept_token = svc.kept_tokens.issue(kept.batch, kept.secret, token, position.id, g.lang)
        for f in kept.files:
            kept_files.setdefault(f.category, []).append(
                {"seq": f.seq, "name": f.filename, "size": f.size, "size_text": _size(f.size)}
            )
    body = render_template(
        "apply/form.html",
        position=position,
        # The candidate consents to the employer's policy: the position's account's on a
        # site of several (docs/accounts.md).
        privacy_url=account.privacy_url,
        employer=account.name if settings.several_accounts else settings.company_name,
        schema=form,
        fields=form.fields_for(position.id),
        minutes=form.minutes(position.id),
        values=values or {},
        errors=errors or {},
        file_errors=file_errors or {},
        summary=_summary(position, errors or {}, file_errors or {}),
        notice=notice,
        token=token,
        kept_token=kept_token,
        kept_field=KEPT_FIELD,
        kept_remove_field=KEPT_REMOVE_FIELD,
        kept_files=kept_files,
        kept_minutes=int(KEPT_SECONDS // 60),
        attribution=svc.attribution.sign(attribution_args(request.args))
        if attribution is None
        else attribution,
        honeypot=HONEYPOT_FIELD,
        token_field=TOKEN_FIELD,
        limits=LIMITS,
        extensions=settings.allowed_extensions,
        attached=attached,
        limit_minutes=_limit_minutes() if not notice else 0,
    )
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _summary(
    position: Position, errors: dict[str, str], file_errors: dict[str, list[str]]
) -> list[tuple[str, str, str]]:
    """The error summary's lines (the id each links to, label, message) in the order the
    page shows their fields (templates/apply/form.html), so reading it top to bottom walks
    the form top to bottom."""
    form = account_of(position).form
    referrer = services().settings.referrer_field
    order = [
        *(f"field-{name}" for name in ("first_name", "last_name", "email")),
        *(f"field-{name}" for name in SYSTEM_FIELDS if name != "message"),
        *(f"field-{extra.id}" for extra in form.fields_for(position.id)),
        *(f"file-{category}" for category in form.document_inputs),
        "field-message",
        f"field-{referrals.REFERRER_INPUT}",
        "field-consent",
    ]
    lines: dict[str, list[tuple[str, str, str]]] = {}
    for name, message in errors.items():
        anchor = f"field-{referrals.REFERRER_INPUT if name == referrer else name}"
        lines.setdefault(anchor, []).append((anchor, field_label(name), message))
    for category, messages in file_errors.items():
        anchor = f"file-{category}"
        label = str(DOCUMENT_LABELS.get(category, category))
        lines.setdefault(anchor, []).extend((anchor, label, m) for m in messages)
    rank = {anchor: index for index, anchor in enumerate(order)}
    return [
        line
        for anchor in sorted(lines, key=lambda a: rank.get(a, len(order)))
        for line in lines[anchor]
    ]


def _size(size: int) -> str:
    """ "1.2 MB", "340 kB" in the page's language, as apply.js writes a chosen file's size."""
    if size >= 100_000:
        return format_unit(size / 1e6, "digital-megabyte", "short", locale=g.lang, format="#,##0.#")
    kb = max(1, round(size / 1e3))
    return format_unit(kb, "digital-kilobyte", "short", locale=g.lang)


def _limit_minutes() -> int:
    """Minutes until this client may send again (0: now), so it is told before filling in."""
    try:
        wait = _submit_limit().test()
    except StoreUnavailable:
        return 0  # the post will say so; the form itself needs no database
    return max(1, round(wait / 60)) if wait > 0 else 0


@bp.get("/<lang:lang>/jobs/<int:job_id>/apply")
def form(job_id: int) -> Response:
    """The empty form, or Personio's own form in read-only mode."""
    position = open_position(job_id)[0]
    if account_of(position).read_only:
        return redirect(apply_url(position))  # Personio's form, channel parameter kept
    return _form(position)


@bp.post("/<lang:lang>/jobs/<int:job_id>/apply")
def submit(job_id: int) -> Response:
    """Cheap checks first, then stream the body to disk (stopping at the first forged,
    spam or oversized part), intake, store, then 303."""
    svc = services()
    settings = svc.settings
    g.body_unread = True  # until receive() has read it all, any answer closes the connection
    # This view streams the largest body of the site and checks its limits itself
    # (upload.receive); Flask's backstop (MAX_CONTENT_LENGTH) stays above them.
    request.max_content_length = svc.limits.body_bytes + READ_CHUNK
    if settings.read_only:
        abort(404)
    wait = refusal_limit().test()
    if wait > 0:
        _refused("refusals_rate_limited", count=False)
        return _too_many(wait)
    try:
        check_origin(request.headers, own_origins(request.host_url, settings.public_url))
    except Forged as exc:
        _refused(exc.reason)
        abort(403)
    wait = _submit_limit().test()
    if wait > 0:
        _refused("rate_limited", count=False)
        return _too_many(wait)
    position = open_position(job_id)[0]
    account = account_of(position)
    if account.read_only:
        abort(404)  # this account's applications go to Personio's own form
    slot = svc.upload_gate.acquire(client())
    if slot is None:
        _refused("uploads_busy", count=False)
        return _try_again("busy")

    early = EarlyCheck(svc.guard, position.id, g.lang, settings.min_fill_seconds)
    try:
        submission = receive(
            request.stream,
            request.headers.get("Content-Type", ""),
            request.content_length,
            svc.spool,
            frozenset(account.form.document_inputs),
            svc.limits,
            sock=client_socket(request.environ),
            on_field=early,
            before_files=frozenset({TOKEN_FIELD}),
            slot=slot,
        )
    except Forged as exc:
        _refused(exc.reason)
        abort(403)
    except Spam:
        # Refused without saying why (docs/applications.md); a fast human sends it again.
        _refused("spam")
        return _form(position, status=422, notice="retry")
    except UploadRejected as exc:
        _refused(exc.reason)
        return _upload_refused(position, exc)
    finally:
        svc.upload_gate.release(slot)
    g.body_unread = False

    try:
        return _accept(position, submission, early)
    finally:
        # This view is the one owner of the uploads: whatever the outbox did not take and
        # was not kept for a resubmission (moved or copied out) is deleted, whatever the answer.
        submission.discard(svc.spool)


def _upload_refused(position: Position, exc: UploadRejected) -> Response:
    """The answer for a body refused while streaming."""
    if exc.status == 403:
        abort(403)
    if exc.status == 400:
        abort(400)
    if exc.status == 408:
        return make_response(render_template("apply/too_slow.html", position=position), 408)
    if exc.status == 422:
        return _form(position, status=422, notice="hidden_category")
    return _too_large(position, exc.reason)


def _submit_limit() -> KeyLimit:
    """CAREERS_SUBMIT_RATE_LIMIT for this client."""
    svc = services()
    limit = svc.settings.submit_rate_limit
    return svc.limiter(limit.count, limit.seconds).of(f"submit:{client()}")


def _accept(position: Position, submission: Submission, early: EarlyCheck) -> Response:
    """The form token's verdict, then the accept use case; its outcome becomes the answer."""
    svc = services()
    settings = svc.settings
    attribution = submission.value("attribution")  # signed on GET, handed on as it came
    try:
        ticket = early.verdict()
    except Forged as exc:
        _refused(exc.reason)
        abort(403)
    except Expired:
        log.info("application form expired", extra={"reason": "token_expired"})
        return _send_again(position, submission, "expired")
    try:
        previous = _restore_kept(position, submission)
    except Forged as exc:
        _refused(exc.reason)
        abort(403)
    except (Expired, KeptGone):
        stored = _stored_before(ticket.nonce)
        if stored is not None:
            # This very form was stored (and its kept files with it): a second click, or a
            # browser sending again an answer it lost. Its receipt, as for any form sent twice.
            log.info("application sent again", extra={"reason": "resubmitted"})
            return redirect(site_url("receipt", receipt=svc.receipts.make(stored)), code=303)
        # The files it named were swept after their hour: say so, keep what came now.
        log.info("kept files gone", extra={"reason": "kept_expired"})
        return _send_again(position, submission, "kept_gone")
    except UploadRejected as exc:
        _refused(exc.reason)
        return _too_large(position, exc.reason)
    if early.too_fast:
        # Sent faster than a person fills a form in: a bot, or a human who was just quick
        # (autofill). Nothing is stored; the form comes back with everything typed and
        # every checked file still attached, asking to check it and send it again.
        _refused("spam")
        return _send_again(position, submission, "check", previous)

    landing = svc.attribution.read(attribution)
    channel, found_tags = channel_and_tags(landing, settings.channels)
    account = account_of(position)
    form, tags = account.form, tuple(found_tags)
    if referrals.asks_referrer(landing):
        form, tags = referrals.with_referrer(submission, form, tags)
    desk = Desk(
        form,
        settings.allowed_extensions,
        svc.guard.fingerprint,
        svc.outbox,
        account=account.key,
    )
    outcome = accept(
        desk,
        submission,
        ticket,
        rate=_submit_limit(),
        today=datetime.now(UTC).date(),
        channel_id=channel,
        tags=tags,
        funnel_channel=channel_of(landing),
    )
    match outcome:
        case Accepted(public_id=public_id, documents=documents):
            log.info("application accepted", extra={"documents": documents})
            referrals.after_accepted(position, submission)
        case SentBefore(public_id=public_id):
            log.info("application sent again", extra={"reason": "resubmitted"})
        case FormReused(public_id=public_id):
            _refused("token_reused")
            _forget(previous)
            return _already_sent(position, public_id)
        case NotValid(invalid=invalid):
            referrals.keep(submission, invalid.values)
            kept = _keep(invalid.accepted, previous)
            lost = len(submission.files) - (len(kept.files) if kept else 0)
            return _invalid(position, invalid, attribution, lost, kept)
        case RateLimited(wait=wait):
            return _too_many(wait)  # the kept files stay for their hour: the form still names them
        case _:
            assert_never(outcome)
    # Its kept files are the outbox's now (copied into the spool and taken): forget them.
    _forget(previous)
    return redirect(site_url("receipt", receipt=svc.receipts.make(public_id)), code=303)


def _send_again(
    position: Position, submission: Submission, notice: str, previous: str | None = None
) -> Response:
    """422: the form again with what was typed and every file that passes its checks kept
    attached, to be sent once more (expired, too fast, kept files gone)."""
    settings = services().settings
    values = form_values(submission.fields, account_of(position).form, position.id)
    accepted, refusals = check_files(submission, settings.allowed_extensions)
    kept = _keep(accepted, previous)
    return _form(
        position,
        values=referrals.keep(submission, values),
        file_errors=_file_errors(refusals),
        status=422,
        notice=notice,
        attribution=submission.value("attribution"),
        attached=len(refusals) + (0 if kept else len(accepted)),
        kept=kept,
    )


def _stored_before(nonce: str) -> str | None:
    """The public id of the application stored from the form of this nonce, if any."""
    try:
        services().outbox.check_submission(nonce, "")
    except (AlreadySubmitted, NonceReused) as done:
        return done.public_id
    return None


def _restore_kept(position: Position, submission: Submission) -> str | None:
    """The files a form's kept reference names, back among the submission's uploads (in
    the spool, owned by this request like the files that came with the post), but those
    ticked "Remove"; the batch, to forget once it is stored or kept anew. None without a
    reference. Forged for a reference not made for this form, Expired or KeptGone once the
    files' hour is over, UploadRejected when they and the new files break the limits."""
    value = submission.value(KEPT_FIELD)
    if not value:
        return None
    svc = services()
    ref = svc.kept_tokens.check(value, submission.value(TOKEN_FIELD), position.id, g.lang)
    removed = frozenset(
        int(seq)
        for seq in submission.fields.get(KEPT_REMOVE_FIELD, [])
        if seq.isdigit() and len(seq) < 4
    )
    offered = set(account_of(position).form.document_inputs)
    restored = svc.kept.restore(ref.batch, ref.key, svc.spool, removed)
    uploads = [UploadedFile(r.category, r.filename, r.path, r.size, r.sha256) for r in restored]
    submission.files[:0] = uploads  # from here on deleted with the others unless taken
    for upload in uploads:
        if upload.category not in offered:  # the form no longer asks for it
            submission.files.remove(upload)
            svc.spool.discard([upload.path])
    limits = svc.limits
    if len(submission.files) > limits.files:
        raise UploadRejected(UploadProblem.TOO_MANY_FILES)
    if sum(f.size for f in submission.files) > limits.total_file_bytes:
        raise UploadRejected(UploadProblem.TOTAL_TOO_LARGE)
    return ref.batch


def _keep(accepted: list[UploadedFile], previous: str | None) -> Kept | None:
    """Keep the checked files of a refused post for its resubmission (the batch they came
    from, if any, is forgotten: they are all in the new one)."""
    svc = services()
    kept = None
    if accepted and _kept_limit().hit() == 0:
        secret = svc.kept_tokens.new_secret()
        names = [clean_filename(f.filename) for f in accepted]
        batch = svc.kept.keep(
            [
                Keep(f.category, name, f.path, f.size)
                for f, name in zip(accepted, names, strict=True)
            ],
            svc.kept_tokens.key(secret),
        )
        files = [
            KeptFile(seq, f.category, name, f.size)
            for seq, (f, name) in enumerate(zip(accepted, names, strict=True))
        ]
        log.info("files kept", extra={"documents": len(files)})
        kept = Kept(batch, secret, files)
    _forget(previous)
    return kept


def _kept_limit() -> KeyLimit:
    """How many refused posts this client may have kept files of (rules.KEPT_LIMIT); past
    it their files are deleted as before kept files existed."""
    count, seconds = KEPT_LIMIT
    return services().limiter(count, seconds).of(f"kept:{client()}")


def _forget(batch: str | None) -> None:
    if batch is not None:
        services().kept.forget(batch)


def _file_errors(refusals: list[FileRefusal]) -> dict[str, list[str]]:
    """Each refused file's problem, by document input; also counted as a refusal."""
    file_errors: dict[str, list[str]] = {}
    for refusal in refusals:
        _refused(f"document_{refusal.reason}")
        file_errors.setdefault(refusal.category, []).append(
            file_error(refusal.reason, refusal.filename, refusal.extension)
        )
    return file_errors


def _already_sent(position: Position, public_id: str) -> Response:
    """409: this form was already sent with other details; one form, one application."""
    receipt = site_url("receipt", receipt=services().receipts.make(public_id))
    body = render_template("apply/already_sent.html", position=position, receipt_url=receipt)
    response = make_response(body, 409)
    response.headers["Cache-Control"] = "no-store"
    return response


def _invalid(
    position: Position, invalid: Invalid, attribution: str, attached: int, kept: Kept | None
) -> Response:
    """422 with every problem at the top and beside its field, typed values and checked
    files kept."""
    file_errors = _file_errors(invalid.files)
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
        attached=attached,
        kept=kept,
    )


def _too_large(position: Position, reason: UploadProblem) -> Response:
    body = render_template(
        "apply/too_large.html", position=position, message=upload_error(reason), limits=LIMITS
    )
    return make_response(body, 413)


def _try_again(reason: str) -> Response:
    """503 "please try again shortly": every upload slot busy, or the database away."""
    response = make_response(render_template("apply/try_again.html", reason=reason), 503)
    response.headers["Retry-After"] = "30"
    response.headers["Cache-Control"] = "no-store"
    return response


def _too_many(wait: float) -> Response:
    response = make_response(
        render_template("apply/too_many.html", minutes=max(1, round(wait / 60))), 429
    )
    response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    return response


@bp.app_errorhandler(StoreUnavailable)  # the widget's form and receipt too
def store_unavailable(exc: StoreUnavailable) -> Response:
    """The database is away: nothing was half-stored (every write is one transaction); ask
    the candidate to come back in a moment. Job pages keep serving meanwhile."""
    log.warning("outbox unavailable", extra={"reason": "store_down"})
    return _try_again("store_down")


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
    told = summary.status == Status.PARKED and _team_told(summary.public_id)
    body = render_template("apply/receipt.html", summary=summary, title=title, told=told)
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the receipt URL is a secret
    return response


def _team_told(public_id: str) -> bool:
    """Whether an operator alert about this parked application has gone out, by mail or
    webhook: only then may the receipt say that the team has been told."""
    mail = services().mail
    return mail.was_sent(mail_key(AlertKind.PARKED, public_id)) or mail.was_sent(
        webhook_key(AlertKind.PARKED, public_id)
    )
