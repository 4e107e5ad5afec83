"""What the upgrade tests share: a data directory as the first release left it, and the
settings of a site over it (test_migrations.py, test_migrate_on_start.py)."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

import pytest

from . import filegen
from .applying import JOB, apply_env
from .apps import SECRET

# The outbox schema exactly as the first release (before numbered migrations) created it.
FIRST_RELEASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS applications (
    id INTEGER PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    position_id INTEGER NOT NULL,
    language TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT,                      -- personal data; NULL once delivered
    attempts INTEGER NOT NULL DEFAULT 0,
    create_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    lease_owner TEXT,
    lease_until REAL,
    last_reason TEXT,
    last_detail TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS applications_due ON applications (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    filename TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    uuid TEXT
);
CREATE INDEX IF NOT EXISTS documents_application ON documents (application_id);
CREATE TABLE IF NOT EXISTS rate_log (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS rate_log_key ON rate_log (key, at);
"""


def first_release_database(data_dir: Path) -> bytes:
    """A data directory as the first release left it: one pending application with a
    spooled CV, its payload in plain JSON. Returns the CV's bytes."""
    stored = data_dir / "spool" / "stored"
    stored.mkdir(parents=True)
    cv = filegen.make_pdf(stored / "0f3a9c", text="Grace Hopper, COBOL")
    db = sqlite3.connect(data_dir / "careers.db")
    db.executescript(FIRST_RELEASE_SCHEMA)
    now = time.time()
    payload = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace.hopper@example.com",
        "message": "Compilers.",
        "attributes": [{"id": "phone", "value": "+49 30 1234567"}],
        "tags": ["utm_source:legacy"],
    }
    cursor = db.execute(
        "INSERT INTO applications (public_id, position_id, language, status, payload,"
        " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ("legacy-receipt-0001", JOB, "en", "pending", json.dumps(payload), now, now, now),
    )
    db.execute(
        "INSERT INTO documents (application_id, category, filename, path, size)"
        " VALUES (?, 'cv', 'Hopper CV.pdf', ?, ?)",
        (cursor.lastrowid, str(cv), cv.stat().st_size),
    )
    db.commit()
    db.close()
    return cv.read_bytes()


def env_for(sandbox_server, tmp_path: Path, data_dir: Path) -> dict[str, str]:
    """CAREERS_* settings of a site over `data_dir` that takes applications for the sandbox."""
    env = {f"CAREERS_{k.upper()}": v for k, v in apply_env(sandbox_server.url, tmp_path).items()}
    return env | {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(data_dir),
    }


# The outbox's insert as releases before schema step 4 (the funnel counters) wrote it.
_INSERT_BEFORE_FUNNEL = """
INSERT INTO applications (public_id, position_id, language, status, payload,
                          next_attempt_at, created_at, updated_at)
VALUES (:public_id, :position_id, :language, 'pending', :payload, :now, :now, :now)
RETURNING id"""


def write_as_before_funnel(monkeypatch: pytest.MonkeyPatch, dialect: str) -> None:
    """Until the test undoes it, the outbox stores applications the way releases before the
    funnel did: no channel column, no counter (their schema has neither)."""
    from careers.db import outbox, postgresql, queries

    statement = _INSERT_BEFORE_FUNNEL.strip()
    if dialect == "postgresql":
        statement = re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", statement)
        # The connector keeps its own copy, as bytes, made by whichever test came first.
        monkeypatch.setitem(postgresql._statements(), "application_insert", statement.encode())
    monkeypatch.setitem(queries.load(dialect), "application_insert", statement)
    monkeypatch.setattr(outbox, "count_in", lambda *args, **kwargs: None)


def write_chunks_as_before_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until the test undoes it, PostgreSQL stores documents the way releases before schema
    step 9 did: each sealed MiB one `document_chunks` row of its own, without a piece."""
    from careers.applications.sealing import seal
    from careers.db import chunks

    def store(tx, documents, key, public_id, table=chunks.DOCUMENT_CHUNKS):
        assert table is chunks.DOCUMENT_CHUNKS, "writes the outbox's documents only"
        with tx.conn.cursor().copy(
            "COPY document_chunks (document_id, seq, data) FROM STDIN"
        ) as copy:
            for document_id, path in documents:
                data = Path(path).read_bytes()
                for seq, start in enumerate(range(0, max(len(data), 1), chunks.CHUNK_BYTES)):
                    context = chunks.chunk_context(public_id, document_id, seq)
                    sealed = seal(key, data[start : start + chunks.CHUNK_BYTES], context)
                    copy.write_row((document_id, seq, sealed))

    monkeypatch.setattr(chunks, "store", store)
