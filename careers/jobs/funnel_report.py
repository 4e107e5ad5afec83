"""The funnel's report: stored totals as rows with conversion rates, for a terminal
(`careers report`), as CSV (`careers report --csv`) and for the weekly mail
(mail/worker.py, docs/funnel.md). Plain Python over `funnel.Count`s; nothing here reads the
database or knows who looks."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from .funnel import LIST, Count, Step


def rate(part: int, whole: int) -> float | None:
    """part / whole, None when there is no whole."""
    return part / whole if whole else None


@dataclass
class Line:
    """One row of the report: a job (or the list, LIST) through one channel in one language."""

    position_id: int
    channel: str
    language: str
    title: str = ""
    account: str = ""  # the key of its Personio account, on a site of several (docs/accounts.md)
    steps: dict[Step, int] = field(default_factory=lambda: dict.fromkeys(Step, 0))

    def __getitem__(self, step: Step) -> int:
        return self.steps[step]

    @property
    def form_rate(self) -> float | None:
        """Job page views that opened the form."""
        return rate(self[Step.FORM_OPENED], self[Step.JOB_VIEW])

    @property
    def submit_rate(self) -> float | None:
        """Forms opened that were sent."""
        return rate(self[Step.SUBMITTED], self[Step.FORM_OPENED])

    @property
    def view_rate(self) -> float | None:
        """Job page views that ended in an application."""
        return rate(self[Step.SUBMITTED], self[Step.JOB_VIEW])

    @property
    def delivered_rate(self) -> float | None:
        """Applications that reached Personio."""
        return rate(self[Step.DELIVERED], self[Step.SUBMITTED])


def lines(
    counts: Iterable[Count],
    title: Callable[[int, str], str | None] = lambda i, lang: None,
    account: Callable[[int], str] = lambda i: "",
) -> list[Line]:
    """The report's rows, jobs by id with the list last, each with its title and account."""
    found: dict[tuple[int, str, str], Line] = {}
    for count in counts:
        key = (count.position_id, count.channel, count.language)
        line = found.get(key)
        if line is None:
            line = found[key] = Line(*key)
            if count.position_id != LIST:
                line.title = title(count.position_id, count.language) or ""
                line.account = account(count.position_id)
        line.steps[count.step] += count.n
    return sorted(
        found.values(), key=lambda x: (x.position_id == LIST, x.position_id, x.channel, x.language)
    )


def total(rows: Iterable[Line]) -> Line:
    """Every row added up."""
    whole = Line(-1, "", "")
    for row in rows:
        for step, n in row.steps.items():
            whole.steps[step] += n
    return whole


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def channel_label(channel: str) -> str:
    return channel or "(direct)"


_TEXT_COLUMNS = (
    ("list views", Step.LIST_VIEW),
    ("job views", Step.JOB_VIEW),
    ("forms", Step.FORM_OPENED),
    ("submitted", Step.SUBMITTED),
    ("delivered", Step.DELIVERED),
)


def text_table(rows: list[Line]) -> str:
    """The report for a terminal: one line per job, channel and language, then the total."""
    head = ["job", "channel", "lang", *(name for name, _ in _TEXT_COLUMNS)]
    head += ["view>form", "form>sent", "view>sent", "delivered%"]
    body = []
    for row in [*rows, total(rows)]:
        if row.position_id == -1:
            job = "total"
        elif row.position_id == LIST:
            job = "(job list)"
        else:
            job = f"{row.position_id} {row.title}".strip()[:48]
            if row.account:
                job = f"{job} [{row.account}]"
        cells = [job, channel_label(row.channel) if row.position_id != -1 else "", row.language]
        cells += [str(row[step]) for _, step in _TEXT_COLUMNS]
        if row.position_id == LIST:
            cells += ["-"] * 4
        else:
            cells += [
                percent(row.form_rate),
                percent(row.submit_rate),
                percent(row.view_rate),
                percent(row.delivered_rate),
            ]
        body.append(cells)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]

    def show(cells: list[str]) -> str:
        left = [c.ljust(w) for c, w in zip(cells[:3], widths[:3], strict=True)]
        right = [c.rjust(w) for c, w in zip(cells[3:], widths[3:], strict=True)]
        return "  ".join(left + right).rstrip()

    return "\n".join([show(head), *(show(cells) for cells in body)]) + "\n"


CSV_COLUMNS = (
    "position_id",
    "title",
    "channel",
    "language",
    *(str(step) for step in Step),
    "form_rate",
    "submit_rate",
    "view_to_submit_rate",
    "delivered_rate",
    "account",
)


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (a `_pc` is anyone's to write)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(rows: list[Line]) -> str:
    """The report as CSV: one row per job (position_id 0 is the list), channel and
    language; rates as fractions with four decimals, empty when undefined; `account` is the
    job's account key on a site of several accounts, else empty. A title or
    channel that a spreadsheet would read as a formula starts with a `'`."""

    def fraction(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.position_id,
                _cell(row.title),
                _cell(row.channel),
                row.language,
                *(row[step] for step in Step),
                fraction(row.form_rate),
                fraction(row.submit_rate),
                fraction(row.view_rate),
                fraction(row.delivered_rate),
                row.account,
            ]
        )
    return out.getvalue()


def previous_week(moment: float) -> tuple[str, date, date]:
    """The ISO week before the one `moment` (UTC) is in: its name (2026-W49), Monday and
    Sunday."""
    today = datetime.fromtimestamp(moment, UTC).date()
    monday = today - timedelta(days=today.weekday() + 7)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}", monday, monday + timedelta(days=6)
