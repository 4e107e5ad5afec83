"""How positions read on a page: translated labels, slugs, salary and dates."""

from __future__ import annotations

import re

from babel import Locale
from babel.numbers import format_currency, format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..accounts import account_name
from ..jobs import labels
from ..jobs.pay import PayRule, stated
from ..personio.model import Position, Salary
from . import services

FACET_NAMES = {name: _l(text) for name, text in labels.FACET_NAMES.items()}
CODE_LABELS = {
    facet: {code: _l(text) for code, text in codes.items()}
    for facet, codes in labels.CODE_LABELS.items()
}

# Personio's amounts are gross (what the employer enters in the job's salary section).
SALARY_PERIODS = {
    "yearly": _l("gross a year"),
    "monthly": _l("gross a month"),
    "weekly": _l("gross a week"),
    "daily": _l("gross a day"),
    "hourly": _l("gross an hour"),
}


def label(facet: str, value: str) -> str:
    """The translated label of a coded value; an unknown code is shown as it came; an
    account's key, as its name."""
    if facet == "account":
        return account_name(services().settings.accounts, value)
    found = CODE_LABELS.get(facet, {}).get(value)
    return str(found) if found is not None else value


def _money(amount: float, code: str, symbol: str) -> str:
    """Locale-formatted amount; whole amounts without cents ('€65,000', '65.000 €')."""
    locale = Locale.parse(str(get_locale() or "en"))
    if re.fullmatch(r"[A-Z]{3}", code):
        pattern = locale.currency_formats["standard"].pattern
        if amount == int(amount):
            pattern = pattern.replace(".00", "")
        return format_currency(amount, code, format=pattern, locale=locale, currency_digits=False)
    return f"{symbol} {format_decimal(amount, locale=locale)}".strip()


def salary_text(salary: Salary | None) -> str:
    """'€60,000 – €75,000 gross a year', 'from €4,500 gross a month', or '' when nothing
    is known."""
    if salary is None:
        return ""
    low = _money(salary.min, salary.currency_code, salary.currency_symbol) if salary.min else ""
    high = _money(salary.max, salary.currency_code, salary.currency_symbol) if salary.max else ""
    if low and high and low != high:
        text = f"{low} – {high}"
    elif low:
        text = str(_l("from %(amount)s", amount=low))
    else:
        text = str(_l("up to %(amount)s", amount=high))
    period = SALARY_PERIODS.get(salary.type)
    if period is not None:
        return f"{text} {period}"
    return f"{text} ({salary.type})" if salary.type else text


def pay_more_note(salary: Salary | None, rule: PayRule) -> str:
    """Austria (GlBG §9(2)) wants an ad to say whether more than the minimum may be paid:
    shown with every stated pay under CAREERS_PAY_TRANSPARENCY=at, except a fixed amount
    (minimum = maximum), which is how a recruiter says "no more than this" in Personio."""
    if rule is not PayRule.AT or not stated(salary) or salary is None:
        return ""
    if salary.min and salary.max and salary.min == salary.max:
        return ""
    return str(_l("Willingness to pay more depending on qualifications and experience."))


def facts(position: Position) -> list[tuple[str, str]]:
    """The (name, value) pairs shown under a title, in reading order."""
    pairs = []
    if position.offices:
        pairs.append((str(FACET_NAMES["office"]), ", ".join(position.offices)))
    if position.department:
        pairs.append((str(FACET_NAMES["department"]), position.department))
    for facet, value in (
        ("employment_type", position.employment_type),
        ("schedule", position.schedule),
        ("seniority", position.seniority),
        ("experience", position.years_of_experience),
    ):
        if value:
            pairs.append((str(FACET_NAMES[facet]), label(facet, value)))
    if position.subcompany:
        pairs.append((str(FACET_NAMES["subcompany"]), position.subcompany))
    if position.account:
        pairs.append((str(FACET_NAMES["account"]), label("account", position.account)))
    return pairs
