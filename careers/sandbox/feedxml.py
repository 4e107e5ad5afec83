"""Write Position objects as Personio's XML job feed, so the sandbox serves what Personio serves."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime

from lxml import etree

from careers.personio.model import Description, Position, Salary

# Personio writes its own declaration with double quotes (docs/personio.md §1.3); lxml's
# write_declaration() uses single quotes, so the sandbox writes these bytes itself.
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# One tab per level, like the live feed. The exact whitespace is not meaningful, but parsers
# must cope with it (the text around a CDATA section is whitespace, see `_write_html`).
_NL = ["\n" + "\t" * depth for depth in range(6)]


def render_feed(positions: Iterable[Position]) -> bytes:
    """Serialise one language's board, element order and quirks as in docs/personio.md §1.3."""
    buffer = io.BytesIO()
    buffer.write(XML_DECLARATION)
    with etree.xmlfile(buffer, encoding="UTF-8") as xf:
        with xf.element("workzag-jobs"):
            wrote_any = False
            for position in positions:
                xf.write(_NL[1])
                _write_position(xf, position)
                wrote_any = True
            if wrote_any:
                # An empty board is `<workzag-jobs></workzag-jobs>` on one line, as Personio sends.
                xf.write(_NL[0])
    buffer.write(b"\n")
    return buffer.getvalue()


def _write_position(xf: etree.xmlfile, position: Position) -> None:
    """Write one `<position>`, leaving out every element that has no value."""
    with xf.element("position"):
        _text(xf, "id", str(position.id))
        _text(xf, "subcompany", position.subcompany)
        _text(xf, "office", position.office)
        if position.additional_offices:
            xf.write(_NL[2])
            with xf.element("additionalOffices"):
                for office in position.additional_offices:
                    _text(xf, "office", office, depth=3)
                xf.write(_NL[2])
        _text(xf, "department", position.department)
        _text(xf, "recruitingCategory", position.recruiting_category)
        _text(xf, "name", position.name)
        if position.descriptions:
            xf.write(_NL[2])
            with xf.element("jobDescriptions"):
                for description in position.descriptions:
                    _write_description(xf, description)
                xf.write(_NL[2])
        _text(xf, "employmentType", position.employment_type)
        _text(xf, "seniority", position.seniority)
        _text(xf, "schedule", position.schedule)
        _text(xf, "yearsOfExperience", position.years_of_experience)
        # Joined without spaces; odd spacing inside a keyword is kept as the employer typed it.
        _text(xf, "keywords", ",".join(position.keywords))
        _text(xf, "occupation", position.occupation)
        _text(xf, "occupationCategory", position.occupation_category)
        if position.created_at is not None:
            _text(xf, "createdAt", format_timestamp(position.created_at))
        if position.salary is not None:
            _write_salary(xf, position.salary)
        xf.write(_NL[1])


def _write_description(xf: etree.xmlfile, description: Description) -> None:
    """Write one `<jobDescription>` block with its HTML in CDATA."""
    xf.write(_NL[3])
    with xf.element("jobDescription"):
        _text(xf, "name", description.name, depth=4)
        xf.write(_NL[4])
        with xf.element("value"):
            _write_html(xf, description.html)
        xf.write(_NL[3])


def _write_html(xf: etree.xmlfile, html: str) -> None:
    """Wrap HTML in CDATA with newlines inside and around it, as the live feed does."""
    xf.write(_NL[5])
    # "]]>" cannot appear inside one CDATA section: split it across two sections, which a
    # parser joins back into the original text.
    pieces = ("\n" + html + "\n").split("]]>")
    for index, piece in enumerate(pieces):
        head = ">" if index else ""
        tail = "]]" if index < len(pieces) - 1 else ""
        xf.write(etree.CDATA(head + piece + tail))
    xf.write(_NL[4])


def _write_salary(xf: etree.xmlfile, salary: Salary) -> None:
    """Write `<salaryInformation>`; `max` stays as an empty element when unknown (§1.3)."""
    xf.write(_NL[2])
    with xf.element("salaryInformation"):
        _text(xf, "min", format_amount(salary.min), depth=3)
        _text(xf, "max", format_amount(salary.max), depth=3, keep_empty=True)
        _text(xf, "currencySymbol", salary.currency_symbol, depth=3)
        _text(xf, "currencyCode", salary.currency_code, depth=3)
        _text(xf, "type", salary.type, depth=3)
        xf.write(_NL[2])


def _text(
    xf: etree.xmlfile, tag: str, value: str, *, depth: int = 2, keep_empty: bool = False
) -> None:
    """Write a text element on its own line; skip it when empty unless told to keep it."""
    if not value and not keep_empty:
        return
    xf.write(_NL[depth])
    with xf.element(tag):
        if value:
            xf.write(value)


def format_amount(amount: float | None) -> str:
    """Personio writes salary amounts with two decimals ("65000.00"); unknown is empty."""
    return "" if amount is None else f"{amount:.2f}"


def format_timestamp(moment: datetime) -> str:
    """Write createdAt like the feed fixtures, e.g. 2024-09-24T11:00:15+00:00."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")
