"""Personio's error answers, v1 and v2, as exceptions that say what delivery does with them.

`error_for` reads any error body Personio is known to send (v1's error_response, the legacy
shapes, v2's application/problem+json: docs/personio.md §2.3, §2.4, §4.13) and classifies it
with one table, `OUTCOMES`: retry later, delivered already, pause for the operator, or park.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpx

from .vocabulary import ErrorCode

# Both codes mean "this email already applied to this position" (§2.3 table; renamed 2023).
DUPLICATE_REASONS = frozenset({ErrorCode.APPLICANT_ALREADY_EXISTS, ErrorCode.APPLICANT_EXISTS})
MAX_DETAIL = 500  # characters of Personio's text kept for logs
_CODE = re.compile(r"[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+")  # errors.file-too-big, feature.x.disabled
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]-]{0,63}")  # email, files[1].original_filename
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class RecruitingError(Exception):
    """A recruiting call failed; `reason` is a short tag for logs and metrics."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        detail: str = "",
        reasons: list[str] | None = None,
    ) -> None:
        self.reason, self.status, self.detail = reason, status, detail
        self.reasons = list(reasons or [])
        super().__init__(self._message())

    @property
    def operator_detail(self) -> str:
        """What the outbox keeps and operators are shown (`careers outbox`, alerts): Personio's
        reason codes and the field names they came with ("email: errors.…"), never its free
        text, which may quote what the candidate typed or name anything at all. Our own note
        on an error without an HTTP answer (the exception class) is kept."""
        if self.status is None:
            return self.detail
        kept = []
        for part in self.detail.split("; "):
            field, _, code = part.rpartition(": ")
            if code in self.reasons and _FIELD.fullmatch(field):
                kept.append(part)
        named = {part.rpartition(": ")[2] for part in kept}
        kept += [code for code in self.reasons if code not in named]
        return "; ".join(kept)

    def _message(self) -> str:
        """Tag, status and Personio's text; never request data, so never the token."""
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.reason}{status}" + (f": {self.detail}" if self.detail else "")


class TransientError(RecruitingError):
    """May succeed later: connection trouble, timeouts, 429 and 5xx."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        detail: str = "",
        reasons: list[str] | None = None,
        retry_after: float | None = None,
        maybe_delivered: bool = True,
    ) -> None:
        self.retry_after = retry_after
        # False only when the request certainly never reached Personio (no connection made).
        self.maybe_delivered = maybe_delivered
        super().__init__(reason, status=status, detail=detail, reasons=reasons)


class PermanentError(RecruitingError):
    """Will fail the same way every time: validation, credentials, disabled feature."""


class CredentialsRejected(PermanentError):
    """401 or 403: Personio refuses the key or the account (§2.2, §4.2), whatever the
    application says; every other one would fail the same way until an operator acts."""


class DuplicateApplicant(PermanentError):
    """Personio already has an application of this email for this position."""


class ErrorBody(NamedTuple):
    """What an error body told us: reason codes (for code) and text (for people)."""

    reasons: list[str]
    detail: str


def _transient(status: int, reasons: list[str]) -> bool:
    return status in (408, 425, 429) or status >= 500


def _duplicate(status: int, reasons: list[str]) -> bool:
    return any(r in DUPLICATE_REASONS for r in reasons)


def _credentials(status: int, reasons: list[str]) -> bool:
    # 401: token (v1 key or v2 OAuth token) and/or company id not recognised (§2.0, §4.2);
    # 403: the key does not match the company, the account lacks the feature
    # (`feature.public-api.disabled`), or the OAuth client lacks the scope (§2.6).
    return status in (401, 403)


# What delivery does with each error answer, v1 and v2 alike, first match wins: retry later
# (TransientError), delivered already (DuplicateApplicant: `errors.applicant-already-exists`
# after a lost answer), pause for the operator (CredentialsRejected), or park with Personio's
# reason (PermanentError: validation, `errors.job-position.not-published`, …).
OUTCOMES: tuple[tuple[Any, type[RecruitingError]], ...] = (
    (_transient, TransientError),
    (_duplicate, DuplicateApplicant),
    (_credentials, CredentialsRejected),
    (lambda status, reasons: True, PermanentError),
)


def error_for(status: int, content: bytes, headers: httpx.Headers) -> RecruitingError:
    """The exception for a non-2xx answer, classified by OUTCOMES."""
    parsed = parse_error_body(content)
    kind = next(kind for matches, kind in OUTCOMES if matches(status, parsed.reasons))
    found = {"status": status, "detail": parsed.detail, "reasons": parsed.reasons}
    if kind is TransientError:
        reason = "rate_limited" if status == 429 else f"http_{status}"
        retry_after = parse_retry_after(headers.get("Retry-After"))
        return TransientError(reason, retry_after=retry_after, **found)  # type: ignore[arg-type]
    if kind is DuplicateApplicant:
        return kind(next(r for r in parsed.reasons if r in DUPLICATE_REASONS), **found)  # type: ignore[arg-type]
    reason = "unauthorized" if status == 401 else (parsed.reasons or [f"http_{status}"])[0]
    return kind(reason, **found)  # type: ignore[arg-type]


def parse_error_body(content: bytes | str) -> ErrorBody:
    """Reasons and text from any error body Personio is known to send (§2.3, §4.13)."""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    text = text.strip()
    try:
        data = json.loads(text) if text else None
    except ValueError:
        title = _TITLE.search(text)
        plain = title.group(1) if title else ("" if text.startswith("<") else text)
        return ErrorBody([], _clip(" ".join(plain.split())))
    reasons: list[str] = []
    details: list[str] = []

    def note(value: Any, *, maybe_code: bool, field: Any = None) -> None:
        """File a string as a reason code or as text (codes look like `errors.x.y`)."""
        if not isinstance(value, str) or not value.strip():
            return
        value = value.strip()
        if maybe_code and _CODE.fullmatch(value):
            reasons.append(value)
            value = f"{field}: {value}" if isinstance(field, str) and field else ""
        if value:
            details.append(value)

    items = data.get("errors") if isinstance(data, dict) else data
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            note(item, maybe_code=True)
            continue
        # {"field", "errors": [{"reason"}]} or {"id", "status", "title", "detail"} (§2.3);
        # v2's problem+json item {"title", "detail", "type", "_meta"} (§2.4) carries the
        # same codes, field and reason in `_meta`, the code also as the `type`'s fragment.
        meta: dict[str, Any] = item["_meta"] if isinstance(item.get("_meta"), dict) else {}
        field = item.get("field") or meta.get("field")
        nested = item.get("errors")
        for sub in nested if isinstance(nested, list) else ():
            sub_reason = sub.get("reason") if isinstance(sub, dict) else sub
            note(sub_reason, maybe_code=True, field=field)
        note(item.get("reason"), maybe_code=True, field=field)
        note(meta.get("reason"), maybe_code=True, field=field)
        fragment = urlsplit(item["type"]).fragment if isinstance(item.get("type"), str) else ""
        if _CODE.fullmatch(fragment):  # not Personio's own anchors such as `apinot_found`
            note(fragment, maybe_code=True, field=field)
        note(item.get("detail") or item.get("title"), maybe_code=False)
    if isinstance(data, dict):
        # {"error": {"reason"}} (§4.5), {"success": false, "error": {"message"}} (§4.3),
        # legacy {"data": {"message"}} and a bare {"message"} from gateways (§4.13).
        error = data.get("error")
        note(error, maybe_code=True)  # a bare string
        for holder in (error, data.get("data"), data):
            if isinstance(holder, dict):
                note(holder.get("reason"), maybe_code=True)
                note(holder.get("message"), maybe_code=True)
    elif isinstance(data, str):
        note(data, maybe_code=True)
    return ErrorBody(list(dict.fromkeys(reasons)), _clip("; ".join(dict.fromkeys(details))))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _clip(text: str) -> str:
    """Bound text we keep from the other side."""
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
