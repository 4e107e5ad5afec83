"""The outbox contract (careers/applications/store.py), run against SQLite and PostgreSQL.

Every test named without a store runs on both (tests/databases.py): what the deliverer and
the web layer may rely on, whichever database is behind the outbox; the shared rate limiter
(careers/db/ratelimit.py) too. Times come from a test clock (both databases take `clock=`),
except PostgreSQL's rate windows, which run on the database's own clock: those tests use
short real windows, or none at all.
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from careers.applications.model import Application, Attachment, Attribute
from careers.applications.rules import Status
from careers.applications.sealing import SEAL_OVERHEAD
from careers.applications.spool import Spool
from careers.applications.store import AlreadySubmitted, NonceReused
from careers.db import database, migrate
from careers.db.chunks import CHUNK_BYTES, PIECE_BYTES
from careers.db.database import open_database
from careers.db.migrate import Migration
from careers.db.postgresql import OUR_TABLES, schema_version
from careers.personio.vocabulary import DocumentCategory
from careers.store_errors import SchemaMismatch, StoreUnavailable

from . import pg
from .applying import Clock
from .databases import Backend
from .upgrading import write_chunks_as_before_pieces

MIGRATIONS = migrate.steps("postgresql")

ME = os.getpid()  # a live pid: SQLite's orphan takeover must not mistake our owners for dead
A = f"host-a:{ME}:aaaa"
B = f"host-b:{ME}:bbbb"
LEASE = 45.0


# -- the two databases (tests/databases.py) -----------------------------------------------


@pytest.fixture
def outbox(backend: Backend) -> Any:
    return backend.outbox


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool")


@pytest.fixture
def make(spool: Spool) -> Callable[..., Application]:
    """An application with documents written into the spool (name → bytes); under `stored/`,
    where SQLite keeps them, so the paths its rows hold are the ones written here (`add`
    leaves a file already there in place; `incoming/` is tested on its own below)."""
    counter = iter(range(1_000_000))

    def build(
        *,
        email: str = "juergen.mueller@example.com",
        files: dict[str, bytes] | None = None,
        channel_id: int | None = None,
        tags: tuple[str, ...] = (),
        position_id: int = 1842958,
    ) -> Application:
        if files is None:
            files = {"Lebenslauf.pdf": b"%PDF-1.7 cv", "Anschreiben.pdf": b"%PDF-1.7 letter"}
        attachments = []
        for i, (filename, data) in enumerate(files.items()):
            path = spool.stored / f"doc-{next(counter)}"
            path.write_bytes(data)
            category = DocumentCategory.CV if i == 0 else DocumentCategory.COVER_LETTER
            attachments.append(Attachment(category, filename, str(path), len(data)))
        return Application(
            position_id=position_id,
            language="de",
            first_name="Jürgen",
            last_name="Müller",
            email=email,
            message="Moin!\nZweite Zeile.",
            attributes=(Attribute("phone", "+49 40 123456"),),
            channel_id=channel_id,
            tags=tags,
            documents=tuple(attachments),
        )

    return build


def uploaded(spool: Spool, files: dict[str, bytes], email: str = "anna@example.com") -> Application:
    """An application as the form hands it over: its files just streamed into `incoming/`."""
    attachments = []
    for i, (filename, data) in enumerate(files.items()):
        path, handle = spool.new_file()
        with handle:
            handle.write(data)
        category = DocumentCategory.CV if i == 0 else DocumentCategory.COVER_LETTER
        attachments.append(Attachment(category, filename, str(path), len(data)))
    return Application(
        position_id=1842958,
        language="en",
        first_name="Anna",
        last_name="Berg",
        email=email,
        documents=tuple(attachments),
    )


def files_in(directory: Path) -> set[Path]:
    return set(directory.iterdir())


def due_again(outbox: Any, app_id: int, clock: Clock) -> None:
    outbox.retry_later(app_id, clock(), "test")


def in_threads(count: int, work: Callable[[int], Any], done: Callable[[], None]) -> list[Any]:
    """Run `work(i)` in `count` threads released at once; their results (or exceptions)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # handed back to the test
            results[i] = exc
        finally:
            done()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


# -- the stores' kinds ---------------------------------------------------------------------


def test_each_store_says_how_long_a_lease_lasts_and_where_documents_live(backend):
    if backend.name == "postgres":
        assert backend.outbox.lease_seconds == 45.0
    else:
        assert backend.outbox.lease_seconds == 300.0


# -- accepting and claiming ----------------------------------------------------------------


def test_add_then_claim_gives_back_the_application_and_its_documents(outbox, backend, make):
    application = make(channel_id=7, tags=("campus",))
    public_id = outbox.add(application)
    assert len(public_id) >= 16

    job = outbox.claim(A, LEASE)
    assert job is not None
    assert job.public_id == public_id
    assert job.application == dataclasses.replace(application, documents=())
    assert (job.attempts, job.create_attempts) == (1, 0)
    assert job.created_at == backend.clock.now
    assert [(d.category, d.filename, d.size, d.uuid) for d in job.documents] == [
        (DocumentCategory.CV, "Lebenslauf.pdf", 11, None),
        (DocumentCategory.COVER_LETTER, "Anschreiben.pdf", 15, None),
    ]
    expected_paths = ["", ""] if backend.inline else [a.path for a in application.documents]
    assert [d.path for d in job.documents] == expected_paths
    # The payload at rest is sealed: nothing the candidate typed is readable in it.
    sealed = backend.payload(job.id)
    assert sealed is not None and b"example.com" not in bytes(sealed)
    assert public_id in backend.key_ids()


def test_claim_takes_nothing_leased_or_not_yet_due(outbox, make, clock):
    assert outbox.claim(A, LEASE) is None
    outbox.add(make())
    job = outbox.claim(A, LEASE)
    assert job is not None
    assert outbox.claim(B, LEASE) is None  # leased to A
    outbox.retry_later(job.id, clock() + 60, "http_503")
    assert outbox.claim(B, LEASE) is None  # not due yet
    clock.advance(61)
    again = outbox.claim(B, LEASE)
    assert again is not None and again.id == job.id and again.attempts == 2


def test_claims_go_oldest_due_first(outbox, make, clock):
    first = outbox.add(make(email="a@example.com"))
    clock.advance(1)
    second = outbox.add(make(email="b@example.com"))
    assert [outbox.claim(A, LEASE).public_id for _ in range(2)] == [first, second]


def test_an_expired_lease_is_taken_over_and_the_old_holder_knows_it(outbox, make, clock):
    outbox.add(make())
    held = outbox.claim(A, LEASE)
    clock.advance(LEASE + 1)  # A died, or stalled past its lease
    taken = outbox.claim(B, LEASE)
    assert taken is not None and taken.id == held.id and taken.attempts == 2
    assert outbox.extend_lease(held.id, A, LEASE) is False  # A must stop touching it
    assert outbox.extend_lease(held.id, B, LEASE) is True


def test_a_heartbeat_keeps_the_lease(outbox, make, clock):
    outbox.add(make())
    job = outbox.claim(A, LEASE)
    clock.advance(40)
    assert outbox.extend_lease(job.id, A, LEASE) is True
    clock.advance(40)  # past the first lease, inside the extended one
    assert outbox.claim(B, LEASE) is None
    clock.advance(10)
    assert outbox.claim(B, LEASE).id == job.id


def test_a_lease_ends_with_delivery_or_parking(outbox, make):
    outbox.add(make())
    job = outbox.claim(A, LEASE)
    outbox.park(job.id, "errors.x")
    assert outbox.extend_lease(job.id, A, LEASE) is False


def test_an_application_whose_key_is_gone_is_parked_unreadable(outbox, backend, make):
    public_id = outbox.add(make())
    backend.drop_key(public_id)
    assert outbox.claim(A, LEASE) is None
    parked = outbox.summary(public_id)
    assert (parked.status, parked.last_reason, parked.attempts) == (
        "parked",
        "payload_unreadable",
        0,
    )
    assert parked.next_attempt_at is None


def test_claims_from_many_workers_on_two_hosts_never_share_an_application(backend, make):
    ids = {backend.outbox.add(make(email=f"c{i}@example.com")) for i in range(12)}
    hosts = [backend.outbox, backend.new()]

    def work(i: int) -> list[str]:
        mine = []
        while (job := hosts[i % 2].claim(f"host-{i % 2}:{ME}:{i}", LEASE)) is not None:
            mine.append(job.public_id)
        return mine

    results = in_threads(8, work, lambda: [backend.thread_done(h) for h in hosts])
    claimed = [public_id for result in results for public_id in result]
    assert sorted(claimed) == sorted(ids)  # each exactly once


# -- what delivery records -----------------------------------------------------------------


def test_uploads_are_remembered_and_can_be_forgotten(outbox, make, clock):
    outbox.add(make())
    job = outbox.claim(A, LEASE)
    outbox.record_upload(job.documents[0].id, "uuid-cv")
    due_again(outbox, job.id, clock)
    again = outbox.claim(A, LEASE)
    assert [d.uuid for d in again.documents] == ["uuid-cv", None]
    outbox.forget_uploads(job.id)
    due_again(outbox, job.id, clock)
    assert [d.uuid for d in outbox.claim(A, LEASE).documents] == [None, None]


def test_an_unknown_channel_becomes_a_tag(outbox, make, clock):
    outbox.add(make(channel_id=42, tags=("campus",)))
    job = outbox.claim(A, LEASE)
    outbox.drop_channel(job.id)
    due_again(outbox, job.id, clock)
    application = outbox.claim(A, LEASE).application
    assert application.channel_id is None
    assert application.tags == ("campus", "channel:42")
    assert application.email == "juergen.mueller@example.com"
    outbox.drop_channel(987654)  # unknown: nothing happens


def test_create_attempts_are_counted_before_the_request(outbox, make, clock):
    outbox.add(make())
    job = outbox.claim(A, LEASE)
    outbox.note_create_attempt(job.id)
    due_again(outbox, job.id, clock)
    assert outbox.claim(A, LEASE).create_attempts == 1


@pytest.fixture(params=[Status.DELIVERED, Status.ALREADY_APPLIED])
def outcome(request: pytest.FixtureRequest) -> Status:
    return request.param


def test_delivery_keeps_only_the_receipt(outbox, backend, make, spool, outcome):
    application = make()
    public_id = outbox.add(application)
    job = outbox.claim(A, LEASE)
    assert outbox.mark_delivered(job.id, outcome) is None  # its documents went with it

    receipt = outbox.summary(public_id)
    assert receipt.status == outcome
    assert receipt.delivered_at == backend.clock.now
    assert (receipt.documents, receipt.document_names) == (0, ())
    assert (receipt.next_attempt_at, receipt.last_reason, receipt.last_detail) == (None,) * 3
    assert backend.payload(job.id) is None
    assert public_id not in backend.key_ids()
    for document in job.documents:
        with pytest.raises(FileNotFoundError):
            outbox.open_document(document)
    assert backend.document_traces() == 0
    assert outbox.claim(A, LEASE) is None
    assert outbox.counts() == {outcome: 1}


def test_retry_later_releases_the_lease_and_says_why(outbox, make, clock):
    public_id = outbox.add(make())
    job = outbox.claim(A, LEASE)
    at = clock() + 120
    outbox.retry_later(job.id, at, "http_503", "x" * 600)
    waiting = outbox.summary(public_id)
    assert (waiting.status, waiting.next_attempt_at, waiting.last_reason) == (
        "pending",
        at,
        "http_503",
    )
    assert waiting.last_detail == "x" * 500
    assert outbox.extend_lease(job.id, A, LEASE) is False
    clock.advance(121)
    assert outbox.claim(B, LEASE).id == job.id  # no lease left in the way


def test_retry_later_does_not_revive_a_parked_application(outbox, make, clock):
    public_id = outbox.add(make())
    job = outbox.claim(A, LEASE)
    outbox.park(job.id, "errors.attribute-validation.unknown", "custom_attribute_1")
    outbox.retry_later(job.id, clock(), "late")
    parked = outbox.summary(public_id)
    assert (parked.status, parked.last_reason, parked.last_detail) == (
        "parked",
        "errors.attribute-validation.unknown",
        "custom_attribute_1",
    )


def test_parked_waits_for_an_operator(outbox, make, clock):
    public_id = outbox.add(make())
    job = outbox.claim(A, LEASE)
    outbox.park(job.id, "unauthorized")
    clock.advance(86400)
    assert outbox.claim(A, LEASE) is None
    assert outbox.summary(public_id).next_attempt_at is None
    assert outbox.requeue(job.id) is True
    assert outbox.summary(public_id).status == "pending"
    assert outbox.claim(A, LEASE).id == job.id


def test_requeue_never_takes_a_live_lease_away(outbox, make, clock):
    outbox.add(make())
    job = outbox.claim(A, LEASE)
    assert outbox.requeue(job.id) is False
    assert outbox.extend_lease(job.id, A, LEASE) is True  # still A's
    clock.advance(LEASE + 1)
    assert outbox.requeue(job.id) is True  # the lease ran out: due now
    assert outbox.extend_lease(job.id, A, LEASE) is False
    assert outbox.requeue(123456) is False


# -- reading -------------------------------------------------------------------------------


def test_summaries_show_the_receipt_without_personal_data(outbox, make, clock):
    first = outbox.add(make(email="first@example.com"))
    clock.advance(1)
    second = outbox.add(make(email="second@example.com", files={"cv.pdf": b"%PDF"}))
    clock.advance(1)
    third = outbox.add(make(email="third@example.com", files={}))
    job = outbox.claim(A, LEASE)
    outbox.park(job.id, "errors.x")

    assert [s.public_id for s in outbox.summaries()] == [third, second, first]
    assert [s.public_id for s in outbox.summaries(limit=2)] == [third, second]
    assert [s.public_id for s in outbox.summaries("parked")] == [first]
    assert [s.public_id for s in outbox.summaries("pending")] == [third, second]
    assert outbox.summaries("delivered") == []

    one = outbox.summary(first)
    assert outbox.get(one.id) == one
    assert (one.position_id, one.language, one.status, one.attempts) == (
        1842958,
        "de",
        "parked",
        1,
    )
    assert one.documents == 2
    assert one.document_names == ("cv: Lebenslauf.pdf", "cover-letter: Anschreiben.pdf")
    assert outbox.summary(third).document_names == ()
    assert "example.com" not in repr(outbox.summaries())
    assert outbox.summary("no-such-receipt") is None
    assert outbox.get(987654) is None


def test_counts_per_status(outbox, make):
    assert outbox.counts() == {}
    for i in range(4):
        outbox.add(make(email=f"n{i}@example.com"))
    outbox.mark_delivered(outbox.claim(A, LEASE).id)
    outbox.mark_delivered(outbox.claim(A, LEASE).id, Status.ALREADY_APPLIED)
    outbox.park(outbox.claim(A, LEASE).id, "errors.x")
    assert outbox.counts() == {"pending": 1, "delivered": 1, "already_applied": 1, "parked": 1}


def test_the_oldest_pending_application_is_the_one_waiting_longest(outbox, make, clock):
    assert outbox.oldest_pending() is None
    first = outbox.add(make(email="a@example.com"))
    clock.advance(10)
    second = outbox.add(make(email="b@example.com"))
    assert outbox.oldest_pending().public_id == first
    outbox.park(outbox.claim(A, LEASE).id, "errors.x")  # the first leaves the backlog
    assert outbox.oldest_pending().public_id == second
    outbox.mark_delivered(outbox.claim(A, LEASE).id)
    assert outbox.oldest_pending() is None


def test_sweep_removes_only_spool_files_no_application_needs(outbox, backend, spool):
    kept = outbox.add(uploaded(spool, {"cv.pdf": b"%PDF kept"}))
    stale = [spool.incoming / "crashed-request", spool.stored / "crash-after-commit"]
    for path in stale:
        path.write_bytes(b"left behind")
        os.utime(path, (time.time() - 7200, time.time() - 7200))
    fresh = spool.incoming / "request-still-running"
    fresh.write_bytes(b"arriving")

    assert outbox.sweep() == 2
    assert not any(path.exists() for path in stale) and fresh.exists()
    (document,) = outbox.claim(A, LEASE).documents  # what the application needs stays
    with outbox.open_document(document) as stream:
        assert stream.read() == b"%PDF kept"
    assert outbox.summary(kept).documents == 1


# -- retention -----------------------------------------------------------------------------


def test_purge_deletes_old_parked_applications_and_old_receipts(outbox, backend, make, clock):
    t0 = clock()
    old_parked = make(email="old-parked@example.com")
    old_parked_id = outbox.add(old_parked)
    delivered_id = outbox.add(make(email="delivered@example.com"))
    pending_id = outbox.add(make(email="pending@example.com"))
    outbox.park(outbox.claim(A, LEASE).id, "errors.x")
    outbox.mark_delivered(outbox.claim(A, LEASE).id)
    clock.advance(100)
    recent_parked_id = outbox.add(make(email="recent-parked@example.com"))
    recent = outbox.summary(recent_parked_id)
    outbox.park(recent.id, "errors.y")

    deleted = outbox.purge(parked_before=t0 + 50, receipts_before=t0 + 50)

    assert deleted == len(old_parked.documents)
    assert outbox.summary(old_parked_id) is None
    assert outbox.summary(delivered_id) is None
    assert outbox.summary(pending_id).status == "pending"  # pending is never purged
    assert outbox.summary(recent_parked_id).status == "parked"
    assert backend.key_ids() == {pending_id, recent_parked_id}
    assert outbox.purge(parked_before=t0, receipts_before=t0) == 0


def test_purge_forgets_form_nonces_after_two_days(outbox, make, clock):
    outbox.add(make(email="old@example.com"), nonce="old-form", fingerprint="f")
    clock.advance(2 * 86400 + 1)
    outbox.add(make(email="new@example.com"), nonce="new-form", fingerprint="g")
    outbox.purge(parked_before=0, receipts_before=0)
    outbox.check_submission("old-form", "f")  # forgotten: no longer raises
    with pytest.raises(AlreadySubmitted):
        outbox.check_submission("new-form", "g")


# -- one form, one application -------------------------------------------------------------


def test_a_form_nonce_is_used_once(outbox, backend, make):
    public_id = outbox.add(make(), nonce="form-1", fingerprint="same")
    with pytest.raises(AlreadySubmitted) as again:
        outbox.add(make(), nonce="form-1", fingerprint="same")
    assert again.value.public_id == public_id
    with pytest.raises(NonceReused) as other:
        outbox.add(make(email="other@example.com"), nonce="form-1", fingerprint="other")
    assert other.value.public_id == public_id
    with pytest.raises(AlreadySubmitted):
        outbox.check_submission("form-1", "same")
    with pytest.raises(NonceReused):
        outbox.check_submission("form-1", "other")
    outbox.check_submission("form-2", "same")  # unused: fine

    assert outbox.counts() == {"pending": 1}
    assert backend.key_ids() == {public_id}  # refused adds leave no key behind
    outbox.add(make())
    outbox.add(make())  # without a nonce nothing is checked
    assert outbox.counts() == {"pending": 3}


def test_the_same_form_sent_at_once_from_many_threads_makes_one_application(outbox, backend, make):
    applications = [make() for _ in range(8)]

    def work(i: int) -> str:
        return outbox.add(applications[i], nonce="double-click", fingerprint="same")

    results = in_threads(8, work, lambda: backend.thread_done(outbox))
    accepted = [r for r in results if isinstance(r, str)]
    assert len(accepted) == 1, results
    refused = [r for r in results if not isinstance(r, str)]
    assert all(isinstance(r, AlreadySubmitted) for r in refused), refused
    assert {r.public_id for r in refused} == set(accepted)
    assert outbox.counts() == {"pending": 1}
    assert backend.key_ids() == set(accepted)


# -- documents -----------------------------------------------------------------------------


def test_a_document_reads_back_byte_for_byte_and_seeks(outbox, backend, make):
    data = b"MARKER-3MB-DOCUMENT" + os.urandom(3 * 1000 * 1000)
    application = make(files={"big.pdf": data})
    outbox.add(application)
    (document,) = outbox.claim(A, LEASE).documents
    assert document.size == len(data)
    if not backend.inline:
        assert document.path == application.documents[0].path  # the spool file itself

    with outbox.open_document(document) as stream:
        assert stream.readable() and stream.seekable()
        assert stream.read() == data
        assert stream.read(10) == b""
        assert stream.seek(0, io.SEEK_END) == len(data)  # httpx's Content-Length
        assert stream.tell() == len(data)
        stream.seek(CHUNK_BYTES - 10)
        assert stream.read(20) == data[CHUNK_BYTES - 10 : CHUNK_BYTES + 10]  # across a chunk
        assert stream.tell() == CHUNK_BYTES + 10
        stream.seek(-5, io.SEEK_CUR)
        assert stream.read(5) == data[CHUNK_BYTES + 5 : CHUNK_BYTES + 10]
        stream.seek(-7, io.SEEK_END)
        assert stream.read() == data[-7:]
        stream.seek(0)
        pieces = []
        while piece := stream.read(65536):  # the way httpx sends a file
            pieces.append(piece)
        assert b"".join(pieces) == data


def test_a_document_stream_is_a_multipart_upload_of_known_length(outbox, make):
    data = b"%PDF-1.7\n" + os.urandom(1_500_000)
    outbox.add(make(files={"cv.pdf": data}))
    (document,) = outbox.claim(A, LEASE).documents
    with outbox.open_document(document) as stream:
        request = httpx.Request("POST", "http://personio.test/", files={"file": ("cv.pdf", stream)})
        body = request.read()
    assert int(request.headers["Content-Length"]) == len(body)
    assert data in body


def test_add_takes_the_files_out_of_incoming(outbox, backend, spool):
    application = uploaded(spool, {"cv.pdf": b"%PDF cv", "letter.pdf": b"%PDF letter"})
    outbox.add(application)
    assert files_in(spool.incoming) == set()  # the outbox owns them now
    if backend.inline:
        assert files_in(spool.stored) == set()  # copied into the database
    else:
        assert {p.name for p in files_in(spool.stored)} == {
            Path(a.path).name for a in application.documents
        }
    job = outbox.claim(A, LEASE)
    read = []
    for document in job.documents:
        with outbox.open_document(document) as stream:
            read.append(stream.read())
    assert read == [b"%PDF cv", b"%PDF letter"]


def test_a_refused_add_leaves_the_files_where_they_were(outbox, backend, spool):
    first = outbox.add(uploaded(spool, {"cv.pdf": b"first"}), nonce="form-1", fingerprint="a")
    owned = files_in(spool.stored)
    for files, fingerprint, error in [
        ({"cv.pdf": b"same"}, "a", AlreadySubmitted),
        ({"cv.pdf": b"other", "l.pdf": b"x"}, "b", NonceReused),
    ]:
        refused = uploaded(spool, files)
        with pytest.raises(error):
            outbox.add(refused, nonce="form-1", fingerprint=fingerprint)
        assert {Path(a.path) for a in refused.documents} == files_in(spool.incoming)
        Spool.discard(a.path for a in refused.documents)  # the caller's part
    assert files_in(spool.stored) == owned
    assert outbox.counts() == {"pending": 1} and backend.key_ids() == {first}


def test_an_add_that_fails_half_way_gives_every_file_back(outbox, backend, spool):
    application = uploaded(spool, {"cv.pdf": b"%PDF cv", "letter.pdf": b"%PDF letter"})
    vanished = Path(application.documents[1].path)
    vanished.unlink()  # the second file cannot be read: the first was taken already
    with pytest.raises(FileNotFoundError):
        outbox.add(application)
    assert files_in(spool.incoming) == {Path(application.documents[0].path)}
    assert files_in(spool.stored) == set()
    assert outbox.counts() == {} and backend.key_ids() == set()
    assert backend.document_traces() == 1  # only the file handed back, for the caller


def test_delivery_and_purge_leave_no_document_behind(outbox, backend, spool, clock):
    delivered = outbox.add(uploaded(spool, {"cv.pdf": b"a" * 70_000, "l.pdf": b"b"}))
    parked = outbox.add(uploaded(spool, {"cv.pdf": b"c" * 70_000}, email="b@example.com"))
    assert backend.document_traces() > 0
    outbox.mark_delivered(outbox.claim(A, LEASE).id)
    assert outbox.summary(delivered).documents == 0
    outbox.park(outbox.claim(A, LEASE).id, "errors.x")
    assert backend.document_traces() > 0  # a parked application keeps its documents
    clock.advance(10)
    assert outbox.purge(parked_before=clock(), receipts_before=0) == 1
    assert outbox.summary(parked) is None
    assert backend.document_traces() == 0


def test_a_store_without_a_spool_has_nothing_to_sweep(pg_url):
    db = open_database(pg_url)
    try:
        assert db.outbox.sweep() == 0
    finally:
        db.close()


def test_documents_are_read_and_written_a_chunk_at_a_time(pg_backend, make):
    outbox = pg_backend.outbox
    data = os.urandom(12 * CHUNK_BYTES + 123)
    application = make(files={"big.pdf": data})
    tracemalloc.start()
    try:
        outbox.add(application)
        _, added_peak = tracemalloc.get_traced_memory()
        (document,) = outbox.claim(A, LEASE).documents
        tracemalloc.reset_peak()
        size = 0
        with outbox.open_document(document) as stream:
            while piece := stream.read(65536):
                size += len(piece)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == len(data)
    # A few chunks at a time (read, sealed, the driver's copy), never the 12 MiB document.
    assert added_peak < 5 * CHUNK_BYTES, added_peak
    assert read_peak < 5 * CHUNK_BYTES, read_peak
    assert not Path(application.documents[0].path).exists()  # the outbox took it


def test_chunks_are_kept_in_pieces_that_stay_out_of_toast(pg_backend, make):
    """A sealed MiB as rows of PIECE_BYTES in the table's own pages: the TOAST table, where
    a bytea of a MiB would be cut into some 525 rows and index entries, stays empty."""
    data = os.urandom(2 * CHUNK_BYTES + 5)
    pg_backend.outbox.add(make(files={"big.pdf": data}))
    pieces = pg_backend.query(
        "SELECT seq, count(*), max(length(data)), sum(length(data)) FROM document_chunks"
        " GROUP BY seq ORDER BY seq"
    )
    assert [(seq, count) for seq, count, _, _ in pieces] == [(0, 132), (1, 132), (2, 1)]
    assert max(longest for _, _, longest, _ in pieces) == PIECE_BYTES
    assert sum(total for *_, total in pieces) == len(data) + 3 * SEAL_OVERHEAD
    [(toast,)] = pg_backend.query(
        "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'document_chunks'"
    )
    assert toast == 0
    (document,) = pg_backend.outbox.claim(A, LEASE).documents
    with pg_backend.outbox.open_document(document) as stream:
        assert stream.read() == data


def test_chunks_stored_whole_before_step_9_read_back_after_it(
    fresh_pg_url, make, clock, monkeypatch
):
    """A database of the step before, with a document of two chunks stored the way releases
    then stored it (one row a chunk), upgraded: its chunks are piece 0 and read back."""
    before = tuple(step for step in migrate.steps("postgresql") if step.version < 9)
    data = os.urandom(CHUNK_BYTES + 77)
    write_chunks_as_before_pieces(monkeypatch)
    made = open_database(fresh_pg_url, steps=before)
    try:
        made.outbox.add(make(files={"cv.pdf": data}))
    finally:
        made.close()
        monkeypatch.undo()
    database.upgrade(fresh_pg_url)
    backend = Backend("postgres", clock, fresh_pg_url, "outbox")
    try:
        assert backend.query("SELECT seq, piece FROM document_chunks ORDER BY seq") == [
            (0, 0),
            (1, 0),
        ]
        (document,) = backend.outbox.claim(A, LEASE).documents
        with backend.outbox.open_document(document) as stream:
            assert stream.read() == data
    finally:
        backend.close()


def test_an_empty_document_is_an_empty_stream(pg_backend, make):
    pg_backend.outbox.add(make(files={"empty.txt": b""}))
    (document,) = pg_backend.outbox.claim(A, LEASE).documents
    with pg_backend.outbox.open_document(document) as stream:
        assert stream.read() == b""
        assert stream.seek(0, io.SEEK_END) == 0


def test_add_is_all_or_nothing(pg_backend, make):
    application = make()
    Path(application.documents[1].path).unlink()  # lost before it was stored
    with pytest.raises(FileNotFoundError):
        pg_backend.outbox.add(application, nonce="form", fingerprint="f")
    assert pg_backend.outbox.counts() == {}
    assert pg_backend.key_ids() == set()
    assert pg_backend.query("SELECT count(*) FROM document_chunks") == [(0,)]
    pg_backend.outbox.check_submission("form", "f")  # the nonce was not used up


# -- shared rate limits (careers/db/ratelimit.py) -------------------------------------------


@pytest.fixture
def limits(backend: Backend) -> Any:
    """The database object that hands out rate limiters."""
    return backend.database


def test_a_limiter_never_exceeds_its_limit(limits):
    assert limits.limiter(3, 60).test("personio") == 0
    for _ in range(5):
        assert limits.limiter(3, 60).test("personio") == 0  # looking takes nothing
    assert [limits.limiter(3, 60).hit("personio") for _ in range(3)] == [0, 0, 0]
    refused = [limits.limiter(3, 60).hit("personio") for _ in range(5)]
    assert all(0 < wait <= 60 for wait in refused), refused
    assert 0 < limits.limiter(3, 60).test("personio") <= 60
    assert limits.limiter(3, 60).hit("other-key") == 0  # every key has its own window


def test_the_wait_is_until_the_oldest_slot_leaves_the_window(limits, backend):
    window = backend.short_window
    assert limits.limiter(3, window).hit("k") == 0
    backend.pass_time(window * 0.4)
    assert [limits.limiter(3, window).hit("k") for _ in range(2)] == [0, 0]
    wait = limits.limiter(3, window).hit("k")
    assert 0 < wait <= window * 0.6 + 0.001
    for _ in range(5):
        assert limits.limiter(3, window).hit("k") > 0  # refusals take no room
    backend.pass_time(limits.limiter(3, window).test("k") + 0.01)
    assert limits.limiter(3, window).hit("k") == 0  # the oldest left: room for one
    assert limits.limiter(3, window).hit("k") > 0  # and only one


def test_thirty_threads_against_five_slots_get_exactly_five(limits, backend):
    results = in_threads(
        30, lambda i: limits.limiter(5, 60).hit("burst"), lambda: backend.thread_done(limits)
    )
    assert sorted(r == 0 for r in results).count(True) == 5, results
    assert all(isinstance(r, float) and r >= 0 for r in results), results


def test_two_hosts_share_one_window(backend):
    hosts = [backend.database, backend.open()]

    def work(i: int) -> float:
        return hosts[i % 2].limiter(5, 60).hit("burst")

    results = in_threads(30, work, lambda: [backend.thread_done(h) for h in hosts])
    assert [r == 0 for r in results].count(True) == 5, results
    assert hosts[0].limiter(5, 60).test("burst") > 0 and hosts[1].limiter(5, 60).test("burst") > 0


def test_hosts_with_skewed_clocks_share_one_window_on_postgres(pg_backend):
    ahead = pg_backend.open(clock=lambda: time.time() + 1000)
    behind = pg_backend.open(clock=lambda: time.time() - 1000)
    assert ahead.limiter(2, 60).hit("k") == 0
    assert behind.limiter(2, 60).hit("k") == 0
    assert 59 < ahead.limiter(2, 60).hit("k") <= 60
    assert 59 < behind.limiter(2, 60).hit("k") <= 60


def test_purge_drops_rate_counters_older_than_a_day_on_postgres(pg_backend):
    outbox = pg_backend.outbox
    pg_backend.limiter(5, 60).hit("fresh")
    pg_backend.query(
        "INSERT INTO rate_log (key, at) VALUES ('stale', extract(epoch FROM now()) - 90000)"
    )
    outbox.purge(parked_before=0, receipts_before=0)
    assert pg_backend.query("SELECT key FROM rate_log") == [("fresh",)]


# -- leases across hosts (PostgreSQL) ------------------------------------------------------


def test_postgres_never_judges_a_lease_by_process_id(pg_backend, make):
    outbox = pg_backend.outbox
    outbox.add(make())
    # A pid that does not run here may well run on the host that holds the lease.
    job = outbox.claim("host-a:999999999:dead", LEASE)
    assert outbox.claim("host-a:12345:new", LEASE) is None
    assert outbox.claim(B, LEASE) is None
    assert job is not None


# -- erasure (PostgreSQL) ------------------------------------------------------------------


@pytest.mark.system
def test_after_delivery_a_dump_holds_neither_the_candidate_nor_the_documents(pg_backend, make):
    pg_dump = pg.pg_dump_path()
    email = "erasure.candidate@example.com"
    marker = b"ERASE-ME-DOCUMENT-BYTES-0123456789"
    outbox = pg_backend.outbox

    def dump() -> str:
        done = subprocess.run(
            [pg_dump, "--no-password", *pg.dump_args(pg_backend.url)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    outbox.add(make(email=email, files={"cv.pdf": marker + b" rest of the cv"}))
    job = outbox.claim(A, LEASE)
    (document,) = job.documents
    with outbox.open_document(document) as stream:
        assert stream.read().startswith(marker)  # the bytes are there ...
    before = dump()
    for secret in (email, email.encode().hex(), marker.decode(), marker.hex()):
        assert secret not in before  # ... but sealed, in the dump as everywhere

    outbox.mark_delivered(job.id)
    after = dump()
    for secret in (email, email.encode().hex(), marker.decode(), marker.hex()):
        assert secret not in after


# -- schema --------------------------------------------------------------------------------


def test_a_database_from_a_newer_release_is_refused(backend):
    backend.set_version(backend.latest + 1)
    try:
        with pytest.raises(SchemaMismatch, match="newer"):
            backend.new()
    finally:
        backend.set_version(backend.latest)  # the module's database is used on


def test_an_empty_postgres_database_gets_the_latest_schema(fresh_pg_url):
    db = open_database(fresh_pg_url)
    db.close()
    with psycopg.connect(fresh_pg_url) as conn:
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables")}
        assert set(OUR_TABLES) <= tables
        assert schema_version(conn) == MIGRATIONS[-1].version
    open_database(fresh_pg_url).close()  # and opens again as it is


def test_hosts_starting_at_once_create_the_schema_once(fresh_pg_url):
    def work(i: int) -> Any:
        return open_database(fresh_pg_url)

    results = in_threads(4, work, lambda: None)
    for result in results:
        if hasattr(result, "close"):
            result.close()
    assert all(hasattr(r, "outbox") for r in results), results


def test_an_older_schema_is_refused_until_upgraded(fresh_pg_url):
    latest = MIGRATIONS[-1].version
    assert database.upgrade(fresh_pg_url) == (latest, list(MIGRATIONS))  # empty: created
    step = Migration(latest + 1, "a new table", "CREATE TABLE later_feature (id integer)")
    next_release = (*MIGRATIONS, step)

    with pytest.raises(SchemaMismatch, match="careers db upgrade"):
        open_database(fresh_pg_url, steps=next_release)
    open_database(fresh_pg_url).close()  # this release still opens it
    assert database.upgrade(fresh_pg_url, next_release) == (step.version, [step])
    assert database.upgrade(fresh_pg_url, next_release) == (step.version, [])
    open_database(fresh_pg_url, steps=next_release).close()
    with pytest.raises(SchemaMismatch, match="newer"):
        open_database(fresh_pg_url)
    with pytest.raises(SchemaMismatch, match="newer"):
        database.upgrade(fresh_pg_url)


def test_tables_careers_did_not_make_are_refused(fresh_pg_url):
    with psycopg.connect(fresh_pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE applications (id integer)")
    with pytest.raises(SchemaMismatch, match="schema_version"):
        open_database(fresh_pg_url)


# -- an unreachable database ---------------------------------------------------------------


def test_a_closed_port_is_store_unavailable():
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        open_database("postgresql://postgres@127.0.0.1:1/x")
    with pytest.raises(StoreUnavailable):
        database.upgrade("postgresql://postgres@127.0.0.1:1/x")
    assert time.monotonic() - started < 10


@pytest.mark.system
def test_an_outage_is_store_unavailable_and_passes(pg_url):
    db = open_database(pg_url, connect_timeout=1)
    outbox = db.outbox
    try:
        assert outbox.check_writable() is None
        pg.set_connections_allowed(pg_url, False)
        try:
            with pytest.raises(StoreUnavailable):
                outbox.counts()
            with pytest.raises(StoreUnavailable):
                db.limiter(5, 60).hit("k")
            assert "not writable" in outbox.check_writable()
        finally:
            pg.set_connections_allowed(pg_url, True)
        deadline = time.monotonic() + 20
        while True:  # the pool reconnects by itself
            try:
                assert outbox.counts() == {}
                break
            except StoreUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert outbox.check_writable() is None
    finally:
        db.close()


def test_check_writable_when_all_is_well(outbox):
    assert outbox.check_writable() is None


def test_a_closed_postgres_store_is_unavailable(pg_url):
    db = open_database(pg_url)
    db.close()
    with pytest.raises(StoreUnavailable):
        db.outbox.counts()
    assert db.outbox.check_writable() is not None


def test_a_finished_application_keeps_its_first_outcome(outbox, make):
    # A worker that lost its lease and finds the documents gone must not turn a delivered
    # application into a parked one, nor an already-applied answer overwrite "delivered".
    public_id = outbox.add(make())
    job = outbox.claim(A, LEASE)
    outbox.mark_delivered(job.id)
    outbox.park(job.id, "document_missing", "a late worker")
    outbox.mark_delivered(job.id, Status.ALREADY_APPLIED)
    summary = outbox.summary(public_id)
    assert summary.status == "delivered" and summary.last_reason is None
