"""Anti-forgery and anti-spam without cookies, so forms work inside third-party iframes.

Cookies are often blocked in cross-site iframes, so the classic session-bound CSRF token is
out. Instead each form carries a signed, expiring token bound to the position and language
it was served for; posts must also come from our own origin (Origin / Sec-Fetch-Site).
Together that stops cross-site posts and replays onto another position, with no state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from ..network import client_subject
from .model import Application

# A candidate may leave the form open for a long time (write a cover letter, find files).
TOKEN_MAX_AGE = 24 * 3600
HONEYPOT_FIELD = "website"  # a field humans never see; bots fill every field they find
TOKEN_FIELD = "form_token"


class Forged(Exception):
    """A post that did not come from our own form: answer 403."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Expired(Exception):
    """Our own form, but too old: ask the candidate to send it again."""


class Spam(Exception):
    """The honeypot was filled, or the form was sent faster than a person can fill it."""


@dataclass(frozen=True)
class FormTicket:
    position_id: int
    language: str
    issued_at: float
    nonce: str  # one rendering of the form: one application (the outbox remembers it)


class FormGuard:
    """Issues and checks form tokens."""

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

    def fingerprint(self, application: Application) -> str:
        """What was sent, as a keyed hash (model.Application.fingerprint)."""
        return application.fingerprint(self._fingerprint_key)

    def too_fast(self, ticket: FormTicket, min_seconds: float) -> bool:
        """Filled faster than a person can: a bot (docs/operations.md CAREERS_MIN_FILL_SECONDS)."""
        return self._clock() - ticket.issued_at < min_seconds


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


class _Headers(Protocol):
    def get(self, key: str) -> str | None: ...


def check_origin(headers: _Headers, own_origins: set[str]) -> None:
    """Refuse cross-site posts; browsers send Origin and Sec-Fetch-Site on every form post."""
    site = headers.get("Sec-Fetch-Site")
    if site is not None and site not in {"same-origin", "none"}:
        raise Forged("cross_site")
    origin = headers.get("Origin")
    if origin is not None and origin != "null" and _origin(origin) not in own_origins:
        raise Forged("foreign_origin")
    if origin == "null" and site != "same-origin":
        raise Forged("opaque_origin")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(host_url: str, public_url: str) -> set[str]:
    """Our origin as the request sees it, and as configured behind a proxy."""
    return {_origin(u) for u in (host_url, public_url) if u}


class Attribution:
    """Signs the landing URL's attribution for the form, so only values we saw come back."""

    def __init__(self, secret_key: str) -> None:
        self._signer = URLSafeSerializer(secret_key, salt="careers.attribution")

    def sign(self, values: dict[str, str]) -> str:
        return self._signer.dumps(values) if values else ""

    def read(self, token: str) -> dict[str, str]:
        """The signed values, or nothing: a bad token costs the attribution, not the application."""
        if not token or len(token) > 2000:
            return {}
        try:
            values = self._signer.loads(token)
        except BadSignature:
            return {}
        if not isinstance(values, dict):
            return {}
        return {str(k): str(v) for k, v in values.items() if isinstance(v, str)}


class Receipts:
    """Receipt ids in URLs are signed: a forged or mistyped one is refused without a lookup."""

    def __init__(self, secret_key: str) -> None:
        self._signer = URLSafeSerializer(secret_key, salt="careers.receipt")

    def make(self, public_id: str) -> str:
        return self._signer.dumps(public_id)

    def read(self, receipt: str) -> str | None:
        if len(receipt) > 200:
            return None
        try:
            value = self._signer.loads(receipt)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


def client_key(secret_key: str, address: str) -> str:
    """A per-client rate-limit key that is not the IP address itself (no personal data stored):
    an IPv6 client is its /64, since one household can pick any address in it."""
    subject = client_subject(address)
    return hmac.new(secret_key.encode(), subject.encode(), hashlib.sha256).hexdigest()[:32]
