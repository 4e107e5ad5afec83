"""What careers accepts, in one table: limits, statuses and the reason codes of refusals.

Personio's own facts (categories, extensions, its 20 MB / 64 MB) come from
`careers/personio/vocabulary.py`; the bounds below are ours, set inside Personio's. The UI,
the browser check and the server read the same numbers from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..personio.vocabulary import (
    MAX_APPLICATION_DOCUMENT_BYTES,
    MAX_DOCUMENT_BYTES,
    MAX_STRING,
    MB,
)

READ_CHUNK = 64 * 1024  # bytes read from a request body at a time


@dataclass(frozen=True)
class Limits:
    """Upload bounds: Personio's per-file and per-application sizes plus our own on parts,
    and the pace a body must keep (careers/applications/slowbody.py)."""

    file_bytes: int = MAX_DOCUMENT_BYTES
    total_file_bytes: int = MAX_APPLICATION_DOCUMENT_BYTES
    files: int = 10
    field_bytes: int = 64 * 1024
    parts: int = 80
    # A part's header; room for a file name of 1,000 characters in any script.
    header_bytes: int = 8 * 1024
    # No byte for this long: the client is gone or stalling on purpose.
    stall_seconds: float = 30.0
    # Below this average pace (bytes a second) once `rate_grace` has passed: cut. 4 kB/s is
    # 32 kbit/s, slower than any mobile uplink that can carry a 20 MB file at all.
    min_rate: float = 4096.0
    rate_grace: float = 20.0

    @property
    def body_bytes(self) -> int:
        """The largest body that can be valid: all files plus room for the text fields."""
        return self.total_file_bytes + 2 * MB

    @property
    def file_mb(self) -> int:
        """The per-file limit in (decimal) megabytes, as the UI says it."""
        return self.file_bytes // MB

    @property
    def total_mb(self) -> int:
        return self.total_file_bytes // MB


LIMITS = Limits()

# Longest text we take per field (characters). Personio takes 255 for names and most
# attributes; a phone number or a date needs far less, a free-text message more.
MAX_TEXT: dict[str, int] = {
    "first_name": MAX_STRING,
    "last_name": MAX_STRING,
    "email": MAX_STRING,
    "phone": 60,
    "location": MAX_STRING,
    "available_from": 100,
    "salary_expectations": MAX_STRING,
    "message": 10_000,
}
MAX_CUSTOM: dict[str, int] = {"text": MAX_STRING, "textarea": 5_000, "number": 30}

# Refused or oversized posts per client address: a budget of their own, so a client that
# keeps sending forged, bot-filled or huge bodies is answered 429 before its next body is read.
REFUSAL_LIMIT = (10, 600)  # refusals, seconds
# Refused posts whose checked files one client may have kept for a resubmission, per hour
# (careers/db/kept.py): a candidate needs a few; past it a post's files are not kept (the
# form asks to attach them again), so nobody fills the disk or the database with them.
KEPT_LIMIT = (10, 3600)  # kept posts, seconds
# Bodies read at once by one server process; the rest of its threads stay free for pages.
# `careers serve` runs SERVE_THREADS threads per worker process.
UPLOAD_SLOTS = 24
SERVE_THREADS = 32
# When every slot is taken, a new upload takes the slot of the slowest body read for
# FAIR_GRACE seconds at less than FAIR_RATE bytes a second (slowbody.UploadGate). 32 kB/s is
# 256 kbit/s: a quarter of the 1 Mbit/s a 20 MB CV must get through at, eight times the
# crawl floor, and 48 slots held at that pace cost an attacker 12 Mbit/s, not 1.6.
FAIR_RATE = 32 * 1024
FAIR_GRACE = 5.0
# A client whose body was cut so takes no slot over for this long: cut attackers would
# otherwise cut each other in a chain, keeping every slot too new to judge.
FAIR_COOLDOWN = 60.0
# Slots one client (an IPv4 address or an IPv6 /64) holds at once per process: a family or
# an office behind one address sends a few applications at a time, not a worker's worth.
UPLOADS_PER_CLIENT = 4

# How long an outbox keeps what it may keep (docs/applications.md, "Retention").
PARKED_RETENTION_DAYS = 30  # a parked application's personal data and files
RECEIPT_RETENTION_DAYS = 180  # a receipt (id, position, status, times: no personal data)
DAY = 86_400


class Status(StrEnum):
    """Where an application is on its way to Personio."""

    PENDING = "pending"
    DELIVERED = "delivered"
    PARKED = "parked"
    # Personio already had an application from this address for this position (the
    # candidate applied twice): done, not a failure.
    ALREADY_APPLIED = "already_applied"


class FieldProblem(StrEnum):
    """Why a form field was refused; the web layer words each for the candidate."""

    REQUIRED = "required"  # a field to fill in, left empty
    REQUIRED_CHOICE = "required_choice"  # a select left on "Please choose"
    REQUIRED_TICK = "required_tick"  # a required checkbox left unticked
    REQUIRED_FILE = "required_file"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    DATE_RANGE = "date_range"
    OPTION = "option"
    NUMBER = "number"
    TOO_LONG = "too_long"
    CONSENT = "consent"


class FileProblem(StrEnum):
    """Why one attached file was refused (careers/applications/files.py)."""

    EXTENSION = "extension"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    CONTENT_MISMATCH = "content_mismatch"
    CONTAINER_STRUCTURE = "container_structure"
    UNREADABLE = "unreadable"
    MACRO = "macro"  # an Office file with a macro project (containers.has_macros)


class UploadProblem(StrEnum):
    """Why a whole body was refused while streaming (careers/applications/upload.py)."""

    STALLED = "stalled"  # no byte for Limits.stall_seconds
    TOO_SLOW = "too_slow"  # below Limits.min_rate
    EVICTED = "evicted"  # below the fair pace while a new upload needed its slot

    NOT_MULTIPART = "not_multipart"
    BODY_TOO_LARGE = "body_too_large"
    FILE_TOO_LARGE = "file_too_large"
    TOTAL_TOO_LARGE = "total_too_large"
    TOO_MANY_FILES = "too_many_files"
    TOO_MANY_PARTS = "too_many_parts"
    TOKEN_LATE = "token_late"  # a file before the form token: not our form
    HIDDEN_CATEGORY = "hidden_category"  # a file under a document input the form does not show
    HEADER_TOO_LARGE = "header_too_large"
    FIELD_TOO_LARGE = "field_too_large"
    BAD_PART = "bad_part"
    BAD_ENCODING = "bad_encoding"
    MALFORMED = "malformed"
    TRUNCATED = "truncated"
