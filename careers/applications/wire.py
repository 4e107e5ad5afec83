"""Personio's wire format for an application: the one place that knows it.

The v1 create call (docs/personio.md §2.3) wants names and email at the top, the system
attributes (phone, location, …) inside `attributes` with the custom ones, `job_position_id` as
a number (pitfall §4.6), files by the uuids the upload calls returned, and optionally a
recruiting channel, tags and the date the candidate applied.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import PurePosixPath
from typing import Any

from .store import Claim

# Personio's upload endpoint lists `jpg` and `tif` only (docs/personio.md §2.2): a JPEG or
# TIFF the candidate named `.jpeg` / `.tiff` goes there under the listed spelling, same bytes.
PERSONIO_SPELLING = {".jpeg": ".jpg", ".tiff": ".tif"}


def personio_filename(filename: str) -> str:
    """The candidate's file name with the extension Personio lists: `Scan.JPEG` → `Scan.jpg`."""
    path = PurePosixPath(filename)
    listed = PERSONIO_SPELLING.get(path.suffix.lower())
    return filename if listed is None else filename[: -len(path.suffix)] + listed


def personio_body(job: Claim, uuids: dict[int, str], today: date) -> dict[str, Any]:
    """The JSON body of `POST /v1/recruiting/applications` for a claimed application."""
    application = job.application
    body: dict[str, Any] = {
        "first_name": application.first_name,
        "last_name": application.last_name,
        "email": application.email,
        "job_position_id": int(application.position_id),
    }
    if application.message:
        body["message"] = application.message
    if application.attributes:
        body["attributes"] = [{"id": a.id, "value": a.value} for a in application.attributes]
    if job.documents:
        body["files"] = [
            {
                "uuid": uuids[d.id],
                "original_filename": personio_filename(d.filename),
                "category": str(d.category),
            }
            for d in job.documents
        ]
    if application.channel_id is not None:
        body["recruiting_channel_id"] = int(application.channel_id)
    if application.tags:
        body["tags"] = list(application.tags)
    # A delivery delayed past the day it was received keeps its real date; a date "today"
    # is left to Personio, since one in its future would be refused (§2.3).
    received = datetime.fromtimestamp(job.created_at, UTC).date()
    if received < today:
        body["application_date"] = received.isoformat()
    return body
