"""Anti-forgery and anti-spam without cookies, so forms work inside third-party iframes.

Cookies are often blocked in cross-site iframes, so the classic session-bound CSRF token is
out. Instead each form carries a signed token naming what it was served for and in which
language, and a honeypot field; posts must also come from our own origin (origin.py).
Together that stops cross-site posts and replays onto another form, with no state.

Two kinds of token. `FormGuard`'s expire and carry the moment and one rendering of the form:
for a form a person fills in at one sitting (the application form, where a replay or a
too-fast fill is refused). `FormTokens`' never expire: for forms on pages that are cached for
as long as the board is unchanged (the job-alert forms), where an age would refuse honest
visitors.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

# A candidate may leave the form open for a long time (write a cover letter, find files).
TOKEN_MAX_AGE = 24 * 3600
HONEYPOT_FIELD = "website"  # a field humans never see; bots fill every field they find
TOKEN_FIELD = "form_token"
# The kept files of a refused post (careers/db/kept.py): the reference the new form carries,
# how long it is good for (as long as the files are kept) and the "Remove" checkboxes.
KEPT_FIELD = "kept_files"
KEPT_REMOVE_FIELD = "kept_remove"
KEPT_MAX_AGE = 3600


class Forged(Exception):
    """A post that did not come from our own form: answer 403."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Expired(Exception):
    """Our own form, but too old: ask the person to send it again."""


class Spam(Exception):
    """The honeypot was filled, or the form was sent faster than a person can fill it."""


@dataclass(frozen=True)
class FormTicket:
    position_id: int
    language: str
    issued_at: float
    nonce: str  # one rendering of the form: one application (the outbox remembers it)


class Fingerprinted(Protocol):
    """What a form sent, able to hash itself under a key (applications/model.Application)."""

    def fingerprint(self, key: bytes) -> str: ...


class FormGuard:
    """Issues and checks the application form's tokens: one per rendering, for one position."""

    def __init__(self, secret_key: str, *, clock: Callable[[], float] = time.time) -> None:
        self._signer = URLSafeTimedSerializer(secret_key, salt="careers.apply-form")
        self._fingerprint_key = hashlib.sha256(
            b"careers.fingerprint:" + secret_key.encode()
        ).digest()
        self._clock = clock

    def issue(self, position_id: int, language: str) -> str:
        """A token for one rendering of the form."""
        payload = {
            "p": position_id,
            "l": language,
            "t": round(self._clock(), 3),
            "n": secrets.token_urlsafe(12),
        }
        return self._signer.dumps(payload)

    def check(self, token: str, position_id: int, language: str) -> FormTicket:
        """The ticket of a valid token for this position; Forged or Expired otherwise."""
        if not token or len(token) > 512:
            raise Forged("token_missing")
        try:
            payload = self._signer.loads(token, max_age=TOKEN_MAX_AGE)
        except SignatureExpired:
            raise Expired() from None
        except BadSignature:
            raise Forged("token_invalid") from None
        if not isinstance(payload, dict) or payload.get("p") != position_id:
            raise Forged("token_other_position")
        if payload.get("l") != language:
            raise Forged("token_other_language")
        return FormTicket(
            position_id, language, float(payload.get("t", 0)), str(payload.get("n", ""))
        )

    def fingerprint(self, sent: Fingerprinted) -> str:
        """What was sent, as a keyed hash: the same form posted twice has the same one."""
        return sent.fingerprint(self._fingerprint_key)

    def too_fast(self, ticket: FormTicket, min_seconds: float) -> bool:
        """Filled faster than a person can: a bot (docs/operations.md CAREERS_MIN_FILL_SECONDS)."""
        return self._clock() - ticket.issued_at < min_seconds


class FormTokens:
    """Tokens bound to a purpose and a language, with no time in them.

    For forms on cached pages (the job-alert forms: the list page is cached for as long as
    the board is unchanged, web/cache.py). What a token proves is that the post came from a
    form we rendered for this purpose and language; cross-site posts are stopped by the
    origin check, floods by the limits of the form's own view.
    """

    def __init__(self, secret_key: str, *, salt: str) -> None:
        self._signer = URLSafeSerializer(secret_key, salt=salt)

    def issue(self, purpose: str, language: str) -> str:
        return self._signer.dumps([purpose, language])

    def check(self, token: str, purpose: str, language: str) -> None:
        """Raise Forged unless the token is ours, for this purpose and language."""
        if not token or len(token) > 200:
            raise Forged("token_missing")
        try:
            value = self._signer.loads(token)
        except BadSignature:
            raise Forged("token_invalid") from None
        if value != [purpose, language]:
            raise Forged("token_other_form")


@dataclass(frozen=True)
class KeptRef:
    """A valid reference to kept files: the batch, and the key its names and bytes are
    sealed with (derived, never stored: only the form and the server's secret make it)."""

    batch: str
    key: bytes


class KeptTokens:
    """References to the kept files of a refused post, for the form that asks to send it
    again. A reference is signed, names its batch and a random secret (the other half of the
    batch's key), and is bound to the one form token it was rendered with: another
    candidate's form, another position or language, or the same reference in a later form
    does not open it. It is good for `KEPT_MAX_AGE` seconds, as long as the files are kept."""

    def __init__(self, secret_key: str, *, clock: Callable[[], float] = time.time) -> None:
        self._signer = URLSafeSerializer(secret_key, salt="careers.kept-files")
        self._key = hashlib.sha256(b"careers.kept-key:" + secret_key.encode()).digest()
        self._clock = clock

    @staticmethod
    def new_secret() -> str:
        """The random half of a new batch's key; it travels only inside the reference."""
        return secrets.token_urlsafe(24)

    def key(self, secret: str) -> bytes:
        """The sealing key of the batch whose reference carries `secret`."""
        return hmac.new(self._key, secret.encode(), hashlib.sha256).digest()

    def issue(
        self, batch: str, secret: str, form_token: str, position_id: int, language: str
    ) -> str:
        """The reference for the form rendered with `form_token`."""
        return self._signer.dumps(
            {
                "b": batch,
                "s": secret,
                "f": _digest(form_token),
                "p": position_id,
                "l": language,
                "t": round(self._clock(), 3),
            }
        )

    def check(self, value: str, form_token: str, position_id: int, language: str) -> KeptRef:
        """The batch a reference names: Forged unless it is ours and was rendered with this
        form token, position and language; Expired once the files' hour is over."""
        if len(value) > 512:
            raise Forged("kept_invalid")
        try:
            payload = self._signer.loads(value)
        except BadSignature:
            raise Forged("kept_invalid") from None
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("b"), str)
            or not isinstance(payload.get("s"), str)
        ):
            raise Forged("kept_invalid")
        if not hmac.compare_digest(str(payload.get("f", "")), _digest(form_token)):
            raise Forged("kept_other_form")
        if payload.get("p") != position_id or payload.get("l") != language:
            raise Forged("kept_other_form")
        if self._clock() - float(payload.get("t", 0)) > KEPT_MAX_AGE:
            raise Expired()
        return KeptRef(payload["b"], self.key(payload["s"]))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class EarlyCheck:
    """Judges the form token and the honeypot the moment they arrive, while the rest of the
    body is still on the wire: a forged post or a filled honeypot is stopped after one chunk,
    not 64 MB. The fill time is noted here and refused after the body, so a fast human keeps
    what they typed. Used as `upload.receive(on_field=...)`; the form renders both first."""

    def __init__(
        self, guard: FormGuard, position_id: int, language: str, min_fill_seconds: float
    ) -> None:
        self.guard, self.position_id, self.language = guard, position_id, language
        self.min_fill_seconds = min_fill_seconds
        self.ticket: FormTicket | None = None
        self.expired = False
        self.too_fast = False  # judged on the token, refused after the body (values kept)

    def __call__(self, name: str, value: str) -> None:
        if name == TOKEN_FIELD and self.ticket is None and not self.expired:
            try:
                self.ticket = self.guard.check(value, self.position_id, self.language)
            except Expired:
                self.expired = True  # our form, only old: read on to show it again filled in
                return
            self.too_fast = self.guard.too_fast(self.ticket, self.min_fill_seconds)
        elif name == HONEYPOT_FIELD and value:
            raise Spam()

    def verdict(self) -> FormTicket:
        """After the whole body: the ticket, or why there is none."""
        if self.expired:
            raise Expired()
        if self.ticket is None:
            raise Forged("token_missing")
        return self.ticket
