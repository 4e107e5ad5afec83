"""`careers db upgrade`: carry the outbox schema forward (SQLite or PostgreSQL).

Start-up does the same by default (services.migrate_at_start), under the same lock; this
command is for operators who migrate as a step of their own (a job before the rollout) and
start with CAREERS_MIGRATE_ON_START=false, which refuses a schema behind in one line naming
this command. Safe to run again, and from several hosts at once.
"""

from __future__ import annotations

import click

from ..config import load_storage_settings
from ..services import upgrade_storage
from .common import or_exit


@click.group("db")
def command() -> None:
    """The outbox database's schema."""


@command.command()
def upgrade() -> None:
    """Apply every pending schema migration; safe to run again."""
    version, applied = or_exit(lambda: upgrade_storage(load_storage_settings()))
    for step in applied:
        click.echo(f"applied {step.version}: {step.description}")
    click.echo(f"schema at version {version}" + ("" if applied else " (nothing to do)"))
