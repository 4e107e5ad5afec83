"""`careers outbox list|show|retry|purge`: what an operator needs to see and fix deliveries.

Only CAREERS_DATA_DIR and CAREERS_DATABASE_URL are read: an operator on a host without the
site's secrets can still inspect and act on the outbox.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import click

from ..applications.delivery import purge as purge_outbox
from ..applications.rules import DAY, PARKED_RETENTION_DAYS, RECEIPT_RETENTION_DAYS
from ..applications.store import PARKED, Summary
from .common import storage_or_exit


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@click.group("outbox")
def command() -> None:
    """Inspect and act on queued, delivered and parked applications (no personal data shown)."""


@command.command("list")
@click.option(
    "--status", type=click.Choice(["pending", "delivered", "parked"]), help="Only this status."
)
@click.option("--limit", default=50, show_default=True)
def list_(status: str | None, limit: int) -> None:
    """One line per application, newest first."""
    store = storage_or_exit().outbox
    rows = store.summaries(status, limit)
    if not rows:
        click.echo("no applications")
        return
    # With several Personio accounts (CAREERS_ACCOUNTS_FILE) each row names its account;
    # rows stored without one belong to the first (shown as "default").
    accounts = any(s.account for s in rows)
    account = f"{'account':<16}  " if accounts else ""
    click.echo(
        f"{'id':>6}  {'status':<9}  {account}{'position':>9}  {'tries':>5}  {'received':<20}  {'next try / done':<20}  reason"
    )
    for s in rows:
        nxt = _when(s.delivered_at if s.status == "delivered" else s.next_attempt_at)
        account = f"{s.account or 'default':<16}  " if accounts else ""
        click.echo(
            f"{s.id:>6}  {s.status:<9}  {account}{s.position_id:>9}  {s.attempts:>5}  {_when(s.created_at):<20}  "
            f"{nxt:<20}  {s.last_reason or ''}"
        )


def _show(s: Summary) -> None:
    click.echo(f"application {s.id} (receipt id {s.public_id})")
    click.echo(f"  status:      {s.status}")
    if s.account:
        click.echo(f"  account:     {s.account}")
    click.echo(f"  position:    {s.position_id} ({s.language})")
    click.echo(f"  received:    {_when(s.created_at)}")
    click.echo(f"  attempts:    {s.attempts}")
    if s.status == "delivered":
        click.echo(f"  delivered:   {_when(s.delivered_at)}")
    elif s.next_attempt_at:
        click.echo(f"  next try:    {_when(s.next_attempt_at)}")
    if s.last_reason:
        click.echo(f"  last reason: {s.last_reason}")
    if s.last_detail:
        click.echo(f"  personio:    {s.last_detail}")
    if s.document_names:
        click.echo(f"  documents:   {len(s.document_names)}")
        for name in s.document_names:
            click.echo(f"    - {name}")


@command.command()
@click.argument("app_id", type=int)
def show(app_id: int) -> None:
    """Status, attempts and Personio's last answer for one application."""
    store = storage_or_exit().outbox
    summary = store.get(app_id)
    if summary is None:
        click.echo(f"no application {app_id}", err=True)
        sys.exit(1)
    _show(summary)


@command.command()
@click.argument("app_ids", type=int, nargs=-1)
@click.option("--all-parked", is_flag=True, help="Every parked application.")
def retry(app_ids: tuple[int, ...], all_parked: bool) -> None:
    """Deliver parked (or waiting) applications again, now."""
    store = storage_or_exit().outbox
    ids = list(app_ids) + ([s.id for s in store.summaries(PARKED, 10_000)] if all_parked else [])
    if not ids:
        click.echo("nothing to retry: give application ids or --all-parked", err=True)
        sys.exit(1)
    failed = False
    for app_id in ids:
        if store.requeue(app_id):
            click.echo(f"application {app_id}: queued")
        else:
            failed = True
            click.echo(f"application {app_id}: not found or already delivered", err=True)
    sys.exit(1 if failed else 0)


@command.command()
@click.option(
    "--parked-days",
    default=PARKED_RETENTION_DAYS,
    show_default=True,
    help="Delete parked applications older than this.",
)
@click.option(
    "--receipt-days",
    default=RECEIPT_RETENTION_DAYS,
    show_default=True,
    help="Delete receipts older than this.",
)
def purge(parked_days: int, receipt_days: int) -> None:
    """Delete old parked applications (personal data and files) and old receipts."""
    storage = storage_or_exit()
    now = time.time()
    deleted, removed = purge_outbox(
        storage.outbox, now - parked_days * DAY, now - receipt_days * DAY
    )
    click.echo(f"purged; {deleted} documents deleted, {removed} orphaned files removed")
