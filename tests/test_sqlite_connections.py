"""SQLite connections under contention: a thread's first connection, and the switch to WAL,
wait for another's lock instead of failing with "database is locked" (a 500 for a candidate)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from careers.db.database import open_database
from careers.db.sqlite import SQLiteSchema


def _held(path: Path, begin: str, seconds: float) -> threading.Event:
    """Another connection holds a lock on `path` for `seconds`; the event is set once held."""
    held = threading.Event()

    def hold() -> None:
        db = sqlite3.connect(path, isolation_level=None)
        db.execute(begin)
        db.execute("SELECT count(*) FROM sqlite_master").fetchall()
        held.set()
        threading.Event().wait(seconds)
        db.execute("COMMIT")
        db.close()

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(10)
    return held


def test_switching_to_wal_waits_for_a_reader(tmp_path):
    """A file in rollback-journal mode (an old release's) while another process reads it:
    switching needs the write lock and SQLite does not wait for it by itself."""
    path = tmp_path / "careers.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("CREATE TABLE t (x)")
    db.close()
    _held(path, "BEGIN", 0.5)
    SQLiteSchema(path).use_wal()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_first_connections_wait_for_the_write_lock(tmp_path):
    """Forty threads open their first connection and write while another process holds the
    write lock: every one of them waits and writes, none fails."""
    database = open_database(f"sqlite:///{tmp_path / 'careers.db'}")
    limiter = database.limiter(1000, 60)
    _held(tmp_path / "careers.db", "BEGIN IMMEDIATE", 0.5)
    errors: list[BaseException] = []

    def first_hit() -> None:
        try:
            limiter.hit("client")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            database.release()

    threads = [threading.Thread(target=first_hit) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert limiter.test("client") == 0 and limiter.hit("client") == 0
    database.close()
