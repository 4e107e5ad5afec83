"""Intake: a received form becomes either its list of problems or a typed `Application`.

One straight line: fields and spooled files in (from `upload.receive`), every check the form
promises (required fields, formats, Personio's lengths, options, consent, each file's content,
required documents), and out comes `Invalid` (what to show the candidate again) or an
`Application` ready for the outbox. Problems are codes; the web layer words them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from ..forms.email import normalize_email
from ..forms.text import clean_text
from ..personio.vocabulary import MAX_STRING, DocumentCategory, SystemAttribute
from .files import check_file, clean_filename
from .form import GENDERS, SYSTEM_FIELDS, FormSchema
from .model import Application, Attachment, Attribute
from .rules import MAX_CUSTOM, MAX_TEXT, FieldProblem, FileProblem
from .upload import Submission

PHONE = re.compile(r"[0-9+()./\- ]{3,60}")
NUMBER = re.compile(r"-?\d+([.,]\d+)?")
CHECKED = {"yes", "on", "true", "1"}


@dataclass(frozen=True)
class FileRefusal:
    """One attached file that was refused, and why (its cleaned name, never logged)."""

    category: str
    filename: str
    reason: FileProblem
    extension: str


@dataclass
class Invalid:
    """What the candidate must fix: typed values kept, problems by field and by file input."""

    values: dict[str, str]
    errors: dict[str, FieldProblem] = field(default_factory=dict)
    files: list[FileRefusal] = field(default_factory=list)
    missing_documents: list[str] = field(default_factory=list)


@dataclass
class _Fields:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, FieldProblem] = field(default_factory=dict)
    attributes: list[Attribute] = field(default_factory=list)


def intake(
    submission: Submission,
    schema: FormSchema,
    *,
    position_id: int,
    language: str,
    allowed_extensions: tuple[str, ...],
    today: date,
    channel_id: int | None = None,
    tags: tuple[str, ...] = (),
) -> Application | Invalid:
    """Check everything the candidate sent for one position."""
    checked = _check_fields(submission.fields, schema, position_id, today)
    documents: list[Attachment] = []
    refusals: list[FileRefusal] = []
    for upload in submission.files:
        name = clean_filename(upload.filename)
        verdict = check_file(upload.path, name, allowed_extensions)
        if not verdict.ok:
            reason = FileProblem(verdict.reason or FileProblem.UNREADABLE)
            refusals.append(FileRefusal(upload.category, name, reason, verdict.extension))
        category = DocumentCategory(upload.category)
        documents.append(Attachment(category, name, str(upload.path), upload.size, upload.sha256))
    attached = {d.category for d in documents}
    missing = [
        category
        for category in schema.document_inputs
        if schema.documents[category] == "required" and category not in attached
    ]
    if checked.errors or refusals or missing:
        return Invalid(checked.values, checked.errors, refusals, missing)
    values = checked.values
    return Application(
        position_id=position_id,
        language=language,
        first_name=values["first_name"],
        last_name=values["last_name"],
        email=values["email"],
        message=values.get("message", ""),
        attributes=tuple(checked.attributes),
        channel_id=channel_id,
        tags=tags,
        documents=tuple(documents),
    )


def form_values(
    fields: dict[str, list[str]], schema: FormSchema, position_id: int
) -> dict[str, str]:
    """The cleaned values to show again in a form that must be sent anew (expired, spam)."""
    return _check_fields(fields, schema, position_id, date.today()).values


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def _raw(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0]


def _text(fields: dict[str, list[str]], name: str) -> str:
    return clean_text(_raw(fields, name), multiline=name == "message")


def _check_fields(
    fields: dict[str, list[str]], schema: FormSchema, position_id: int, today: date
) -> _Fields:
    """Names, email, system fields, extra fields and consent."""
    out = _Fields()
    for name in ("first_name", "last_name", "email"):
        out.values[name] = _text(fields, name)
        if not out.values[name]:
            out.errors[name] = FieldProblem.REQUIRED
    for name in SYSTEM_FIELDS:
        if not schema.shown(name):
            continue
        value = out.values[name] = _text(fields, name)
        if not value:
            if schema.required(name):
                out.errors[name] = (
                    FieldProblem.REQUIRED_CHOICE
                    if name == SystemAttribute.GENDER
                    else FieldProblem.REQUIRED
                )
            continue
        problem = _check_system(name, value, today)
        if problem:
            out.errors[name] = problem
        elif name != "message":  # the message travels on its own, not as an attribute
            out.attributes.append(Attribute(name, value))
    for name, limit in MAX_TEXT.items():
        if name in out.values and name not in out.errors and len(out.values[name]) > limit:
            out.errors[name] = FieldProblem.TOO_LONG
    if "email" not in out.errors:
        address = normalize_email(_raw(fields, "email"))
        if address is None:
            out.errors["email"] = FieldProblem.EMAIL
        else:
            out.values["email"] = address

    for extra in schema.fields_for(position_id):
        raw = _text(fields, extra.id)
        out.values[extra.id] = raw
        if extra.type == "checkbox":
            ticked = raw in CHECKED
            out.values[extra.id] = "yes" if ticked else ""
            if extra.required and not ticked:
                out.errors[extra.id] = FieldProblem.REQUIRED_TICK
            else:
                out.attributes.append(Attribute(extra.id, "true" if ticked else "false"))
            continue
        if not raw:
            if extra.required:
                out.errors[extra.id] = (
                    FieldProblem.REQUIRED_CHOICE
                    if extra.type == "select"
                    else FieldProblem.REQUIRED
                )
            continue
        problem = _check_custom(extra.type, raw, {o.value for o in extra.options})
        if problem:
            out.errors[extra.id] = problem
        else:
            value = raw.replace(",", ".") if extra.type == "number" else raw
            out.attributes.append(Attribute(extra.id, value))

    out.values["consent"] = "yes" if _text(fields, "consent") in {"yes", "on"} else ""
    if not out.values["consent"]:
        out.errors["consent"] = FieldProblem.CONSENT
    return out


def _check_system(name: str, value: str, today: date) -> FieldProblem | None:
    if name == SystemAttribute.BIRTHDAY:
        born = _iso_date(value)
        if born is None:
            return FieldProblem.DATE
        if not date(1900, 1, 1) <= born <= today:
            return FieldProblem.DATE_RANGE
    elif name == SystemAttribute.AVAILABLE_FROM:
        if _iso_date(value) is None:
            return FieldProblem.DATE
    elif name == SystemAttribute.GENDER:
        if value not in GENDERS:
            return FieldProblem.OPTION
    elif name == SystemAttribute.PHONE and not PHONE.fullmatch(value):
        return FieldProblem.PHONE
    return None


def _check_custom(kind: str, value: str, options: set[str]) -> FieldProblem | None:
    if kind == "select":
        return None if value in options else FieldProblem.OPTION
    if kind == "date":
        return None if _iso_date(value) else FieldProblem.DATE
    if kind == "number" and not NUMBER.fullmatch(value):
        return FieldProblem.NUMBER
    if len(value) > MAX_CUSTOM.get(kind, MAX_STRING):
        return FieldProblem.TOO_LONG
    return None
