"""Start-up applies pending migrations under a lock, so a restart after an upgrade never
stops at an old schema: hosts starting together migrate once, on SQLite (a file lock) and
PostgreSQL (an advisory lock); CAREERS_MIGRATE_ON_START=false refuses the old schema in one
line instead, a schema ahead is refused either way, and `careers check` only looks."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from careers import create_app
from careers.config import ConfigError
from careers.db import database, migrate
from careers.db.migrate import steps
from careers.db.postgresql import LOCK_CLASS, SCHEMA_LOCK, schema_version

from .pg import as_url
from .servers import ROOT, eventually, free_port, wait_healthy
from .upgrading import env_for, first_release_database

APPLIED = re.compile(r"schema migration applied .*\bversion=(\d+)")
STARTED = "delivery worker started"
SQLITE_LATEST = migrate.latest(migrate.steps("sqlite"))
PG_LATEST = migrate.latest(migrate.steps("postgresql"))
# Steps a first-release (SQLite) or 0.2 (PostgreSQL, version 1) database still needs.
SQLITE_PENDING = {step.version for step in migrate.steps("sqlite") if step.version > 1}
PG_PENDING = {step.version for step in migrate.steps("postgresql") if step.version > 1}
BEHIND, BEHIND_PG = (
    "careers: configuration error: CAREERS_DATABASE_URL: the outbox schema is at version 1,"
    f" this release needs {latest}: run `careers db upgrade`"
    for latest in (SQLITE_LATEST, PG_LATEST)
)


def process_env(env: dict[str, str], **extra: str) -> dict[str, str]:
    """The test's settings for a real process, none of the developer's CAREERS_* leaking in."""
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("CAREERS_")}
    return base | env | extra


def careers(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`careers ARGS…` as a real process, its stderr (the log) in `log`."""
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "careers.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def applied_steps(logs: list[Path]) -> Counter[int]:
    """How often each schema version was applied, over every process's log."""
    return Counter(
        int(match[1]) for log in logs for match in APPLIED.finditer(log.read_text("utf-8"))
    )


# -- the locks, held by the test while three processes line up behind them -----------------


@contextmanager
def sqlite_lock_held(data_dir: Path) -> Iterator[Callable[[list[int]], int]]:
    """The migration lock of `careers.db`, held here; yields a count of the given pids that
    wait for it (the kernel lists blocked `flock` waiters in /proc/locks with `->`)."""
    path = data_dir / "careers-migrate.lock"
    path.touch(mode=0o600)
    inode = str(path.stat().st_ino)

    def waiting(pids: list[int]) -> int:
        found = set()
        for line in Path("/proc/locks").read_text().splitlines():
            parts = line.split()
            if len(parts) > 6 and parts[1] == "->" and parts[2] == "FLOCK":
                pid, device = parts[5], parts[6]
                if device.rsplit(":", 1)[-1] == inode and int(pid) in pids:
                    found.add(int(pid))
        return len(found)

    with path.open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield waiting


@contextmanager
def pg_lock_held(url: str) -> Iterator[Callable[[list[int]], int]]:
    """The schema's advisory lock, held by a session of the test; yields a count of the
    sessions waiting for it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s::int4, %s::int4)", (LOCK_CLASS, SCHEMA_LOCK))

        def waiting(pids: list[int]) -> int:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid = %s AND objid = %s AND objsubid = 2"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (LOCK_CLASS, SCHEMA_LOCK),
            ).fetchone()
            return int(row[0]) if row else 0

        yield waiting


def three_workers_migrate_once(
    env: dict[str, str], tmp_path: Path, lock: Callable[[], object], pending: set[int]
) -> list[Path]:
    """Start three `careers worker`s while the test holds the migration lock, see all three
    wait for it, let go; every pending step is applied once, and all three then run."""
    logs = [tmp_path / f"worker-{i}.log" for i in range(3)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with lock() as waiting:  # type: ignore[attr-defined]
            procs = [careers(["worker"], env, log) for log in logs]
            pids = [p.pid for p in procs]
            assert eventually(lambda: waiting(pids) == 3, 120), [log.read_text() for log in logs]
        assert eventually(lambda: all(STARTED in log.read_text("utf-8") for log in logs), 60), [
            log.read_text() for log in logs
        ]
        assert all(p.poll() is None for p in procs)
        assert applied_steps(logs) == Counter(pending)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        assert [p.wait(timeout=30) for p in procs] == [0, 0, 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return logs


def sqlite_version(data_dir: Path) -> int:
    db = sqlite3.connect(data_dir / "careers.db")
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def pg_version(url: str) -> int:
    with psycopg.connect(url) as conn:
        return schema_version(conn)


def pg_previous_release(url: str, tmp_path: Path, sandbox_server) -> dict[str, str]:
    """A PostgreSQL database as the release before mail left it (version 1); the settings
    of hosts that use it."""
    previous = steps("postgresql")[:1]
    assert database.upgrade(url, previous) == (1, list(previous))
    data_dir = tmp_path / "data"
    return env_for(sandbox_server, tmp_path, data_dir) | {"CAREERS_DATABASE_URL": as_url(url)}


# -- three hosts at once ---------------------------------------------------------------------


@pytest.mark.system
def test_three_workers_starting_together_migrate_a_sqlite_database_once(
    sandbox, sandbox_server, tmp_path
):
    data_dir = tmp_path / "data"
    first_release_database(data_dir)
    env = process_env(env_for(sandbox_server, tmp_path, data_dir))

    three_workers_migrate_once(env, tmp_path, lambda: sqlite_lock_held(data_dir), SQLITE_PENDING)

    assert sqlite_version(data_dir) == SQLITE_LATEST
    # The first release's pending application was delivered by one of them, once.
    [received] = sandbox.received_applications
    body = received["body"] if "body" in received else received
    assert body["email"] == "grace.hopper@example.com"


@pytest.mark.system
def test_three_workers_starting_together_migrate_a_postgres_database_once(
    fresh_pg_url, sandbox_server, tmp_path
):
    env = process_env(pg_previous_release(fresh_pg_url, tmp_path, sandbox_server))

    three_workers_migrate_once(env, tmp_path, lambda: pg_lock_held(fresh_pg_url), PG_PENDING)

    assert pg_version(fresh_pg_url) == PG_LATEST


# -- a restart no longer loops ---------------------------------------------------------------


@pytest.mark.system
def test_serve_on_an_old_schema_migrates_in_the_master_and_answers(
    sandbox, sandbox_server, tmp_path
):
    data_dir = tmp_path / "data"
    first_release_database(data_dir)
    env = process_env(env_for(sandbox_server, tmp_path, data_dir))
    port = free_port()
    log = tmp_path / "serve.log"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    proc = careers(args, env, log)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, seconds=60)
        # Once, before gunicorn forked: its two workers found the schema current.
        assert applied_steps([log]) == Counter(SQLITE_PENDING), log.read_text()
        assert sqlite_version(data_dir) == SQLITE_LATEST
    finally:
        proc.terminate()
        proc.wait(timeout=40)


# -- CAREERS_MIGRATE_ON_START=false ----------------------------------------------------------


@pytest.mark.system
@pytest.mark.parametrize("off", ["false", "0", "no", "off"])
def test_with_migrating_off_a_worker_refuses_an_old_sqlite_schema_in_one_line(
    off, sandbox_server, tmp_path
):
    data_dir = tmp_path / "data"
    first_release_database(data_dir)
    env = process_env(env_for(sandbox_server, tmp_path, data_dir), CAREERS_MIGRATE_ON_START=off)
    log = tmp_path / "worker.log"
    assert careers(["worker"], env, log).wait(timeout=60) == 2
    assert log.read_text("utf-8").splitlines() == [BEHIND]
    assert sqlite_version(data_dir) == 0  # untouched: still the first release's


@pytest.mark.system
def test_with_migrating_off_a_worker_refuses_an_old_postgres_schema_in_one_line(
    fresh_pg_url, sandbox_server, tmp_path, runner
):
    env = pg_previous_release(fresh_pg_url, tmp_path, sandbox_server)
    log = tmp_path / "worker.log"
    off = process_env(env, CAREERS_MIGRATE_ON_START="false")
    assert careers(["worker"], off, log).wait(timeout=60) == 2
    assert log.read_text("utf-8").splitlines() == [BEHIND_PG]
    assert pg_version(fresh_pg_url) == 1

    # The job such operators run instead, then the same start succeeds.
    upgraded = runner.invoke(["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output.splitlines() == [
        *(
            f"applied {step.version}: {step.description}"
            for step in migrate.steps("postgresql")
            if step.version > 1
        ),
        f"schema at version {PG_LATEST}",
    ]
    assert upgraded.output.startswith(
        "applied 3: mail queue, job-alert subscriptions, first-seen positions, shared turns\n"
    )
    again = runner.invoke(["db", "upgrade"], env=env)
    assert again.output.splitlines() == [f"schema at version {PG_LATEST} (nothing to do)"]
    create_app(env | {"CAREERS_MIGRATE_ON_START": "false"}).extensions["careers"].close()


# -- a schema ahead ----------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_a_schema_ahead_is_refused_whether_migrating_or_not(
    dialect, sandbox_server, tmp_path, runner, request
):
    data_dir = tmp_path / "data"
    env = env_for(sandbox_server, tmp_path, data_dir)
    if dialect == "postgres":
        url = request.getfixturevalue("fresh_pg_url")
        env["CAREERS_DATABASE_URL"] = as_url(url)
        create_app(env).extensions["careers"].close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE schema_version SET version = 99")
    else:
        create_app(env).extensions["careers"].close()
        db = sqlite3.connect(data_dir / "careers.db")
        db.execute("PRAGMA user_version = 99")
        db.close()
    newer = (
        "CAREERS_DATABASE_URL: the outbox schema is at version 99, newer than this release"
        f" knows ({SQLITE_LATEST if dialect == 'sqlite' else PG_LATEST}): upgrade careers, or"
        " restore a backup made by this release"
    )
    for on_start in ("true", "false"):
        with pytest.raises(ConfigError) as refused:
            create_app(env | {"CAREERS_MIGRATE_ON_START": on_start})
        assert refused.value.problems == [newer]
    upgrade = runner.invoke(["db", "upgrade"], env=env)
    assert upgrade.exit_code == 2
    assert upgrade.stderr.splitlines() == [f"careers: configuration error: {newer}"]


# -- careers check only looks ------------------------------------------------------------------


def test_check_reports_an_old_schema_and_leaves_it_to_the_start(sandbox_server, tmp_path, runner):
    data_dir = tmp_path / "data"
    first_release_database(data_dir)
    env = env_for(sandbox_server, tmp_path, data_dir)

    looked = runner.invoke(["check"], env=env)
    assert looked.exit_code == 0, looked.output  # a warning: the start that follows migrates
    assert (
        f"database: WARNING SQLite {data_dir / 'careers.db'}, schema version 1, this release"
        f" needs {SQLITE_LATEST}: `careers serve`, `careers worker` and `careers demo` migrate it when they"
        " start" in looked.output
    )
    assert looked.output.count("database: WARNING") == 1
    assert sqlite_version(data_dir) == 0  # check changed nothing

    refused = runner.invoke(["check"], env=env | {"CAREERS_MIGRATE_ON_START": "false"})
    assert refused.exit_code == 2
    assert (
        f"database: FAILED SQLite {data_dir / 'careers.db'}, schema version 1, this release"
        f" needs {SQLITE_LATEST}: run `careers db upgrade` (CAREERS_MIGRATE_ON_START is off)"
        in refused.output
    )

    create_app(env).extensions["careers"].close()  # a start: migrated
    assert sqlite_version(data_dir) == SQLITE_LATEST
    current = runner.invoke(["check"], env=env)
    assert (
        f"database: SQLite {data_dir / 'careers.db'}, schema version {SQLITE_LATEST} (current)"
        in (current.output)
    )
