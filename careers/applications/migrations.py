"""Versioned schemas for the outbox stores: applied at start-up under a lock, or by
`careers db upgrade`.

Each store lists its migrations in order (`Migration(version, description, sql)`); the
database remembers the version it is at (SQLite: `PRAGMA user_version`; PostgreSQL: the
`schema_version` table). The mail queue, the job-alert tables and PostgreSQL's feed copies
are part of the same schema, so one version covers everything in the database.

The rule (careers/services.py, `migrate_at_start`): a process that serves or works
(`careers serve`, its gunicorn master before it forks, `careers worker`, `careers demo`,
`create_app` for other WSGI servers) applies pending forward migrations before it opens the
stores, unless CAREERS_MIGRATE_ON_START is false; `careers db upgrade` runs the same path.
Every step is applied by one process only: the upgrade holds a lock for its whole length
(SQLite: `flock` on `<database>-migrate.lock` beside the file; PostgreSQL: the session
advisory lock `pg_advisory_lock(LOCK_CLASS, SCHEMA_LOCK)` of pg_store.py) and re-reads the
version once it holds it, so hosts starting together migrate once and the others find the
schema current. A new, empty database is created at the latest version. A schema behind
this release is refused when migrating at start is off (one line naming `careers db
upgrade`); a schema ahead of it, written by a newer release, is refused always: code never
runs on tables it does not know, and migrations only go forward.
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


def refuse_newer(current: int, migrations: Sequence[Migration]) -> None:
    """A schema ahead of this release cannot be migrated back: refuse it, in one line."""
    newest = latest(migrations)
    if current > newest:
        raise SchemaMismatch(
            f"the outbox schema is at version {current}, newer than this release knows"
            f" ({newest}): upgrade careers, or restore a backup made by this release"
        )


def check(current: int, migrations: Sequence[Migration]) -> None:
    """Refuse a schema this release cannot use, in one line an operator can act on."""
    refuse_newer(current, migrations)
    newest = latest(migrations)
    if current < newest:
        raise SchemaMismatch(
            f"the outbox schema is at version {current}, this release needs {newest}:"
            " run `careers db upgrade`"
        )
