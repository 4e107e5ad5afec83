"""Pay transparency: which rules apply (CAREERS_PAY_TRANSPARENCY), which open jobs break them,
and pay made comparable across time units for the list's salary filter and sort.

The rules are what careers can see in the feed's `<salaryInformation>` (docs/personio.md
§1.3, §2.6): whether an amount is published, per which time unit, and for Austria whether
the minimum is there. Whether the amount is the right one (the collective agreement's
minimum, equal pay) stays the employer's judgement (docs/operations.md#pay-transparency).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ..personio.model import Position, Salary


class PayRule(StrEnum):
    OFF = "off"  # no checks
    EU = "eu"  # Directive (EU) 2023/970: pay (with its time unit) in every ad, no pay history
    AT = "at"  # Austria, GlBG §9(2): also the minimum per time unit in every ad


def pay_rule(value: str) -> PayRule:
    """The parser of CAREERS_PAY_TRANSPARENCY."""
    try:
        return PayRule(value.strip().lower())
    except ValueError:
        raise ValueError("must be off, eu or at") from None


# Periods per year, to compare pay across time units: 52 weeks, a five-day week, a 40-hour
# week. Only the list's filter and sort use them; pages show what the feed says.
PER_YEAR: dict[str, float] = {
    "yearly": 1,
    "monthly": 12,
    "weekly": 52,
    "daily": 5 * 52,
    "hourly": 40 * 52,
}


def stated(salary: Salary | None) -> bool:
    """An amount is published (a minimum, a maximum or both)."""
    return salary is not None and bool(salary.min or salary.max)


def yearly(salary: Salary | None) -> float | None:
    """The most the job pays per year (the maximum, else the minimum), None when it names
    no amount or no time unit we can convert."""
    if not stated(salary) or salary is None or salary.type not in PER_YEAR:
        return None
    top = max(salary.min or 0.0, salary.max or 0.0)
    return top * PER_YEAR[salary.type]


# What an operator is told; each names what to fill in Personio.
NO_SALARY = "no salary"
NO_UNIT = "no time unit (per year, month, week, day or hour)"
NO_MINIMUM = "no minimum per time unit"


def problems(position: Position, rule: PayRule) -> tuple[str, ...]:
    """What this job's ad lacks under `rule`; empty when it complies (or rule is off)."""
    if rule is PayRule.OFF:
        return ()
    salary = position.salary
    if not stated(salary) or salary is None:
        return (NO_SALARY,)
    found = []
    if salary.type not in PER_YEAR:
        found.append(NO_UNIT)
    if rule is PayRule.AT and not salary.min:
        found.append(NO_MINIMUM)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Finding:
    """One open job that breaks the rule, and how."""

    id: int
    title: str
    problems: tuple[str, ...]

    def line(self) -> str:
        return f"position {self.id} ({self.title}): {', '.join(self.problems)}"

    def to_json(self) -> dict[str, object]:
        """As `/readyz` details and the operator alert list it."""
        return {"id": self.id, "title": self.title, "problems": list(self.problems)}


def findings(boards: Iterable[Iterable[Position]], rule: PayRule) -> list[Finding]:
    """Every open job (each id once, from the first board that has it with a title) that
    breaks `rule`, by id. Salary is a fact of the position, not of a language's text."""
    seen: set[int] = set()
    found = []
    for positions in boards:
        for position in positions:
            if position.id in seen or not position.name.strip():
                continue
            seen.add(position.id)
            lacking = problems(position, rule)
            if lacking:
                found.append(Finding(position.id, position.name.strip(), lacking))
    return sorted(found, key=lambda f: f.id)
