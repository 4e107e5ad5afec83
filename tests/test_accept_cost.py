"""The cheaper accept path does the same work: keys committed in groups, chunks sealed in
place (bench/bench_applications.py measures the speed; nothing here is timed)."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from careers.applications.sealing import new_key, seal_into, unseal
from careers.db.keys import KeyStore


def test_seal_into_unseals_like_seal_and_reuses_its_buffer():
    key = new_key()
    aead = AESGCM(key)
    out = bytearray(4)  # too small: grown
    first = bytes(seal_into(aead, memoryview(b"a" * 100), "ctx:1", out))
    second = bytes(seal_into(aead, b"bb", "ctx:2", out))  # shorter, same buffer
    assert unseal(key, first, "ctx:1") == b"a" * 100
    assert unseal(key, second, "ctx:2") == b"bb"
    assert first[1:13] != second[1:13]  # a fresh nonce each time


def test_concurrent_keys_are_each_committed_before_create_returns(tmp_path):
    store = KeyStore(tmp_path / "keys.db")
    batches: list[int] = []
    insert = store._insert

    def counting(batch):
        batches.append(len(batch))
        insert(batch)

    store._insert = counting  # type: ignore[method-assign]
    made: dict[str, bytes] = {}
    seen_on_disk: list[bool] = []

    def one(n: int) -> None:
        key = store.create(f"k{n}")
        made[f"k{n}"] = key
        # Committed: another connection (another process) reads it at once.
        with sqlite3.connect(tmp_path / "keys.db") as db:
            row = db.execute("SELECT key FROM keys WHERE id = ?", (f"k{n}",)).fetchone()
        seen_on_disk.append(row is not None and bytes(row[0]) == key)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(seen_on_disk) and len(seen_on_disk) == 24
    assert store.ids() == set(made)
    assert all(store.get(key_id) == key for key_id, key in made.items())
    assert sum(batches) == 24  # every key in exactly one commit


def test_a_bad_key_in_a_group_fails_only_its_own_caller(tmp_path):
    """Two keys wait while another commit runs and then go in one group; one id is taken."""
    store = KeyStore(tmp_path / "keys.db")
    store.create("taken")
    outcomes: dict[str, object] = {}

    def one(key_id: str) -> None:
        try:
            outcomes[key_id] = store.create(key_id)
        except sqlite3.IntegrityError as exc:
            outcomes[key_id] = exc

    threads = [threading.Thread(target=one, args=(k,)) for k in ("taken", "fresh")]
    with store._committing:  # a commit in progress: both queue up behind it
        for t in threads:
            t.start()
        while True:
            with store._waiting_lock:
                if len(store._waiting) == 2:
                    break
            time.sleep(0.001)
    for t in threads:
        t.join()
    assert isinstance(outcomes["taken"], sqlite3.IntegrityError)
    assert isinstance(outcomes["fresh"], bytes)
    assert store.get("fresh") == outcomes["fresh"]
    assert store.ids() == {"taken", "fresh"}


@pytest.mark.parametrize("size", [0, 1, 1024 * 1024, 1024 * 1024 + 1])
def test_documents_of_any_size_come_back_from_postgres(pg_url, tmp_path, size):
    """One COPY for every chunk of every document: sizes at and around a chunk's edge."""
    import os

    from careers.applications.model import Application, Attachment
    from careers.db.database import open_database
    from careers.personio.vocabulary import DocumentCategory

    data = os.urandom(size)
    other = os.urandom(3000)
    (tmp_path / "a").write_bytes(data)
    (tmp_path / "b").write_bytes(other)
    database = open_database(pg_url)
    outbox = database.outbox
    try:
        outbox.add(
            Application(
                position_id=1,
                language="en",
                first_name="A",
                last_name="B",
                email="a@example.com",
                documents=(
                    Attachment(DocumentCategory.CV, "a.pdf", str(tmp_path / "a"), size),
                    Attachment(DocumentCategory.COVER_LETTER, "b.pdf", str(tmp_path / "b"), 3000),
                ),
            ),
            nonce="n1",
            fingerprint="f",
        )
        job = outbox.claim("test:1:x", 30)
        assert job is not None
        read = []
        for document in job.documents:
            with outbox.open_document(document) as fh:
                read.append(fh.read())
        assert read == [data, other]
    finally:
        database.close()
