"""How the text of one CAREERS_* variable becomes its value: each parser returns the value or
raises ValueError saying, in words an operator acts on, what is wrong. config.py names the
parser of each setting and adds the variable's name to the message."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from babel.dates import get_timezone

from .personio.vocabulary import EXTENSIONS, FEED_LANGUAGES
from .ratelimit import RateLimit


def one_word(value: str) -> str:
    """For values that never hold a space (secrets, URLs): systemd's environment file keeps
    everything after the `=`, so a comment after the value, or a `$(openssl …)` it never
    runs, would silently become part of it (docs/deployment.md)."""
    if any(c.isspace() for c in value):
        raise ValueError(
            "contains whitespace: a comment after the value, or a $(command) that an"
            " environment file does not run? Put comments on lines of their own"
        )
    return value


def url(value: str) -> str:
    parts = urlsplit(one_word(value))
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an http(s) URL such as https://example.com")
    return value.rstrip("/")


def subdomain(value: str) -> str:
    """Personio's hostnames: 3-40 letters, digits and dashes (docs/personio.md, "Hosts").
    DNS names are case-insensitive and Personio shows them in lower case."""
    value = value.lower()
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])", value):
        raise ValueError(
            "must be the account name only (3-40 letters, digits and dashes, no dash first"
            " or last), e.g. 'acme' for acme.jobs.personio.de"
        )
    return value


# The two hosts of Personio's career sites (docs/personio.md, "Hosts"); the feed, the job
# pages and the privacy policy live on <account>.<domain>.
PERSONIO_DOMAINS = ("jobs.personio.de", "jobs.personio.com")


def personio_domain(value: str) -> str:
    value = value.lower().strip(".")
    if value not in PERSONIO_DOMAINS:
        raise ValueError(f"must be one of {', '.join(PERSONIO_DOMAINS)}")
    return value


def whole_number(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError("must be a whole number") from None


def positive_int(value: str) -> int:
    if (number := whole_number(value)) <= 0:
        raise ValueError("must be greater than 0")
    return number


def non_negative_int(value: str) -> int:
    if (number := whole_number(value)) < 0:
        raise ValueError("must not be negative")
    return number


def position_id(value: str) -> int:
    """A Personio position id: the number in its job page's URL (docs/personio.md §1.3)."""
    if not re.fullmatch(r"[0-9]{1,10}", value) or not 0 < int(value) < 2**31:
        raise ValueError("must be the numeric id of a Personio position, e.g. 2140231")
    return int(value)


def channel_id(value: str) -> int:
    """A Personio recruiting channel id (Settings > Recruiting > Channels)."""
    if not re.fullmatch(r"[0-9]{1,10}", value) or not 0 < int(value) < 2**31:
        raise ValueError(
            "must be the numeric id of a recruiting channel in Personio, e.g. 2004"
            " (Settings > Recruiting > Channels)"
        )
    return int(value)


def referrer_field(value: str) -> str:
    """Where a referrer's name goes: a tag, a custom applicant attribute, or nowhere."""
    lowered = value.lower()
    if lowered in {"tag", "off"}:
        return lowered
    if not re.fullmatch(r"custom_attribute_[0-9]{1,12}", lowered):
        raise ValueError("must be tag, off or a custom attribute id such as custom_attribute_1234")
    return lowered


def form_of_address(value: str) -> str:
    """How pages and candidates' mails address the reader (docs/languages.md)."""
    lowered = value.lower()
    if lowered not in {"formal", "informal"}:
        raise ValueError(f"must be formal or informal, not {value[:40]!r}")
    return lowered


def company_id(value: str) -> str:
    if not value.isdigit():
        raise ValueError("must be the numeric company id from Personio's API credentials page")
    return value


# What the docs write where a secret goes (docs/deployment.md, docs/applications.md, the
# README): an environment file copied with one left in would run on a secret anyone can read.
PLACEHOLDERS = frozenset({"...", "…", "change-me", "changeme", "secret", "<token>", "<secret>"})


def secret(value: str) -> str:
    """A secret or a token: one word, no comment, not the docs' placeholder."""
    one_word(value)
    if "#" in value:
        raise ValueError(
            "contains '#': a comment after the value? systemd keeps it as part of the value;"
            " put comments on lines of their own"
        )
    if value.lower() in PLACEHOLDERS:
        raise ValueError(
            f"is the docs' placeholder {value!r}: generate one with `openssl rand -hex 32`"
        )
    return value


def token(value: str) -> str:
    secret(value)
    if not re.fullmatch(r"[\x21-\x7e]+", value):
        raise ValueError("must be the token alone: printable ASCII, no spaces or line breaks")
    return value


def metrics_token(value: str) -> str:
    if len(token(value)) < 16:
        raise ValueError("must be at least 16 characters long (e.g. `openssl rand -hex 32`)")
    return value


def secret_key(value: str) -> str:
    if len(secret(value)) < 16:
        raise ValueError("must be at least 16 characters long")
    return value


def languages(value: str) -> tuple[str, ...]:
    langs = tuple(dict.fromkeys(lang.lower() for lang in comma_list(value)))
    bad = [lang for lang in langs if lang not in FEED_LANGUAGES]
    if bad or not langs:
        raise ValueError(f"must be a comma list of {','.join(FEED_LANGUAGES)} (got {value!r})")
    return langs


def origins(value: str) -> tuple[str, ...]:
    found = tuple(value.split())
    for origin in found:
        if not re.fullmatch(r"https?://(\*\.)?[A-Za-z0-9.-]+(:\d+)?", origin):
            raise ValueError(f"{origin!r} is not an origin like https://www.acme.com")
    return found


def comma_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def extensions(value: str) -> tuple[str, ...]:
    exts = tuple(dict.fromkeys(e.lower().lstrip(".") for e in comma_list(value)))
    bad = [e for e in exts if e not in EXTENSIONS]
    if bad or not exts:
        raise ValueError(f"may only contain {','.join(EXTENSIONS)} (not {','.join(bad)})")
    return exts


def rate(value: str) -> RateLimit:
    """Both rate settings: `COUNT/SECONDS`, each above zero."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value)
    if not match or int(match[1]) <= 0 or int(match[2]) <= 0:
        raise ValueError("must look like COUNT/SECONDS, e.g. 20/60")
    return RateLimit(int(match[1]), int(match[2]))


def channels(value: str) -> dict[str, int]:
    mapping = {}
    for item in comma_list(value):
        name, sep, number = item.partition("=")
        if not sep or not name.strip() or not number.strip().isdigit():
            raise ValueError(f"{item!r} is not name=id, e.g. linkedin=2001")
        mapping[name.strip().lower()] = int(number)
    return mapping


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered not in _TRUE | _FALSE:
        raise ValueError(f"{value!r} is not true or false (also 1/0, yes/no, on/off)")
    return lowered in _TRUE


# Codes CLDR lists among territories that are regions or placeholders, not countries
# (also left out of the country names web/seo.py finds in office names).
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


def country(value: str) -> str:
    from babel import Locale

    code = value.strip().upper()
    known = re.fullmatch(r"[A-Z]{2}", code) and code in Locale.parse("en").territories
    if not known or code in NOT_COUNTRIES:
        raise ValueError(
            f"must be an ISO 3166-1 alpha-2 country code such as DE or GB, not {value!r}"
        )
    return code


def existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise ValueError(f"file {value!r} does not exist")
    return path


def database_url(value: str) -> str:
    one_word(value)  # it may hold a password
    if value.startswith(("postgresql://", "postgres://")):
        if not urlsplit(value).hostname and "host=" not in value:
            raise ValueError("must name the server: postgresql://user:password@host:5432/careers")
        _libpq_reads(value)
        return value
    if not value.startswith("sqlite:///") or value == "sqlite:///":
        raise ValueError(
            "must look like sqlite:///path/to/careers.db or postgresql://user@host/careers"
        )
    return value


def _libpq_reads(value: str) -> None:
    """Refuse here what libpq cannot parse, in words of our own: libpq's quote the URL's
    part it stumbled on (`invalid percent-encoded token: "<the password>"`), and raised at
    start-up they reached the log in a traceback."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(value)
    except ProgrammingError:
        raise ValueError(
            "not a URL libpq can read (check the port and that special characters in the"
            " password are %-encoded)"
        ) from None


def timezone(value: str) -> str:
    # The same lookup the pages format times with (Babel), so what passes here works there.
    try:
        get_timezone(value)
    except (LookupError, ValueError):
        raise ValueError(f"{value!r} is not a time zone name like Europe/Berlin") from None
    return value


def smtp_url(value: str) -> str:
    parts = urlsplit(one_word(value))  # it may hold a password
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError(
            "must look like smtp://user:password@mail.example.com:587 (STARTTLS when offered)"
            " or smtps://user:password@mail.example.com:465"
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ValueError("has a port that is not a number") from None
    return value


def address(value: str) -> str:
    """One mail address, checked the way candidates' addresses are (no DNS)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"{value.strip()!r} is not a mail address: {exc}") from None


def mail_from(value: str) -> str:
    """`jobs@acme.com` or `Acme Careers <jobs@acme.com>`."""
    from email.utils import formataddr, parseaddr

    name, bare = parseaddr(value)
    if not bare or "\n" in value or "\r" in value:
        raise ValueError("must be an address like jobs@acme.com or 'Acme Careers <jobs@acme.com>'")
    return formataddr((name, address(bare))) if name else address(bare)


def addresses(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(address(v) for v in value.split(",") if v.strip()))
