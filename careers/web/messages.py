"""What the candidate reads for every rejection reason, in their language."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..applications.rules import LIMITS, FieldProblem, FileProblem, UploadProblem

# Asked by careers itself of a candidate who came by a referral link (web/referrals.py).
REFERRER_LABEL = _l("Who referred you?")
FIELD_LABELS = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "location": _l("Current location"),
    "birthday": _l("Date of birth"),
    "gender": _l("Gender"),
    "available_from": _l("Available from"),
    "salary_expectations": _l("Salary expectations"),
    "message": _l("Message"),
    "consent": _l("Privacy"),
}

DOCUMENT_LABELS = {
    "cv": _l("CV"),
    "cover-letter": _l("Cover letter"),
    "certificate": _l("Certificates"),
    "employment-reference": _l("References"),
    "work-sample": _l("Work samples"),
    "other": _l("Other documents"),
}

GENDER_LABELS = {
    "female": _l("Female"),
    "male": _l("Male"),
    "diverse": _l("Diverse"),
    "undefined": _l("Prefer not to say"),
}


def field_error(code: FieldProblem) -> str:
    """The message for a field-level problem found by intake."""
    messages: dict[FieldProblem, str] = {
        FieldProblem.REQUIRED: _("Please fill in this field."),
        FieldProblem.REQUIRED_CHOICE: _("Please choose an answer."),
        FieldProblem.REQUIRED_TICK: _("Please tick this box."),
        FieldProblem.REQUIRED_FILE: _("Please attach this document."),
        FieldProblem.EMAIL: _("Please enter an email address like name@example.com."),
        FieldProblem.PHONE: _("Please enter a phone number, e.g. +49 30 1234567."),
        FieldProblem.DATE: _("Please enter a date like 2025-04-30."),
        FieldProblem.DATE_RANGE: _("Please check this date."),
        FieldProblem.OPTION: _("Please choose one of the options."),
        FieldProblem.NUMBER: _("Please enter a number."),
        FieldProblem.TOO_LONG: _("This is too long."),
        FieldProblem.CONSENT: _(
            "Please agree to the privacy policy so we can process your application."
        ),
    }
    fallback: str = _("Please check this field.")  # flask_babel ships no type hints
    return messages.get(code, fallback)


def file_error(reason: FileProblem, name: str, extension: str) -> str:
    """The message for a refused file, naming it so the candidate knows which one."""
    ext = extension.upper()  # never empty here: files without an allowed extension stop earlier
    messages: dict[FileProblem, str] = {
        FileProblem.EXTENSION: _("“%(name)s” is not a file type we accept.", name=name),
        FileProblem.EMPTY: _("“%(name)s” is empty.", name=name),
        FileProblem.TOO_LARGE: _(
            "“%(name)s” is larger than %(mb)s MB.", name=name, mb=LIMITS.file_mb
        ),
        FileProblem.CONTENT_MISMATCH: _(
            "“%(name)s” is not really a %(ext)s file. Please export it again or choose another file.",
            name=name,
            ext=ext,
        ),
        FileProblem.CONTAINER_STRUCTURE: _(
            "“%(name)s” seems damaged: it is not a complete %(ext)s document.", name=name, ext=ext
        ),
        FileProblem.MACRO: _(
            "“%(name)s” contains macros, which we do not accept. Please save it in a format"
            " without macros (for example .docx, .xlsx, .pptx or PDF) and attach it again.",
            name=name,
        ),
    }
    fallback: str = _("“%(name)s” could not be read.", name=name)
    return messages.get(reason, fallback)


def upload_error(reason: UploadProblem) -> str:
    """Why a whole submission was too large (the 413 page)."""
    too_much = _("Your files together are larger than %(mb)s MB.", mb=LIMITS.total_mb)
    messages: dict[UploadProblem, str] = {
        UploadProblem.FILE_TOO_LARGE: _(
            "One of your files is larger than %(mb)s MB.", mb=LIMITS.file_mb
        ),
        UploadProblem.TOTAL_TOO_LARGE: too_much,
        UploadProblem.BODY_TOO_LARGE: too_much,
        UploadProblem.TOO_MANY_FILES: _(
            "You can attach at most %(count)s files.", count=LIMITS.files
        ),
        UploadProblem.FIELD_TOO_LARGE: _("One of the text fields is far too long."),
    }
    fallback: str = _("Your application is larger than we can accept.")
    return messages.get(reason, fallback)
