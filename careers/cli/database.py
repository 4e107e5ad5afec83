"""What `careers check` says about the outbox database: where it is, and its schema version.

Read without changing anything: a check must not create or migrate what it looks at.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import psycopg
from psycopg.conninfo import conninfo_to_dict

from ..config import StorageSettings

CONNECT_TIMEOUT = 5  # seconds; the stores' own (applications/pg_store.py)


class SchemaVersions(NamedTuple):
    """The version the database is at (0: empty, created at start) and this release's."""

    current: int
    latest: int


def describe(storage: StorageSettings) -> str:
    """`PostgreSQL db.internal:5432/careers` or `SQLite /var/lib/careers/careers.db`: where
    the data are, never the user's password."""
    if not storage.postgres:
        return f"SQLite {sqlite_path(storage)}"
    try:
        params = conninfo_to_dict(storage.database_url)
    except psycopg.ProgrammingError:
        return "PostgreSQL (a URL libpq cannot read)"
    host = str(params.get("host") or "localhost")
    where = f"socket {host}" if host.startswith("/") else host
    return f"PostgreSQL {where}:{params.get('port') or 5432}/{params.get('dbname') or '?'}"


def sqlite_path(storage: StorageSettings) -> Path:
    return Path(storage.database_url.removeprefix("sqlite:///"))


def schema_versions(storage: StorageSettings) -> SchemaVersions:
    """The database's schema version and the one this release needs, changing nothing (the
    migration runner's own answer, services.schema_versions). StoreUnavailable when the
    database does not answer; ConfigError when it cannot be read or holds tables careers did
    not make."""
    from ..services import schema_versions as read

    return SchemaVersions(*read(storage))
