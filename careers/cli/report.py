"""`careers report [--since DATE] [--csv]`: the funnel per job, channel and language
(docs/funnel.md), from the counters every host adds to.

Like `careers outbox`, only CAREERS_DATA_DIR and CAREERS_DATABASE_URL are read; job titles
come from this host's record of the positions it has seen (a job it never saw shows its id).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from ..config import load_storage_settings
from ..jobs import funnel_report
from ..jobs.store import FeedStore
from .common import or_exit, storage_or_exit, warn_unknown_variables

DEFAULT_DAYS = 28


def parse_since(value: str | None, today: date) -> date:
    """--since: a day (YYYY-MM-DD) not after today; by default four weeks back."""
    if value is None:
        return today - timedelta(days=DEFAULT_DAYS - 1)
    try:
        if len(value) != 10:
            raise ValueError
        since = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. {today.isoformat()}",
            param_hint="--since",
        ) from None
    if since > today:
        raise click.BadParameter(
            f"{value} is in the future (today is {today.isoformat()}, UTC)", param_hint="--since"
        )
    return since


def _seen(data_dir: Path) -> tuple[dict[int, dict[str, str]], dict[int, str]]:
    """Every job this host has seen, with its titles, and the account of each when the site
    has several (CAREERS_ACCOUNTS_FILE keeps each account's copies in `feeds/<key>/`)."""
    seen = FeedStore(data_dir).load_seen()
    accounts: dict[int, str] = {}
    feeds = data_dir / "feeds"
    keys = sorted(p.name for p in feeds.iterdir() if p.is_dir()) if feeds.is_dir() else []
    for key in keys:
        for position_id, titles in FeedStore(data_dir, key).load_seen().items():
            seen.setdefault(position_id, titles)
            accounts.setdefault(position_id, key)
    return seen, accounts


@click.command("report")
@click.option(
    "--since",
    metavar="DATE",
    help=f"First day counted (YYYY-MM-DD, UTC); default: the last {DEFAULT_DAYS} days.",
)
@click.option("--csv", "as_csv", is_flag=True, help="Comma-separated values, one row per line.")
def command(since: str | None, as_csv: bool) -> None:
    """The funnel per job, channel and language: list views, job page views, forms opened,
    applications submitted and delivered, with conversion rates (counted without cookies)."""
    today = datetime.fromtimestamp(time.time(), UTC).date()
    first = parse_since(since, today)
    warn_unknown_variables(os.environ)
    storage_settings = or_exit(load_storage_settings)
    storage = storage_or_exit()
    try:
        counts = storage.database.funnel.totals(first, today)
    finally:
        storage.close()
    seen, accounts = _seen(storage_settings.data_dir)

    def title(position_id: int, language: str) -> str | None:
        titles = seen.get(position_id, {})
        return titles.get(language) or next(iter(titles.values()), None)

    rows = funnel_report.lines(counts, title, lambda position_id: accounts.get(position_id, ""))
    if as_csv:
        sys.stdout.write(funnel_report.csv_text(rows))
        return
    click.echo(f"funnel {first.isoformat()} to {today.isoformat()} (UTC days, both included)")
    if not rows:
        click.echo("nothing counted in these days")
        return
    click.echo(funnel_report.text_table(rows), nl=False)
