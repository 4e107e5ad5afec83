"""What the application form asks: system fields and `CAREERS_FORM_FILE` extra fields (docs/applications.md)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..personio.vocabulary import DocumentCategory, Gender, SystemAttribute

# Personio's optional system attributes (docs/personio.md §2.3) plus the free-text message.
SYSTEM_FIELDS: tuple[str, ...] = (*SystemAttribute, "message")
# The default form is short (issue 23): names, email, CV and consent, with the cover letter
# and the message optional. Every other system field starts hidden; the form file's [system]
# table shows or requires any of them. Birthday and gender are personal data most companies
# should not ask for at all (GDPR data minimisation).
DEFAULT_SYSTEM = {
    "phone": "hidden",
    "location": "hidden",
    "birthday": "hidden",
    "gender": "hidden",
    "available_from": "hidden",
    "salary_expectations": "hidden",
    "message": "optional",
}
VISIBILITY = ("hidden", "optional", "required")
FIELD_TYPES = ("text", "textarea", "date", "select", "checkbox", "number")
GENDERS: tuple[str, ...] = tuple(Gender)
# File inputs are named by Personio's document categories (docs/personio.md §2.3).
FILE_CATEGORIES: tuple[str, ...] = tuple(DocumentCategory)
# Which document inputs the form shows; a `[documents]` table in the form file overrides it.
DEFAULT_DOCUMENTS = {
    "cv": "required",
    "cover-letter": "optional",
    "certificate": "hidden",
    "employment-reference": "hidden",
    "work-sample": "hidden",
    "other": "hidden",
}
# The time estimate above the form (docs/applications.md, "How long the form takes"): seconds
# for each thing the form asks, an optional one counting half (many candidates leave it out).
SECONDS_SHORT = 15  # a one-line field, a choice or a checkbox (the consent too)
SECONDS_LONG = 60  # a long text: the message or a textarea question
SECONDS_DOCUMENT = 30  # a document input: finding the file and attaching it
_FIELD_KEYS = {"id", "type", "required", "label", "options", "positions"}


class FormFileError(Exception):
    """The form file is wrong; the message names the file and line."""


_Fail = Callable[[int, str], FormFileError]


@dataclass(frozen=True)
class Option:
    value: str
    label: dict[str, str]


@dataclass(frozen=True)
class ExtraField:
    """One custom applicant attribute asked on the form."""

    id: str
    type: str
    required: bool
    label: dict[str, str]
    options: tuple[Option, ...] = ()
    positions: frozenset[int] | None = None

    def applies_to(self, position_id: int) -> bool:
        return self.positions is None or position_id in self.positions

    def label_for(self, lang: str) -> str:
        return self.label.get(lang) or next(iter(self.label.values()))


@dataclass(frozen=True)
class FormSchema:
    """The whole form: visibility of each system field and the extra fields."""

    system: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SYSTEM))
    fields: tuple[ExtraField, ...] = ()
    documents: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_DOCUMENTS))

    @property
    def document_inputs(self) -> tuple[str, ...]:
        """The file inputs shown, in Personio's category order."""
        return tuple(c for c in FILE_CATEGORIES if self.documents.get(c, "hidden") != "hidden")

    def shown(self, name: str) -> bool:
        return self.system.get(name, "hidden") != "hidden"

    def required(self, name: str) -> bool:
        return self.system.get(name) == "required"

    def fields_for(self, position_id: int) -> tuple[ExtraField, ...]:
        return tuple(f for f in self.fields if f.applies_to(position_id))

    def minutes(self, position_id: int) -> int:
        """About how many minutes the form for this position takes: the seconds of every
        field and document input it shows (SECONDS_*, optional ones half), rounded to the
        nearest minute, at least one."""
        asked: list[tuple[int, bool]] = [(SECONDS_SHORT, True)] * 4  # names, email, consent
        for name in SYSTEM_FIELDS:
            if self.shown(name):
                seconds = SECONDS_LONG if name == "message" else SECONDS_SHORT
                asked.append((seconds, self.required(name)))
        for extra in self.fields_for(position_id):
            seconds = SECONDS_LONG if extra.type == "textarea" else SECONDS_SHORT
            asked.append((seconds, extra.required))
        for category in self.document_inputs:
            asked.append((SECONDS_DOCUMENT, self.documents[category] == "required"))
        total = sum(seconds if required else seconds / 2 for seconds, required in asked)
        return max(1, int(total / 60 + 0.5))


class _Lines:
    """Finds the line of a key in the TOML source, since tomllib reports only syntax errors."""

    def __init__(self, text: str) -> None:
        self.keys: dict[tuple[str, int, str], int] = {}
        self.tables: dict[tuple[str, int], int] = {}
        table, index = "", -1
        counts: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            header = re.fullmatch(
                r"\[\[\s*([\w.-]+)\s*\]\]|\[\s*([\w.-]+)\s*\]", stripped.split("#")[0].strip()
            )
            if header:
                table = header[1] or header[2]
                index = counts.get(table, -1) + 1 if header[1] else 0
                counts[table] = index
                self.tables[(table, index)] = number
                continue
            key = re.match(r"([A-Za-z0-9_-]+)\s*=", stripped)
            if key:
                self.keys.setdefault((table, index, key[1]), number)

    def of(self, table: str, index: int, key: str | None = None) -> int:
        if key is not None and (table, index, key) in self.keys:
            return self.keys[(table, index, key)]
        return self.tables.get((table, index), 1)


def load_form(path: Path | None, languages: tuple[str, ...]) -> FormSchema:
    """Read and check the form file; any problem raises FormFileError naming file and line."""
    if path is None:
        return FormSchema()
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FormFileError(f"{path}: {exc}") from None
    lines = _Lines(text)

    def fail(line: int, message: str) -> FormFileError:
        return FormFileError(f"{path}:{line}: {message}")

    unknown = set(data) - {"system", "documents", "field"}
    if unknown:
        name = sorted(unknown)[0]
        raise fail(
            lines.of(name, 0) if (name, 0) in lines.tables else lines.of("", -1, name),
            f"unknown table or key {name!r} (expected [system], [documents] and [[field]])",
        )
    system = _visibility(data, "system", SYSTEM_FIELDS, DEFAULT_SYSTEM, lines, fail)
    documents = _visibility(data, "documents", FILE_CATEGORIES, DEFAULT_DOCUMENTS, lines, fail)
    raw_fields = data.get("field", [])
    if not isinstance(raw_fields, list):
        raise fail(lines.of("field", 0), "fields must be written as [[field]] tables")
    fields: list[ExtraField] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_fields):
        extra = _extra_field(raw, languages, partial(lines.of, "field", index), fail)
        if extra.id in seen:
            raise fail(lines.of("field", index, "id"), f"field id {extra.id!r} is used twice")
        seen.add(extra.id)
        fields.append(extra)
    return FormSchema(system=system, fields=tuple(fields), documents=documents)


def _visibility(
    data: dict[str, Any],
    table: str,
    names: tuple[str, ...],
    defaults: dict[str, str],
    lines: _Lines,
    fail: _Fail,
) -> dict[str, str]:
    """A table of name = "hidden" | "optional" | "required"."""
    result = dict(defaults)
    section = data.get(table, {})
    if not isinstance(section, dict):
        raise fail(lines.of(table, 0), f"[{table}] must be a table")
    for name, value in section.items():
        line = lines.of(table, 0, name)
        if name not in names:
            raise fail(line, f"unknown {table} entry {name!r} (one of {', '.join(names)})")
        if value not in VISIBILITY:
            raise fail(line, f"{name} must be one of {', '.join(VISIBILITY)}, not {value!r}")
        result[name] = value
    return result


def _labels(value: object, languages: tuple[str, ...], where: str) -> dict[str, str]:
    if isinstance(value, str) and value.strip():
        return {lang: value for lang in languages}
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{where} must be a text or a table of language = text")
    bad = [k for k, v in value.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ValueError(f"{where} for {bad[0]!r} must be a non-empty text")
    return {str(k): str(v) for k, v in value.items()}


def _extra_field(
    raw: object, languages: tuple[str, ...], line_of: Callable[[str], int], fail: _Fail
) -> ExtraField:
    """Check one [[field]] table."""
    if not isinstance(raw, dict):
        raise fail(line_of("field"), "each field must be a [[field]] table")
    unknown = set(raw) - _FIELD_KEYS
    if unknown:
        name = sorted(unknown)[0]
        raise fail(
            line_of(name), f"unknown key {name!r} (allowed: {', '.join(sorted(_FIELD_KEYS))})"
        )
    field_id = raw.get("id")
    if not isinstance(field_id, str) or not re.fullmatch(r"custom_attribute_\d+", field_id):
        raise fail(line_of("id"), 'id must be Personio\'s API name, like "custom_attribute_123"')
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        raise fail(line_of("type"), f"type must be one of {', '.join(FIELD_TYPES)}, not {kind!r}")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise fail(line_of("required"), "required must be true or false")
    try:
        label = _labels(raw.get("label"), languages, "label")
    except ValueError as exc:
        raise fail(line_of("label"), str(exc)) from None
    options: list[Option] = []
    if kind == "select":
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or not raw_options:
            raise fail(
                line_of("options"),
                "a select field needs options = [ { value = ..., label = ... }, ... ]",
            )
        for option in raw_options:
            if not isinstance(option, dict) or set(option) - {"value", "label"}:
                raise fail(line_of("options"), 'each option is { value = "...", label = ... }')
            value = option.get("value")
            if not isinstance(value, str) or not value:
                raise fail(line_of("options"), "each option needs a non-empty text value")
            try:
                options.append(
                    Option(value, _labels(option.get("label", value), languages, "option label"))
                )
            except ValueError as exc:
                raise fail(line_of("options"), str(exc)) from None
        if len({o.value for o in options}) != len(options):
            raise fail(line_of("options"), "option values must be unique")
    elif "options" in raw:
        raise fail(line_of("options"), f"options only apply to select fields, not {kind}")
    positions = raw.get("positions")
    if positions is not None:
        if not isinstance(positions, list) or not all(
            isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in positions
        ):
            raise fail(line_of("positions"), "positions must be a list of Personio position ids")
        positions = frozenset(positions)
    return ExtraField(field_id, kind, required, label, tuple(options), positions)
