"""Email address syntax: which addresses a form takes, and the form we keep them in.

One rule for every address a person types: a candidate's on the application form
(applications/intake.py) and a job-alert subscriber's (web/alerts.py). Addresses operators
configure are settings, parsed in config_parsers.py.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from .text import BIDI_CONTROLS, clean_text

MAX_LOCAL_PART = 64  # RFC 5321 §4.5.3.1.1, in octets (the part is ASCII here)


def normalize_email(value: str) -> str | None:
    """The address as we store it, or None when we do not take it (`FieldProblem.EMAIL`).

    Checked by email-validator on its syntax alone: no DNS lookup, ever. Refused besides what
    RFC 5321/5322 refuse (a local part over 64 characters, "_" in a domain, a missing dot):
    bracketed IP addresses, quoted local parts, display names ("Anna <a@x.de>"), special-use
    domains (.test, .local, .invalid …), non-ASCII before the @, and any bidi control — the
    address would not read as what it is, and stripping it would store an address other than
    the one the person saw. Zero-width characters are stripped first (`clean_text`): they
    change nothing one can see, and copying an address from a web page or chat brings them.

    Non-ASCII local parts ("jürgen@…") need SMTPUTF8 from every mail server on the way and a
    Personio that takes them, which it does not document; browsers' type="email" inputs
    refuse them too. Refused here, the candidate can give another address at once; refused by
    Personio, the application would be parked without the candidate knowing. Internationalised
    domains are taken and stored as IDNA ("a@müller.de" → "a@xn--mller-kva.de"), which every
    mail system and validator accepts and which is what browsers send anyway. The stored form
    is the library's normalisation in ASCII (`ascii_email`; `normalized` would turn the IDNA
    back into Unicode): the domain in lower case, the local part as typed.
    """
    if BIDI_CONTROLS.intersection(value):
        return None
    try:
        checked = validate_email(
            clean_text(value),
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_empty_local=False,
        )  # display names ("Anna <a@x.de>") are refused by default
    except EmailNotValidError:
        return None
    # RFC 5321's 64 octets; email-validator 2.3 stopped checking it unless told `strict=True`,
    # which 2.1 and 2.2 do not know. Personio's own check is not documented: stay within RFCs.
    if len(checked.local_part) > MAX_LOCAL_PART:
        return None
    return checked.ascii_email
