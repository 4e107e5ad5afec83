"""Signed links in job-alert mails, and the absolute addresses mails point to.

A link names its subscription as `<id>.<signature>`: an HMAC of the id and the
subscription's random salt under CAREERS_SECRET_KEY, so nobody can confirm or cancel a
subscription they did not receive mail for, and a link outlives nothing it names (a
deleted subscription's id, reused by SQLite, has another salt).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import urlencode

from ..jobs.slugs import slugify

SIGNATURE_CHARS = 32
_TOKEN = re.compile(rf"([1-9][0-9]{{0,17}})\.([0-9a-f]{{{SIGNATURE_CHARS}}})")
UTM = {"utm_source": "job-alert", "utm_medium": "email"}


def _signature(secret: str, sub_id: int, salt: str) -> str:
    message = f"job-alert:{sub_id}:{salt}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:SIGNATURE_CHARS]


def subscription_token(secret: str, sub_id: int, salt: str) -> str:
    """What confirm and unsubscribe links carry."""
    return f"{sub_id}.{_signature(secret, sub_id, salt)}"


def token_id(token: str) -> int | None:
    """The subscription id a token claims (check it with `token_matches`), or None."""
    match = _TOKEN.fullmatch(token)
    return int(match[1]) if match else None


def token_matches(secret: str, token: str, sub_id: int, salt: str) -> bool:
    return hmac.compare_digest(token, subscription_token(secret, sub_id, salt))


def address_hash(secret: str, address: str) -> str:
    """A keyed hash of the mailbox for the per-address limits: the store can tell that one
    mailbox asked twice without being able to say which address it was.

    Sub-addresses are folded (`box+1@x` and `box+2@x` are `box@x`): most providers deliver
    them all to one mailbox, so counting them apart would let anyone send that mailbox a
    confirmation mail per tag. Requests for the same alert from two tags of one mailbox are
    one subscription, mailed at the address that asked first."""
    local, at, domain = address.strip().lower().rpartition("@")
    mailbox = f"{local.split('+', 1)[0] or local}{at}{domain}" if at else domain
    return hmac.new(secret.encode(), f"address:{mailbox}".encode(), hashlib.sha256).hexdigest()


def confirm_url(public_url: str, language: str, token: str) -> str:
    return f"{public_url}/{language}/job-alerts/{token}/confirm"


def unsubscribe_url(public_url: str, language: str, token: str) -> str:
    """The body's link (a page with a button) and the RFC 8058 one-click POST target."""
    return f"{public_url}/{language}/job-alerts/{token}/unsubscribe"


def job_url(public_url: str, language: str, position_id: int, name: str) -> str:
    """A job's canonical page with the alert's campaign (attribution.py reads it)."""
    return f"{public_url}/{language}/jobs/{position_id}-{slugify(name)}?{urlencode(UTM)}"


def list_url(public_url: str, language: str, query: str) -> str:
    """The job list with a subscription's filters (`query` is url-encoded already)."""
    return f"{public_url}/{language}/jobs" + (f"?{query}" if query else "")
