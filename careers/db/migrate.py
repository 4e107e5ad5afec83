"""Versioned schemas, one runner for both databases: applied at start-up under a lock, or by
`careers db upgrade`.

Each dialect lists its steps as files, `schema/<dialect>/NNN_name.sql`, whose first line
(`-- …`) describes them; the database remembers the version it is at (SQLite: `PRAGMA
user_version`; PostgreSQL: the `schema_version` table). The outbox, the mail queue, the
job-alert tables and PostgreSQL's feed copies share the schema, so one version covers
everything in the database.

The rule (careers/services.py, `migrate_at_start`): a process that serves or works applies
pending forward migrations before it opens the database, unless CAREERS_MIGRATE_ON_START is
false; `careers db upgrade` runs the same path. Every step is applied by one process only:
the upgrade holds a lock for its whole length (SQLite: `flock` on `<database>-migrate.lock`
beside the file; PostgreSQL: the session advisory lock `pg_advisory_lock(1128354373, 0)`)
and re-reads the version once it holds it, so hosts starting together migrate once and the
others find the schema current. A new, empty database is created at the latest version when
it is opened. A schema behind this release is refused when migrating at start is off (one
line naming `careers db upgrade`); a schema ahead of it, written by a newer release, is
refused always: code never runs on tables it does not know, and migrations only go forward.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Protocol

from ..store_errors import SchemaMismatch

_FILE = re.compile(r"^(\d{3})_\w+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


@cache
def steps(dialect: str) -> tuple[Migration, ...]:
    """The schema of `dialect` ("sqlite" or "postgresql"), step by step, in order."""
    found = []
    for entry in files(__package__).joinpath("schema", dialect).iterdir():
        match = _FILE.match(entry.name)
        if match is None:
            continue
        sql = entry.read_text(encoding="utf-8")
        description = sql.splitlines()[0].removeprefix("--").strip()
        found.append(Migration(int(match[1]), description, sql))
    return tuple(sorted(found, key=lambda step: step.version))


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


class Schema(Protocol):
    """What the runner needs from a database (sqlite.py, postgresql.py)."""

    def locked(self) -> AbstractContextManager[None]:
        """Hold the migration lock (other processes and hosts wait) for the whole upgrade."""

    def version(self) -> int:
        """The version the database is at; 0 when it holds nothing of ours."""

    def apply(self, step: Migration) -> bool:
        """Apply one step in one transaction; False when the database already had it."""

    def create_if_empty(self, migrations: Sequence[Migration]) -> None:
        """An empty database gets the whole schema at once (safe when hosts race)."""


def upgrade(schema: Schema, migrations: Sequence[Migration]) -> tuple[int, list[Migration]]:
    """Apply every pending step under the migration lock; (version now, steps applied). A
    schema ahead of this release is refused (SchemaMismatch)."""
    with schema.locked():
        current = schema.version()
        refuse_newer(current, migrations)
        applied = [step for step in pending(migrations, current) if schema.apply(step)]
        return schema.version(), applied


def prepare(schema: Schema, migrations: Sequence[Migration]) -> None:
    """On opening: an empty database gets the latest schema; any other is only checked."""
    schema.create_if_empty(migrations)
    check(schema.version(), migrations)
