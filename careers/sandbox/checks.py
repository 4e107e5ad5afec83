"""The sandbox's checks of a v1 application body, with Personio's reason codes (§2.3).

Shape errors raise (Personio answers them with one generic message); field errors are
collected, so one answer lists every problem the way Personio's error_response does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email",
        "job_position_id",
        "recruiting_channel_id",
        "external_posting_id",
        "message",
        "application_date",
        "phase",
        "tags",
        "files",
        "attributes",
    }
)
FILE_CATEGORIES = frozenset(
    {"cv", "cover-letter", "employment-reference", "certificate", "work-sample", "other"}
)
SYSTEM_PHASES = frozenset({"unassigned", "rejected", "withdrawn", "offer", "accepted"})
GENDERS = frozenset({"male", "female", "diverse", "undefined"})
# System attribute ids (§2.3) and how the sandbox checks their values. `available_from`'s
# format is not documented (UNCERTAIN), so like location/phone/salary it is free text.
SYSTEM_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "birthday": {"type": "date"},
    "gender": {"type": "option", "options": sorted(GENDERS)},
    "location": {"type": "text"},
    "phone": {"type": "text"},
    "available_from": {"type": "text"},
    "salary_expectations": {"type": "text"},
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_STRING_FIELDS = ("first_name", "last_name", "email", "message", "external_posting_id")

R = "errors.attribute-validation."  # the common prefix of attribute reason codes


class BadBody(ValueError):
    """The body does not fit the schema: Personio's "Invalid request body supplied" (§4.6)."""


class BadPhase(ValueError):
    """`phase` lacks `type` or `id`: Personio's {"error": {"reason": ...}} answer (§4.5)."""


def check_application(
    body: Any,
    *,
    attributes: dict[str, dict[str, Any]],
    is_published: Callable[[int], bool],
    is_uploaded: Callable[[str], bool],
    channels: frozenset[int] = frozenset(),
) -> dict[str, list[str]]:
    """Field → reason codes for everything wrong with a parsed body; raises on shape errors."""
    _check_shape(body)
    errors: dict[str, list[str]] = {}

    def fail(where: str, reason: str) -> None:
        errors.setdefault(where, []).append(reason)

    for name in ("first_name", "last_name", "email"):
        if not (body.get(name) or "").strip():
            fail(name, R + "required-attribute")
    email = (body.get("email") or "").strip()
    if email and not _EMAIL.fullmatch(email):
        fail("email", R + "invalid-email-format")
    job_id = body.get("job_position_id")
    if job_id is None:
        fail("job_position_id", R + "required-attribute")
    elif not is_published(job_id):
        fail("job_position_id", "errors.job-position.not-published")
    if body.get("application_date") is not None:
        day = _date(body["application_date"])
        if day is None:
            fail("application_date", R + "invalid-date-format")
        elif day > date.today():
            fail("application_date", "errors.date-validation.date-in-the-future")
    channel = body.get("recruiting_channel_id")
    if channel is not None and channel not in channels:
        fail("recruiting_channel_id", "errors.posting-validation.channel-not-found")
    phase = body.get("phase")
    if phase and phase["type"] == "system" and phase["id"] not in SYSTEM_PHASES:
        fail("phase", "errors.phase-validation.invalid-system-phase")
    for item in body.get("attributes") or ():
        where = f"attributes.{item['id']}"
        spec = SYSTEM_ATTRIBUTES.get(item["id"]) or attributes.get(item["id"])
        reason = R + "unknown" if spec is None else _value_problem(spec, item.get("value"))
        if reason:
            fail(where, reason)
    for index, item in enumerate(body.get("files") or ()):
        where = f"files[{index}]"
        for key in ("uuid", "original_filename", "category"):
            if not (item.get(key) or "").strip():
                fail(f"{where}.{key}", R + "required-attribute")
        if item.get("uuid") and not is_uploaded(item["uuid"]):
            fail(where, "errors.file-validation.file-not-exists")
        if item.get("category") and item["category"] not in FILE_CATEGORIES:
            fail(where, "errors.file-validation.unknown-file-category")
    return errors


def _check_shape(body: Any) -> None:
    """Raise BadBody/BadPhase for what a strict JSON binding would refuse."""
    if not isinstance(body, dict) or set(body) - FIELDS:
        raise BadBody()  # unknown top-level keys include legacy `phone`, `gender`, … (§4.6)
    for name in _STRING_FIELDS + ("application_date",):
        _expect(body.get(name), str)
    for name in ("job_position_id", "recruiting_channel_id"):
        value = body.get(name)
        if value is not None and (type(value) is not int):  # a string id fails (§2.3)
            raise BadBody()
    tags = _expect(body.get("tags"), list) or []
    for tag in tags:
        _expect(tag, str, optional=False)
    for item in _expect(body.get("files"), list) or []:
        _expect(item, dict, optional=False)
        for key in ("uuid", "original_filename", "category"):
            _expect(item.get(key), str)
    for item in _expect(body.get("attributes"), list) or []:
        _expect(item, dict, optional=False)
        _expect(item.get("id"), str, optional=False)
    phase = _expect(body.get("phase"), dict)
    if phase is not None:
        for key in ("type", "id"):
            if phase.get(key) is None:
                raise BadPhase(f"Field '{key}' is required")
        if phase["type"] not in ("system", "custom"):
            raise BadBody()
        if not isinstance(phase["id"], str if phase["type"] == "system" else int):
            raise BadBody()


def _expect(value: Any, kind: type, *, optional: bool = True) -> Any:
    """The value if it has the JSON type a field needs (None allowed when optional)."""
    if (value is None and optional) or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise BadBody()


def _value_problem(spec: dict[str, Any], value: Any) -> str | None:
    """The reason an attribute value is refused, or None (values are strings, §2.3)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return R + "required-attribute"
    if not isinstance(value, str):
        return R + "invalid-type"
    match spec.get("type", "text"):
        case "date":
            return None if _date(value) else R + "invalid-date-format"
        case "option":
            return None if value in spec.get("options", ()) else R + "unknown-attribute-option"
        case "number":
            try:
                Decimal(value)
            except InvalidOperation:
                return R + "invalid-type"
    return None


def _date(text: str) -> date | None:
    """An ISO-8601 local date (YYYY-MM-DD) or None."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
