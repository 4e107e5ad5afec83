"""What the candidate reads for every rejection reason, in their language."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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


def field_error(code: str) -> str:
    """The message for a field-level error code from validate.py."""
    messages = {
        "required": _("Please fill in this field."),
        "required_file": _("Please attach this document."),
        "email": _("Please enter an email address like name@example.com."),
        "phone": _("Please enter a phone number, e.g. +49 30 1234567."),
        "date": _("Please enter a date like 2025-04-30."),
        "date_range": _("Please check this date."),
        "option": _("Please choose one of the options."),
        "number": _("Please enter a number."),
        "too_long": _("This is too long."),
        "consent": _("Please agree to the privacy policy so we can process your application."),
    }
    return messages.get(code, _("Please check this field."))


def file_error(reason: str | None, name: str, extension: str) -> str:
    """The message for a refused file, naming it so the candidate knows which one."""
    ext = extension.upper()  # never empty here: files without an allowed extension stop earlier
    messages = {
        "extension": _("“%(name)s” is not a file type we accept.", name=name),
        "empty": _("“%(name)s” is empty.", name=name),
        "too_large": _("“%(name)s” is larger than 20 MB.", name=name),
        "content_mismatch": _(
            "“%(name)s” is not really a %(ext)s file. Please export it again or choose another file.",
            name=name,
            ext=ext,
        ),
        "container_structure": _(
            "“%(name)s” seems damaged: it is not a complete %(ext)s document.", name=name, ext=ext
        ),
    }
    return messages.get(reason or "", _("“%(name)s” could not be read.", name=name))


def upload_error(reason: str) -> str:
    """Why a whole submission was too large (the 413 page)."""
    messages = {
        "file_too_large": _("One of your files is larger than 20 MB."),
        "total_too_large": _("Your files together are larger than 64 MB."),
        "body_too_large": _("Your files together are larger than 64 MB."),
        "too_many_files": _("You can attach at most 10 files."),
        "field_too_large": _("One of the text fields is far too long."),
    }
    return messages.get(reason, _("Your application is larger than we can accept."))
