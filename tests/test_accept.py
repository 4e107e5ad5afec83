"""The accept use case (careers/applications/accept.py) without a request, on both databases.

Each outcome once, and where the files are after it: the outbox's after an acceptance, the
caller's after a refusal (`run` deletes them as the web view does when it keeps none).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from careers.applications.accept import (
    Accepted,
    Desk,
    FormReused,
    NotValid,
    RateLimited,
    SentBefore,
    accept,
)
from careers.applications.form import FormSchema
from careers.applications.model import Application
from careers.applications.rules import FieldProblem, FileProblem
from careers.applications.spool import Spool
from careers.applications.upload import Submission, UploadedFile
from careers.db.ratelimit import RateLimiter
from careers.forms.tokens import FormGuard, FormTicket
from careers.store_errors import StoreUnavailable

from . import filegen
from .databases import Backend

JOB = 1842958
TODAY = date(2026, 12, 6)
FIELDS = {
    "first_name": "Jürgen",
    "last_name": "Müller",
    "email": "juergen.mueller@example.com",
    "consent": "yes",
}
PLENTY = ("submit:test-client", 100, 3600)


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool")


@pytest.fixture
def outbox(backend: Backend) -> Any:
    """On SQLite and PostgreSQL (tests/databases.py), taking uploads from `spool`."""
    return backend.outbox


@pytest.fixture
def desk(outbox: Any, spool: Spool) -> Desk:
    return Desk(
        FormSchema(documents={"cv": "required", "cover-letter": "optional"}),
        ("pdf", "txt"),
        FormGuard("a test secret of enough length").fingerprint,
        outbox,
    )


@pytest.fixture
def pdf(tmp_path: Path) -> bytes:
    return filegen.make_pdf(tmp_path / "cv.pdf").read_bytes()


def received(spool: Spool, files: dict[str, bytes], **fields: str) -> Submission:
    """A submission as upload.receive hands it over: fields, and files streamed into
    `incoming/` under random names."""
    uploads = []
    for category, data in files.items():
        path, handle = spool.new_file()
        with handle:
            handle.write(data)
        sha = hashlib.sha256(data).hexdigest()
        uploads.append(UploadedFile(category, f"{category}.pdf", path, len(data), sha))
    return Submission({k: [v] for k, v in {**FIELDS, **fields}.items()}, uploads)


def ticket(nonce: str = "form-1") -> FormTicket:
    return FormTicket(position_id=JOB, language="en", issued_at=0.0, nonce=nonce)


def spool_files(spool: Spool) -> list[Path]:
    return sorted([*spool.incoming.iterdir(), *spool.stored.iterdir()])


def run(desk: Desk, submission: Submission, nonce: str = "form-1", rate=PLENTY) -> Any:
    """`rate`: (key, count, seconds), a limit in the outbox's database."""
    key, count, seconds = rate
    slots = RateLimiter(desk.outbox.db, count, seconds).of(key)
    try:
        return accept(desk, submission, ticket(nonce), rate=slots, today=TODAY)
    finally:
        # The caller owns the files (web/apply.py): what the outbox did not take, it deletes.
        Spool.discard(f.path for f in submission.files)


def test_a_valid_form_is_accepted_and_the_outbox_owns_its_files(desk, spool, outbox, backend, pdf):
    submission = received(spool, {"cv": pdf, "cover-letter": pdf + b"\n"})
    outcome = run(desk, submission)

    assert isinstance(outcome, Accepted) and outcome.documents == 2
    assert list(spool.incoming.iterdir()) == []
    stored = list(spool.stored.iterdir())
    assert len(stored) == (0 if backend.inline else 2)  # or in the database
    summary = outbox.summary(outcome.public_id)
    assert (summary.status, summary.documents, summary.position_id) == ("pending", 2, JOB)
    job = outbox.claim("host:1:test", 60)
    assert job.application.email == FIELDS["email"]
    contents = []
    for document in job.documents:
        with outbox.open_document(document) as stream:
            contents.append(stream.read())
    assert contents == [pdf, pdf + b"\n"]


def test_the_same_form_sent_again_gets_its_receipt_and_stores_nothing_twice(
    desk, spool, outbox, pdf
):
    first = run(desk, received(spool, {"cv": pdf}))
    before = spool_files(spool)
    again = run(desk, received(spool, {"cv": pdf}))

    assert again == SentBefore(first.public_id)
    assert spool_files(spool) == before  # the second copy went
    assert outbox.counts() == {"pending": 1}


def test_a_used_form_with_other_content_is_refused(desk, spool, outbox, pdf):
    first = run(desk, received(spool, {"cv": pdf}))
    before = spool_files(spool)
    other = run(desk, received(spool, {"cv": pdf}, email="someone.else@example.com"))

    assert other == FormReused(first.public_id)
    assert spool_files(spool) == before
    assert outbox.counts() == {"pending": 1}


def test_an_invalid_form_says_what_to_fix_and_keeps_no_file(desk, spool, outbox, pdf):
    outcome = run(
        desk,
        received(spool, {"cv": pdf, "cover-letter": b"MZ\x90\x00 not a pdf"}, email="nope"),
        rate=("submit:test-client", 1, 3600),
    )

    assert isinstance(outcome, NotValid)
    assert outcome.invalid.errors == {"email": FieldProblem.EMAIL}
    assert [(r.category, r.reason) for r in outcome.invalid.files] == [
        ("cover-letter", FileProblem.CONTENT_MISMATCH)
    ]
    assert outcome.invalid.values["email"] == "nope"  # kept for the candidate to fix
    assert spool_files(spool) == [] and outbox.counts() == {}
    # No rate slot was spent on it: the one slot of this limit is still free.
    assert isinstance(
        run(desk, received(spool, {"cv": pdf}), rate=("submit:test-client", 1, 3600)), Accepted
    )


def test_a_refused_form_leaves_its_files_to_the_caller_and_names_the_accepted(
    desk, spool, outbox, pdf
):
    submission = received(spool, {"cv": pdf, "cover-letter": b"MZ\x90\x00 not a pdf"}, email="")
    slots = RateLimiter(outbox.db, *PLENTY[1:]).of(PLENTY[0])
    outcome = accept(desk, submission, ticket(), rate=slots, today=TODAY)

    assert isinstance(outcome, NotValid)
    assert [f.category for f in outcome.invalid.accepted] == ["cv"]
    assert all(f.path.exists() for f in submission.files)  # the caller keeps or deletes them
    submission.discard(spool)
    assert spool_files(spool) == []


def test_a_missing_required_document_is_invalid(desk, spool, outbox):
    outcome = run(desk, received(spool, {}))
    assert isinstance(outcome, NotValid)
    assert outcome.invalid.missing_documents == ["cv"]
    assert spool_files(spool) == [] and outbox.counts() == {}


def test_past_the_rate_limit_nothing_is_stored(desk, spool, outbox, pdf):
    limit = ("submit:test-client", 1, 3600)
    accepted = run(desk, received(spool, {"cv": pdf}), "form-1", limit)
    before = spool_files(spool)
    limited = run(desk, received(spool, {"cv": pdf}, email="b@example.com"), "form-2", limit)

    assert isinstance(accepted, Accepted)
    assert isinstance(limited, RateLimited) and 0 < limited.wait <= 3600
    assert spool_files(spool) == before
    assert outbox.counts() == {"pending": 1}


def test_a_form_sent_again_costs_no_rate_slot(desk, spool, outbox, pdf):
    limit = ("submit:test-client", 1, 3600)
    first = run(desk, received(spool, {"cv": pdf}), "form-1", limit)
    assert run(desk, received(spool, {"cv": pdf}), "form-1", limit) == SentBefore(first.public_id)


class _FailingAdd:
    """The outbox, except that storing fails the way a database going away mid-write does:
    after the outbox has handled the files (taken and given back, or left alone)."""

    def __init__(self, outbox: Any) -> None:
        self._outbox = outbox

    def __getattr__(self, name: str) -> Any:
        return getattr(self._outbox, name)

    def add(self, application: Application, **kwargs: Any) -> str:
        broken = replace(
            application,
            documents=(*application.documents, replace(application.documents[0], path="/nope")),
        )
        try:
            self._outbox.add(broken, **kwargs)
        except FileNotFoundError:
            raise StoreUnavailable("outbox database unavailable: test") from None
        raise AssertionError("the broken application was stored")


def test_a_failing_store_raises_and_leaves_no_file(desk, spool, outbox, pdf):
    failing = replace(desk, outbox=_FailingAdd(outbox))
    with pytest.raises(StoreUnavailable):
        run(failing, received(spool, {"cv": pdf, "cover-letter": pdf}))
    assert spool_files(spool) == [] and outbox.counts() == {}
