"""Check a submitted form against the schema; errors are codes the web layer translates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .form import GENDERS, SYSTEM_FIELDS, FormSchema

# Personio's own limits (personio-api.md §2.1): 255 for names, email and most attributes.
MAX_TEXT = {
    "first_name": 255,
    "last_name": 255,
    "email": 255,
    "phone": 60,
    "location": 255,
    "available_from": 100,
    "salary_expectations": 255,
    "message": 10_000,
}
MAX_CUSTOM = {"text": 255, "textarea": 5_000, "number": 30}
# Deliberately simple: one @, a dot in the domain, no spaces. Personio checks again.
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
PHONE = re.compile(r"[0-9+()./\- ]{3,60}")
NUMBER = re.compile(r"-?\d+([.,]\d+)?")


@dataclass
class Checked:
    """The outcome: values to keep in the form, errors by field, and Personio's attributes."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    attributes: list[dict[str, str]] = field(default_factory=list)


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def _text(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    text = values[0].replace("\r\n", "\n").replace("\r", "\n")
    # Control characters never belong in a form value; line breaks do, in the message.
    text = "".join(c for c in text if c == "\n" or c == "\t" or ord(c) >= 32 and c != "\x7f")
    return text.strip() if name == "message" else " ".join(text.split())


def check_submission(
    fields: dict[str, list[str]], schema: FormSchema, position_id: int, today: date
) -> Checked:
    """Validate names, email, system fields, extra fields and consent."""
    out = Checked()
    for name in ("first_name", "last_name", "email"):
        out.values[name] = _text(fields, name)
        if not out.values[name]:
            out.errors[name] = "required"
    for name in SYSTEM_FIELDS:
        if not schema.shown(name):
            continue
        value = out.values[name] = _text(fields, name)
        if not value:
            if schema.required(name):
                out.errors[name] = "required"
            continue
        error = _check_system(name, value, today)
        if error:
            out.errors[name] = error
        elif name != "message":
            out.attributes.append({"id": name, "value": value})
    for name, limit in MAX_TEXT.items():
        if name in out.values and name not in out.errors and len(out.values[name]) > limit:
            out.errors[name] = "too_long"
    if "email" not in out.errors and not EMAIL.fullmatch(out.values["email"]):
        out.errors["email"] = "email"

    for extra in schema.fields_for(position_id):
        raw = _text(fields, extra.id)
        out.values[extra.id] = raw
        if extra.type == "checkbox":
            checked = raw in {"yes", "on", "true", "1"}
            out.values[extra.id] = "yes" if checked else ""
            if extra.required and not checked:
                out.errors[extra.id] = "required"
            elif checked or not extra.required:
                out.attributes.append({"id": extra.id, "value": "true" if checked else "false"})
            continue
        if not raw:
            if extra.required:
                out.errors[extra.id] = "required"
            continue
        error = _check_custom(extra.type, raw, {o.value for o in extra.options})
        if error:
            out.errors[extra.id] = error
        else:
            value = raw.replace(",", ".") if extra.type == "number" else raw
            out.attributes.append({"id": extra.id, "value": value})

    out.values["consent"] = "yes" if _text(fields, "consent") in {"yes", "on"} else ""
    if not out.values["consent"]:
        out.errors["consent"] = "consent"
    return out


def _check_system(name: str, value: str, today: date) -> str | None:
    if name == "birthday":
        born = _iso_date(value)
        if born is None:
            return "date"
        if not date(1900, 1, 1) <= born <= today:
            return "date_range"
    elif name == "available_from":
        if _iso_date(value) is None:
            return "date"
    elif name == "gender":
        if value not in GENDERS:
            return "option"
    elif name == "phone" and not PHONE.fullmatch(value):
        return "phone"
    return None


def _check_custom(kind: str, value: str, options: set[str]) -> str | None:
    if kind == "select":
        return None if value in options else "option"
    if kind == "date":
        return None if _iso_date(value) else "date"
    if kind == "number" and not NUMBER.fullmatch(value):
        return "number"
    if len(value) > MAX_CUSTOM.get(kind, 255):
        return "too_long"
    return None
