"""A candidate's file name is personal data (`Lebenslauf_Anna_Berg.pdf`): it is stored
sealed with the application's key, so no database file — SQLite's database and WAL, or
PostgreSQL's relation files and WAL — holds it readable, neither while the application
waits nor after it was delivered and its key shredded (docs/security.md#personal-data).

The raw bytes are searched, as an attacker with a copy of the disk would.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path

import psycopg
import pytest

from careers.applications.sealing import SEALED_NAME, open_name, seal_name, show_name

from . import filegen
from .applying import apply_env, open_form, send, valid_fields
from .pg import as_url
from .servers import eventually


def _apply(app, tmp_path: Path, marker: str) -> None:
    client = app.test_client()
    token = open_form(client)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    response = send(client, valid_fields(token), [("cv", cv, f"Lebenslauf_{marker}.pdf")])
    assert response.status_code == 303, response.status_code


def _received(sandbox) -> list[str]:
    """The file names Personio (the sandbox) was sent, in the application's JSON."""
    return [
        f["original_filename"] for a in sandbox.received_applications for f in a["body"]["files"]
    ]


def _deliver(app) -> None:
    """The app's own delivery worker, until nothing is pending."""
    svc = app.extensions["careers"]
    deliverer = svc.deliverer()
    outbox = svc.outbox

    def delivered() -> bool:
        deliverer.deliver_next()
        return not outbox.summaries("pending")

    assert eventually(delivered, 30, every=0.2)


def _found_in(paths: list[Path], needle: bytes) -> list[str]:
    """The files among `paths` whose bytes contain `needle` (UTF-8 or UTF-16, as stored)."""
    hits = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue  # a WAL segment recycled while we looked
        if needle in data or needle.decode().encode("utf-16-le") in data:
            hits.append(str(path))
    return hits


def _raw_pages(conn: psycopg.Connection, table: str) -> bytes:
    """Every page of a table, byte for byte, read by the server itself."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
    row = conn.execute(
        "SELECT pg_relation_size(%s) / current_setting('block_size')::int", (table,)
    ).fetchone()
    assert row is not None
    return b"".join(
        bytes(conn.execute("SELECT get_raw_page(%s, %s)", (table, n)).fetchone()[0])
        for n in range(int(row[0]))
    )


def _sqlite_files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.iterdir() if p.is_file() and ".db" in p.name]


def test_sqlite_keeps_no_file_name_readable_waiting_or_delivered(
    make_app, sandbox, sandbox_server, tmp_path
):
    app = make_app(**apply_env(sandbox_server.url, tmp_path))
    marker = f"Zyx{secrets.token_hex(8)}"
    _apply(app, tmp_path, marker)
    data_dir = Path(app.extensions["careers"].settings.data_dir)
    files = _sqlite_files(data_dir)
    assert any(p.name.endswith("-wal") for p in files)  # the waiting row is in the WAL
    assert _found_in(files, marker.encode()) == []
    # The operator still reads it, and Personio gets it as the candidate named it.
    shown = app.extensions["careers"].outbox.summaries("pending")[0].document_names
    assert shown == (f"cv: Lebenslauf_{marker}.pdf",)
    _deliver(app)
    received = _received(sandbox)
    assert received == [f"Lebenslauf_{marker}.pdf"]
    assert _found_in(_sqlite_files(data_dir), marker.encode()) == []


def test_postgres_keeps_no_file_name_in_its_files_or_wal(
    make_app, sandbox, sandbox_server, tmp_path, pg_url
):
    started = time.time()
    app = make_app(database_url=as_url(pg_url), **apply_env(sandbox_server.url, tmp_path))
    marker = f"Zyx{secrets.token_hex(8)}"
    _apply(app, tmp_path, marker)
    _deliver(app)
    assert _received(sandbox) == [f"Lebenslauf_{marker}.pdf"]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        # The table's pages as the server holds them, dead tuples included (pageinspect).
        pages = _raw_pages(conn, "documents")
        assert pages  # the delivered document's row, dead now, is still on its page
        assert marker.encode() not in pages
        conn.execute("CHECKPOINT")  # dirty pages, dead tuples included, to the relation files
        data_dir = Path(conn.execute("SHOW data_directory").fetchone()[0])
        oid = conn.execute(
            "SELECT oid FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]
        relation = conn.execute("SELECT pg_relation_filepath('documents')").fetchone()[0]
    assert (data_dir / relation).exists()
    database_files = [p for p in (data_dir / "base" / str(oid)).iterdir() if p.is_file()]
    wal = [
        p
        for p in (data_dir / "pg_wal").iterdir()
        if p.is_file() and p.stat().st_mtime >= started - 1
    ]
    assert wal  # the WAL written during the test is searched too
    assert _found_in(database_files + wal, marker.encode()) == []


def test_names_stored_before_sealing_still_read_and_deliver(
    make_app, sandbox, sandbox_server, tmp_path
):
    """A row an older release wrote holds its name plain: it is shown and sent as it is."""
    app = make_app(**apply_env(sandbox_server.url, tmp_path))
    _apply(app, tmp_path, "Old")
    outbox = app.extensions["careers"].outbox
    db = sqlite3.connect(app.extensions["careers"].settings.storage.sqlite_path)
    with db:  # what the previous release stored
        db.execute("UPDATE documents SET filename = 'Lebenslauf_Alt.pdf'")
    db.close()
    assert outbox.summaries("pending")[0].document_names == ("cv: Lebenslauf_Alt.pdf",)
    _deliver(app)
    received = _received(sandbox)
    assert received == ["Lebenslauf_Alt.pdf"]


def test_a_sealed_name_opens_only_with_its_application():
    key = secrets.token_bytes(32)
    stored = seal_name(key, "Lebenslauf_Anna.pdf", "public-1")
    assert stored.startswith(SEALED_NAME) and "Anna" not in stored
    assert open_name(key, stored, "public-1") == "Lebenslauf_Anna.pdf"
    assert show_name(key, stored, "public-2") != "Lebenslauf_Anna.pdf"
    assert show_name(None, stored, "public-1") != "Lebenslauf_Anna.pdf"
    with pytest.raises(KeyError):
        open_name(None, stored, "public-1")
