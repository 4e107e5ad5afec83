"""Accepting an application: from a received form to a stored one, or the reason it is not.

The web view streams the body in and judges the form token while it arrives (upload.receive,
forms.tokens.EarlyCheck); what follows has nothing of HTTP in it and lives here: intake, the
one-form-one-application check, the submission rate slot and the hand-over of the files to
the outbox. Each way it can end is a type of its own, so the view only maps outcomes to
statuses and pages (docs/applications.md, "The outbox").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from ..forms.tokens import FormTicket
from .form import FormSchema
from .intake import Invalid, intake
from .model import Application
from .store import AlreadySubmitted, NonceReused, Outbox
from .upload import Submission


@dataclass(frozen=True)
class Accepted:
    """Stored: the outbox owns the application and its documents."""

    public_id: str
    documents: int


@dataclass(frozen=True)
class SentBefore:
    """This form was stored before with the same content (a second click, a browser
    retrying a lost answer): its receipt, nothing stored twice."""

    public_id: str


@dataclass(frozen=True)
class FormReused:
    """This form was stored before with other content: one form, one application."""

    public_id: str


@dataclass(frozen=True)
class NotValid:
    """Something the candidate must fix, as intake found it."""

    invalid: Invalid


@dataclass(frozen=True)
class RateLimited:
    """This client used up its submissions for now: `wait` seconds until the next."""

    wait: float


Outcome = Accepted | SentBefore | FormReused | NotValid | RateLimited


class Slots(Protocol):
    """The client's share of the submission limit (careers/db/ratelimit.py's KeyLimit)."""

    def hit(self) -> float:
        """Take a slot: 0 when taken, else seconds until one is free (nothing taken)."""


@dataclass(frozen=True)
class Desk:
    """What accepting needs that outlives a request: the form's rules, the keyed hash that
    tells one post from another and the outbox."""

    form: FormSchema
    allowed_extensions: tuple[str, ...]
    fingerprint: Callable[[Application], str]
    outbox: Outbox
    account: str = ""  # the Personio account the position belongs to (careers/accounts.py)


def accept(
    desk: Desk,
    submission: Submission,
    ticket: FormTicket,
    *,
    rate: Slots,
    today: date,
    channel_id: int | None = None,
    tags: tuple[str, ...] = (),
    funnel_channel: str = "",
) -> Outcome:
    """Check `submission` (sent with the form `ticket` was issued for) and store it.

    `rate` is the client's submission limit: a slot is spent only
    on an application about to be stored, never on an invalid one or one sent again.
    The caller owns the submission's files, before and after: the outbox took them
    (Accepted), or they are still in the spool's `incoming/` for the caller to keep for a
    resubmission (NotValid: `invalid.accepted`) or delete. StoreUnavailable is raised as it
    comes (nothing was stored: every write is one transaction)."""
    checked = intake(
        submission,
        desk.form,
        position_id=ticket.position_id,
        language=ticket.language,
        allowed_extensions=desk.allowed_extensions,
        today=today,
        channel_id=channel_id,
        tags=tags,
    )
    if isinstance(checked, Invalid):
        return NotValid(checked)
    checked = replace(checked, account=desk.account)
    fingerprint = desk.fingerprint(checked)
    try:
        # A form sent again is found by its nonce before it costs a rate-limit slot;
        # `add` checks again atomically.
        desk.outbox.check_submission(ticket.nonce, fingerprint)
        wait = rate.hit()
        if wait > 0:
            return RateLimited(wait)
        public_id = desk.outbox.add(
            checked, nonce=ticket.nonce, fingerprint=fingerprint, channel=funnel_channel
        )
    except AlreadySubmitted as done:
        return SentBefore(done.public_id)
    except NonceReused as used:
        return FormReused(used.public_id)
    return Accepted(public_id, len(checked.documents))
