"""The kept-files store (careers/db/kept.py) on both databases: bytes back exactly, names and
chunks sealed with the batch's key, "Remove" honoured, forgotten on use, swept after an hour
on the databases' clock."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from careers.applications.sealing import new_key
from careers.applications.spool import Spool
from careers.db.chunks import PIECE_BYTES
from careers.db.kept import KEPT_SECONDS, Keep, KeptGone
from careers.forms.tokens import KEPT_MAX_AGE

from . import filegen
from .databases import Backend


def upload(spool: Spool, data: bytes) -> Path:
    path, handle = spool.new_file()
    with handle:
        handle.write(data)
    return path


def test_kept_files_come_back_exactly_and_only_with_their_key(backend: Backend, spool, tmp_path):
    kept = backend.database.kept
    cv = filegen.make_pdf(tmp_path / "cv.pdf", text="Lebenslauf SEALMARK").read_bytes()
    big = os.urandom(2_500_000)  # three chunks on PostgreSQL
    key = new_key()
    files = [
        Keep("cv", "Lebenslauf Anna Berg.pdf", upload(spool, cv), len(cv)),
        Keep("other", "Zeugnisse.pdf", upload(spool, big), len(big)),
    ]
    batch = kept.keep(files, key)

    if backend.inline:
        rows = backend.query("SELECT data FROM kept_chunks")
        assert all(len(r[0]) <= PIECE_BYTES and b"SEALMARK" not in bytes(r[0]) for r in rows)
        chunks = backend.query("SELECT DISTINCT file_id, seq FROM kept_chunks")
        assert len(chunks) == 4
    names = [r[0] for r in backend.query("SELECT filename FROM kept_files ORDER BY seq")]
    assert all(n.startswith("sealed/") and "Anna" not in n for n in names)

    with pytest.raises(KeptGone):
        kept.restore(batch, new_key(), spool)  # another batch's key opens nothing
    assert list(spool.incoming.iterdir()) == [] or backend.inline  # PG left the uploads
    restored = kept.restore(batch, key, spool)
    assert [(r.category, r.filename, r.size) for r in restored] == [
        ("cv", "Lebenslauf Anna Berg.pdf", len(cv)),
        ("other", "Zeugnisse.pdf", len(big)),
    ]
    assert restored[1].path.read_bytes() == big
    assert restored[0].sha256 == hashlib.sha256(cv).hexdigest()
    only_cv = kept.restore(batch, key, spool, removed=frozenset({1}))
    assert [r.filename for r in only_cv] == ["Lebenslauf Anna Berg.pdf"]

    kept.forget(batch)
    assert backend.rows("kept_files") == 0
    assert list(spool.kept.iterdir()) == []
    with pytest.raises(KeptGone):
        kept.restore(batch, key, spool)


def test_unused_kept_files_are_swept_after_an_hour(backend: Backend, spool, clock):
    kept = backend.database.kept
    batch = kept.keep([Keep("cv", "cv.txt", upload(spool, b"Lebenslauf\n"), 11)], new_key())
    # A file a crash left under kept/ without its row (SQLite), old enough to go.
    orphan = spool.kept / "orphan"
    orphan.write_bytes(b"x")
    old = time.time() - 2 * KEPT_SECONDS
    os.utime(orphan, (old, old))

    clock.advance(KEPT_SECONDS - 60)
    backend.database.outbox.sweep()
    assert backend.rows("kept_files") == 1
    clock.advance(120)
    with pytest.raises(KeptGone):
        kept.restore(batch, new_key(), spool)  # past its hour: gone even before the sweep
    backend.database.outbox.sweep()
    assert backend.rows("kept_files") == 0
    if not backend.inline:
        assert list(spool.kept.iterdir()) == []


def test_a_reference_lives_exactly_as_long_as_its_files():
    # forms/ (the kernel) cannot import db/: the two hours are one number, checked here.
    assert KEPT_MAX_AGE == KEPT_SECONDS
