"""`careers db upgrade`: carry the outbox schema forward (SQLite or PostgreSQL).

Start-up never changes an existing schema; it refuses one that is behind with a line that
names this command. Run it once per release, from one host, before starting the new one.
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
