"""Versioned schemas for the outbox stores, applied by `careers db upgrade`.

Each store lists its migrations in order (`Migration(version, description, sql)`); the
database remembers the version it is at (SQLite: `PRAGMA user_version`; PostgreSQL: the
`schema_version` table). A new, empty database is created at the latest version when the
store opens it. An existing one is never changed at start: the store refuses to open a
schema that is behind or ahead of this release, with one line saying what to do, and
`careers db upgrade` carries it forward, each step in its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .store import SchemaMismatch


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


def latest(migrations: Sequence[Migration]) -> int:
    return migrations[-1].version if migrations else 0


def pending(migrations: Sequence[Migration], current: int) -> list[Migration]:
    """The steps from `current` to the latest, in order."""
    return [m for m in migrations if m.version > current]


def check(current: int, migrations: Sequence[Migration]) -> None:
    """Refuse a schema this release cannot use, in one line an operator can act on."""
    newest = latest(migrations)
    if current < newest:
        raise SchemaMismatch(
            f"the outbox schema is at version {current}, this release needs {newest}:"
            " run `careers db upgrade`"
        )
    if current > newest:
        raise SchemaMismatch(
            f"the outbox schema is at version {current}, newer than this release knows"
            f" ({newest}): upgrade careers, or restore a backup made by this release"
        )
