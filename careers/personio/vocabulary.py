"""Personio's words and limits, written down once: codes in the feed, names in the API.

Everything here is a fact about Personio (docs/personio.md); what careers decides on top of
it (our upload bounds, retention) lives in `careers/applications/rules.py`.
"""

from __future__ import annotations

from enum import StrEnum


class EmploymentType(StrEnum):
    """`employmentType` codes of the feed (docs/personio.md §1.4), in their natural order."""

    PERMANENT = "permanent"
    TEMPORARY = "temporary"
    FREELANCE = "freelance"
    TRAINEE = "trainee"
    INTERN = "intern"
    WORKING_STUDENT = "working_student"


class Schedule(StrEnum):
    """`schedule` codes of the feed (docs/personio.md §1.4)."""

    FULL_TIME = "full-time"
    PART_TIME = "part-time"
    FULL_OR_PART_TIME = "full-or-part-time"


class Seniority(StrEnum):
    """`seniority` codes of the feed (docs/personio.md §1.4)."""

    STUDENT = "student"
    ENTRY_LEVEL = "entry-level"
    EXPERIENCED = "experienced"
    EXECUTIVE = "executive"


class Experience(StrEnum):
    """`yearsOfExperience` codes of the feed (docs/personio.md §1.4)."""

    LT_1 = "lt-1"
    Y1_2 = "1-2"
    Y2_5 = "2-5"
    Y5_7 = "5-7"
    Y7_10 = "7-10"
    Y10_15 = "10-15"
    GT_15 = "gt-15"


class DocumentCategory(StrEnum):
    """The `category` of an uploaded file in the create call (docs/personio.md §2.3); the
    application form names its file inputs by them."""

    CV = "cv"
    COVER_LETTER = "cover-letter"
    CERTIFICATE = "certificate"
    EMPLOYMENT_REFERENCE = "employment-reference"
    WORK_SAMPLE = "work-sample"
    OTHER = "other"


class SystemAttribute(StrEnum):
    """Personio's optional system attributes, sent inside `attributes` (docs/personio.md §2.3)."""

    PHONE = "phone"
    LOCATION = "location"
    BIRTHDAY = "birthday"
    GENDER = "gender"
    AVAILABLE_FROM = "available_from"
    SALARY_EXPECTATIONS = "salary_expectations"


class Gender(StrEnum):
    """The values Personio accepts for the `gender` attribute (docs/personio.md §2.3)."""

    FEMALE = "female"
    MALE = "male"
    DIVERSE = "diverse"
    UNDEFINED = "undefined"


class ErrorCode(StrEnum):
    """Reason codes in Personio's error bodies that the delivery worker acts on
    (docs/personio.md §2.3 and §3)."""

    APPLICANT_ALREADY_EXISTS = "errors.applicant-already-exists"
    APPLICANT_EXISTS = "errors.applicant-exists"  # the older name of the same answer
    CHANNEL_NOT_FOUND = "errors.posting-validation.channel-not-found"
    FILE_NOT_EXISTS = "errors.file-validation.file-not-exists"


# Languages the feed is published in (docs/personio.md §1.1): `?language=xx`.
FEED_LANGUAGES = ("de", "en", "fr", "es", "nl", "it", "pt")

# The 23 file extensions Personio accepts (docs/personio.md §2.1).
EXTENSIONS: tuple[str, ...] = tuple(
    "pdf docx doc jpg png txt jpeg odt ods xlsx rtf xls pptx ppt gif tif tiff bmp csv rar gz zip 7z"
    .split()
)  # fmt: skip

# Personio says "20 MB" a file and "64 MB" for all files of one application without saying
# whether it means 10^6 or 2^20 bytes (docs/personio.md §2.1); we read them decimally, the
# stricter way, so whatever careers accepts, Personio accepts too.
MB = 1_000_000
MAX_DOCUMENT_BYTES = 20 * MB
MAX_APPLICATION_DOCUMENT_BYTES = 64 * MB

# The longest names, email and string attributes Personio takes (docs/personio.md §2.1).
MAX_STRING = 255
