"""PostgreSQL for tests: throwaway databases on the local server (127.0.0.1:5432, trust auth).

`CAREERS_TEST_POSTGRES` names another server (a libpq URL of its maintenance database). When
no server answers, PostgreSQL tests are skipped with one reason, except under CI=true, where
a missing database is a failure: CI must never pass by skipping them.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ADMIN_URL = os.environ.get(
    "CAREERS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres?connect_timeout=3"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> None:
    """Skip, or fail under CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)", pytrace=False)
    pytest.skip(reason)


@functools.cache
def _problem() -> str | None:
    """Why PostgreSQL cannot be used, once per run; None when it can."""
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT 1")
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL not reachable at {_where()}: {first}"
    return None


def _where() -> str:
    params = conninfo_to_dict(ADMIN_URL)
    return f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"


def require_postgres(item: pytest.Item | None = None) -> None:
    """Skip the test (fail it under CI) when there is no PostgreSQL to run it on. Given the
    test `item`, the skip is marked on it, so the summary folds every such skip of a file
    into one line."""
    problem = _problem()
    if problem:
        if item is not None and not in_ci():
            item.add_marker(pytest.mark.skip(reason=problem))
        unavailable(problem)


def url_of(database: str) -> str:
    return make_conninfo(ADMIN_URL, dbname=database)


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database `careers_test_<random>`; its URL; dropped afterwards."""
    require_postgres()
    name = f"careers_test_{secrets.token_hex(6)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url_of(name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def empty_tables(url: str) -> None:
    """Delete every row of every table but the schema version (between tests)."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'schema_version'"
            )
        ]
        if tables:
            conn.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                    sql.SQL(", ").join(map(sql.Identifier, tables))
                )
            )


def set_connections_allowed(url: str, allowed: bool) -> None:
    """Let a database take connections, or refuse them and end the ones it has (an outage)."""
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
                sql.Identifier(name), sql.SQL("true" if allowed else "false")
            )
        )
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


def pg_dump_path() -> str:
    """The pg_dump command; skipped (failed under CI) when it is not installed."""
    found = shutil.which("pg_dump") or (
        "/usr/bin/pg_dump" if os.path.exists("/usr/bin/pg_dump") else None
    )
    if found is None:
        unavailable("pg_dump is not installed")
        raise AssertionError("unreachable")
    return found


def dump_args(url: str) -> list[str]:
    """pg_dump arguments for a test database (host, port, user from its URL)."""
    params = conninfo_to_dict(url)
    return [
        "-h",
        str(params.get("host", "127.0.0.1")),
        "-p",
        str(params.get("port", 5432)),
        "-U",
        str(params.get("user", "postgres")),
        str(params["dbname"]),
    ]


def as_url(conninfo: str) -> str:
    """The fixture's libpq conninfo as the postgresql:// URL operators configure."""
    params = conninfo_to_dict(conninfo)
    return (
        f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', 5432)}/{params['dbname']}"
    )
