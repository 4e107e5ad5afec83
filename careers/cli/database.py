"""What `careers check` says about the outbox database: where it is, and its schema version.

Read without changing anything: a check must not create or migrate what it looks at.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..applications import migrations
from ..applications.store import StoreUnavailable
from ..config import ConfigError, StorageSettings

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
    """The database's schema version and the one this release needs, read the way the stores
    read it at start (applications/sqlite_store.py, pg_store.py). StoreUnavailable when the
    database does not answer; SchemaMismatch when it holds tables careers did not make."""
    # Kept in this one function so that it can call the migration runner's own answer
    # once it has one, instead of the stores' readers.
    if storage.postgres:
        from ..applications import pg_store

        url = storage.database_url
        try:
            if "connect_timeout" not in conninfo_to_dict(url):
                url = make_conninfo(url, connect_timeout=str(CONNECT_TIMEOUT))
        except psycopg.ProgrammingError:
            # Not libpq's words: they may quote the URL, password included.
            raise ConfigError(
                [
                    "CAREERS_DATABASE_URL: not a URL libpq can read (check the port and that"
                    " special characters in the password are %-encoded)"
                ]
            ) from None
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                current = pg_store.schema_version(conn)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(" ".join(str(exc).split("\n")[0].split())) from exc
        return SchemaVersions(current, migrations.latest(pg_store.MIGRATIONS))
    from ..applications import sqlite_store

    latest = migrations.latest(sqlite_store.MIGRATIONS)
    path = sqlite_path(storage)
    if not path.exists():
        return SchemaVersions(0, latest)  # created at the first start
    db = sqlite3.connect(path)
    try:
        return SchemaVersions(sqlite_store.schema_version(db), latest)
    finally:
        db.close()
