"""Settings from `CAREERS_*` variables, read and checked in one place (docs/operations.md)."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel.dates import get_timezone

from .applications.form import FormFileError, FormSchema, load_form
from .network import LOOPBACK, Network, parse_trusted_proxies
from .personio.vocabulary import EXTENSIONS

PREFIX = "CAREERS_"
# Languages Personio's feed knows (docs/personio.md §1.1).
FEED_LANGUAGES = ("de", "en", "fr", "es", "nl", "it", "pt")


class ConfigError(Exception):
    """Bad configuration: one line per problem, each naming the variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class RateLimit:
    """ "N/S": at most `count` events per `seconds`."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}"


@dataclass(frozen=True)
class StorageSettings:
    """What the stores need: enough for `careers outbox`, which touches nothing else."""

    data_dir: Path
    database_url: str
    # Start-up applies pending schema migrations (careers/applications/migrations.py);
    # off for operators who run `careers db upgrade` as a job of their own.
    migrate_on_start: bool = True

    @property
    def postgres(self) -> bool:
        """Several hosts share one PostgreSQL; otherwise SQLite in the data directory."""
        return self.database_url.startswith(("postgresql://", "postgres://"))

    def __repr__(self) -> str:
        # A database URL may carry a password.
        return f"StorageSettings(data_dir={self.data_dir!r}, database_url='***')"


@dataclass(frozen=True)
class Settings:
    """Typed, validated configuration; everything else receives this, never os.environ."""

    personio_subdomain: str
    personio_feed_url: str
    personio_api_url: str
    personio_company_id: str
    personio_recruiting_token: str
    personio_rate_limit: RateLimit
    languages: tuple[str, ...]
    feed_ttl: int
    data_dir: Path
    database_url: str
    secret_key: str
    metrics_token: str
    public_url: str
    company_name: str
    privacy_url: str
    frame_ancestors: tuple[str, ...]
    channels: dict[str, int]
    remote_countries: tuple[str, ...]
    form_file: Path | None
    form: FormSchema
    allowed_extensions: tuple[str, ...]
    min_fill_seconds: int
    submit_rate_limit: RateLimit
    timezone: str = "Europe/Berlin"
    logo_file: Path | None = None
    stylesheet_file: Path | None = None
    imprint_url: str = ""
    # Mail (docs/mail.md): off without CAREERS_SMTP_URL.
    smtp_url: str = ""
    mail_from: str = ""
    alert_emails: tuple[str, ...] = ()
    alert_webhook_url: str = ""
    alert_interval: int = 3600
    alert_feed_after: int = 1800
    alert_backlog_after: int = 3600
    # Proxies whose X-Forwarded-* headers are believed (network.py, web/proxy.py).
    trusted_proxies: tuple[Network, ...] = LOOPBACK
    migrate_on_start: bool = True
    # ISO 3166-1 alpha-2, for offices that name no country (JSON-LD addressCountry, remote).
    default_country: str = ""

    @property
    def mail_enabled(self) -> bool:
        """Mail goes out (alerts to operators, job alerts to candidates) only with a server."""
        return bool(self.smtp_url)

    @property
    def alerts_enabled(self) -> bool:
        """Operators hear of parked applications, a failing feed and a stuck backlog."""
        return bool(self.alert_webhook_url or (self.smtp_url and self.alert_emails))

    @property
    def storage(self) -> StorageSettings:
        return StorageSettings(self.data_dir, self.database_url, self.migrate_on_start)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def read_only(self) -> bool:
        """Without Recruiting API credentials, applications go to Personio's own page (docs/operations.md)."""
        return not (self.personio_company_id and self.personio_recruiting_token)

    @property
    def company_named_after_host(self) -> bool:
        """No CAREERS_COMPANY_NAME and no Personio account to name the site after: titles,
        mails and JSON-LD then name whatever host serves the feed (`127.0.0.1`)."""
        return (
            not self.personio_subdomain
            and personio_account(self.personio_feed_url) is None
            and self.company_name == _account_name(None, self.personio_feed_url)
        )

    @property
    def personio_site_url(self) -> str:
        """Base of Personio's hosted career site, for 'apply on Personio' links."""
        if self.personio_subdomain:
            return f"https://{self.personio_subdomain}.jobs.personio.de"
        parts = urlsplit(self.personio_feed_url)
        return f"{parts.scheme}://{parts.netloc}"

    def __repr__(self) -> str:
        # Never let the token or the secret reach a log line or a traceback.
        shown = {
            f.name: (
                "***"
                if f.name
                in {
                    "personio_recruiting_token",
                    "secret_key",
                    "metrics_token",
                    "database_url",
                    "smtp_url",
                }
                else getattr(self, f.name)
            )
            for f in fields(self)
        }
        return f"Settings({shown})"


DEFAULT_EXTENSIONS = EXTENSIONS  # Personio's 23 (docs/personio.md §2.1)


def _one_word(value: str) -> str:
    """For values that never hold a space (secrets, URLs): systemd's environment file keeps
    everything after the `=`, so a comment after the value, or a `$(openssl …)` it never
    runs, would silently become part of it (docs/deployment.md)."""
    if any(c.isspace() for c in value):
        raise ValueError(
            "contains whitespace: a comment after the value, or a $(command) that an"
            " environment file does not run? Put comments on lines of their own"
        )
    return value


def _url(value: str) -> str:
    parts = urlsplit(_one_word(value))
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an http(s) URL such as https://example.com")
    return value.rstrip("/")


def _subdomain(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", value):
        raise ValueError("must be the account name only, e.g. 'acme' for acme.jobs.personio.de")
    return value


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError("must be a whole number") from None
    if number <= 0:
        raise ValueError("must be greater than 0")
    return number


def _non_negative_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError("must be a whole number") from None
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _company_id(value: str) -> str:
    if value and not value.isdigit():
        raise ValueError("must be the numeric company id from Personio's API credentials page")
    return value


# What the docs write where a secret goes (docs/deployment.md, docs/applications.md, the
# README): an environment file copied with one left in would run on a secret anyone can read.
PLACEHOLDERS = frozenset({"...", "…", "change-me", "changeme", "secret", "<token>", "<secret>"})


def _secret(value: str) -> str:
    """A secret or a token: one word, no comment, not the docs' placeholder."""
    _one_word(value)
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


def _token(value: str) -> str:
    _secret(value)
    if not re.fullmatch(r"[\x21-\x7e]+", value):
        raise ValueError("must be the token alone: printable ASCII, no spaces or line breaks")
    return value


def _metrics_token(value: str) -> str:
    token = _token(value)
    if len(token) < 16:
        raise ValueError("must be at least 16 characters long (e.g. `openssl rand -hex 32`)")
    return token


def _secret_key(value: str) -> str:
    key = _secret(value)
    if len(key) < 16:
        raise ValueError("must be at least 16 characters long")
    return key


def _rate(value: str) -> RateLimit:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value)
    if not match or int(match[1]) <= 0 or int(match[2]) <= 0:
        raise ValueError("must look like COUNT/SECONDS, e.g. 20/60")
    return RateLimit(int(match[1]), int(match[2]))


def _languages(value: str) -> tuple[str, ...]:
    langs = tuple(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))
    bad = [lang for lang in langs if lang not in FEED_LANGUAGES]
    if bad or not langs:
        raise ValueError(f"must be a comma list of {','.join(FEED_LANGUAGES)} (got {value!r})")
    return langs


def _origins(value: str) -> tuple[str, ...]:
    origins = tuple(value.split())
    for origin in origins:
        if not re.fullmatch(r"https?://(\*\.)?[A-Za-z0-9.-]+(:\d+)?", origin):
            raise ValueError(f"{origin!r} is not an origin like https://www.acme.com")
    return origins


def _extensions(value: str) -> tuple[str, ...]:
    exts = tuple(
        dict.fromkeys(e.strip().lower().lstrip(".") for e in value.split(",") if e.strip())
    )
    bad = [e for e in exts if e not in DEFAULT_EXTENSIONS]
    if bad or not exts:
        raise ValueError(f"may only contain {','.join(DEFAULT_EXTENSIONS)} (not {','.join(bad)})")
    return exts


def _channels(value: str) -> dict[str, int]:
    mapping = {}
    for item in value.split(","):
        if not item.strip():
            continue
        name, sep, number = item.partition("=")
        if not sep or not name.strip() or not number.strip().isdigit():
            raise ValueError(f"{item.strip()!r} is not name=id, e.g. linkedin=2001")
        mapping[name.strip().lower()] = int(number)
    return mapping


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered not in _TRUE | _FALSE:
        raise ValueError(f"{value!r} is not true or false (also 1/0, yes/no, on/off)")
    return lowered in _TRUE


# Codes CLDR lists among territories that are regions or placeholders, not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


def _country(value: str) -> str:
    from babel import Locale

    code = value.strip().upper()
    known = re.fullmatch(r"[A-Z]{2}", code) and code in Locale.parse("en").territories
    if not known or code in _NOT_COUNTRIES:
        raise ValueError(
            f"must be an ISO 3166-1 alpha-2 country code such as DE or GB, not {value!r}"
        )
    return code


def _existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise ValueError(f"file {value!r} does not exist")
    return path


def _database_url(value: str) -> str:
    _one_word(value)  # it may hold a password
    if value.startswith(("postgresql://", "postgres://")):
        if not urlsplit(value).hostname and "host=" not in value:
            raise ValueError("must name the server: postgresql://user:password@host:5432/careers")
        return value
    if not value.startswith("sqlite:///") or value == "sqlite:///":
        raise ValueError(
            "must look like sqlite:///path/to/careers.db or postgresql://user@host/careers"
        )
    return value


def _timezone(value: str) -> str:
    # The same lookup the pages format times with (Babel), so what passes here works there.
    try:
        get_timezone(value)
    except (LookupError, ValueError):
        raise ValueError(f"{value!r} is not a time zone name like Europe/Berlin") from None
    return value


LOGO_TYPES = {  # what the header shows: raster or SVG images, small enough for every page
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
MAX_BRAND_BYTES = 512 * 1024


def logo_type(data: bytes) -> str | None:
    """The logo's MIME type by content, or None when it is not an image we serve."""
    for magic_bytes, mimetype in LOGO_TYPES.items():
        if data.startswith(magic_bytes):
            return mimetype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg")) and b"<svg" in data[:4096].lower():
        # An SVG can carry script: refuse anything active rather than trust it.
        lowered = data.lower()
        active = (b"<script", b"javascript:", b"<foreignobject")
        if any(s in lowered for s in active) or re.search(rb"\son[a-z]+\s*=", lowered):
            return None
        return "image/svg+xml"
    return None


def _read_file(value: str) -> bytes:
    try:
        return _existing_file(value).read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {value!r}: {exc.strerror or exc}") from None


def _logo_file(value: str) -> Path:
    path = Path(value)
    data = _read_file(value)
    if len(data) > MAX_BRAND_BYTES:
        raise ValueError(f"{value!r} is larger than 512 KB; a header logo needs far less")
    if logo_type(data) is None:
        raise ValueError(
            f"{value!r} is not a PNG, JPEG, GIF, WebP or SVG image (SVG without scripts or"
            " event handlers)"
        )
    return path


def _stylesheet_file(value: str) -> Path:
    path = Path(value)
    data = _read_file(value)
    if len(data) > MAX_BRAND_BYTES:
        raise ValueError(f"{value!r} is larger than 512 KB")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{value!r} is not a UTF-8 text file") from None
    return path


def _smtp_url(value: str) -> str:
    parts = urlsplit(_one_word(value))  # it may hold a password
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


def _address(value: str) -> str:
    """One mail address, checked the way candidates' addresses are (no DNS)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"{value.strip()!r} is not a mail address: {exc}") from None


def _mail_from(value: str) -> str:
    """`jobs@acme.com` or `Acme Careers <jobs@acme.com>`."""
    from email.utils import formataddr, parseaddr

    name, address = parseaddr(value)
    if not address or "\n" in value or "\r" in value:
        raise ValueError("must be an address like jobs@acme.com or 'Acme Careers <jobs@acme.com>'")
    return formataddr((name, _address(address))) if name else _address(address)


def _addresses(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_address(v) for v in value.split(",") if v.strip()))


# A career-site host of Personio's, `acme.jobs.personio.de` (or `.com`): the account is `acme`.
PERSONIO_HOST = re.compile(r"([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.jobs\.personio\.(?:de|com)")


def personio_account(feed_url: str) -> str | None:
    """The Personio account a feed URL belongs to, None for any other host (a proxy, the
    sandbox): then neither a company name nor a privacy policy can be derived from it."""
    match = PERSONIO_HOST.fullmatch(urlsplit(feed_url).hostname or "")
    return match[1] if match else None


def _account_name(subdomain: str | None, feed_url: str | None) -> str:
    """Without CAREERS_COMPANY_NAME the site is named after the Personio account: the
    subdomain, or the first label of the feed's host."""
    if subdomain:
        return subdomain
    host = urlsplit(feed_url or "").hostname or ""
    return host.split(".")[0] if host and not host[0].isdigit() else host


def _privacy_default(subdomain: str | None, feed_url: str | None) -> str:
    """The account's privacy policy on Personio's career site, when the feed is Personio's
    (docs/personio.md §1); "" when nothing names one."""
    if subdomain:
        return f"https://{subdomain}.jobs.personio.de/privacy-policy"
    if feed_url and personio_account(feed_url):
        parts = urlsplit(feed_url)
        return f"https://{parts.hostname}/privacy-policy"
    return ""


# name → (parser, default). A default of None means "derived below" or "not set".
_TABLE: dict[str, tuple[Callable[[str], Any], str | None]] = {
    "PERSONIO_SUBDOMAIN": (_subdomain, None),
    "PERSONIO_FEED_URL": (_url, None),
    "PERSONIO_API_URL": (_url, "https://api.personio.de"),
    "PERSONIO_COMPANY_ID": (_company_id, ""),
    "PERSONIO_RECRUITING_TOKEN": (_token, ""),
    "PERSONIO_RATE_LIMIT": (_rate, "20/60"),
    "LANGUAGES": (_languages, "en,de"),
    "FEED_TTL": (_positive_int, "300"),
    "DATA_DIR": (Path, "./instance"),
    "DATABASE_URL": (_database_url, None),
    "SECRET_KEY": (_secret_key, None),
    "PUBLIC_URL": (_url, ""),
    "METRICS_TOKEN": (_metrics_token, ""),
    "COMPANY_NAME": (str.strip, None),
    "PRIVACY_URL": (_url, None),
    "FRAME_ANCESTORS": (_origins, ""),
    "CHANNELS": (_channels, ""),
    "REMOTE_COUNTRIES": (lambda v: tuple(c.strip() for c in v.split(",") if c.strip()), ""),
    "DEFAULT_COUNTRY": (_country, ""),
    "FORM_FILE": (_existing_file, None),
    "ALLOWED_EXTENSIONS": (_extensions, ",".join(DEFAULT_EXTENSIONS)),
    "MIN_FILL_SECONDS": (_non_negative_int, "3"),
    "SUBMIT_RATE_LIMIT": (_rate, "5/600"),
    "TIMEZONE": (_timezone, "Europe/Berlin"),
    "LOGO_FILE": (_logo_file, None),
    "STYLESHEET_FILE": (_stylesheet_file, None),
    "IMPRINT_URL": (_url, ""),
    "SMTP_URL": (_smtp_url, ""),
    "MAIL_FROM": (_mail_from, ""),
    "ALERT_EMAIL": (_addresses, ""),
    "ALERT_WEBHOOK_URL": (_url, ""),
    "ALERT_INTERVAL": (_positive_int, "3600"),
    "ALERT_FEED_AFTER": (_positive_int, "1800"),
    "ALERT_BACKLOG_AFTER": (_positive_int, "3600"),
    "TRUSTED_PROXIES": (parse_trusted_proxies, "loopback"),
    "MIGRATE_ON_START": (_boolean, "true"),
}


def _read(env: Mapping[str, str], names: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """Parse the named variables; a problem is noted (naming the variable), never raised."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name in names:
        parse, default = _TABLE[name]
        raw = env.get(PREFIX + name)
        try:
            if raw is None or raw.strip() == "":
                values[name] = parse(default) if default else default
                continue
            values[name] = parse(raw.strip())
        except ValueError as exc:
            problems.append(f"{PREFIX}{name}: {exc}")
            values[name] = None
    return values, problems


def _failed(problems: list[str]) -> set[str]:
    """Names of the variables that already have a problem (one line per variable)."""
    return {p.split(":", 1)[0].removeprefix(PREFIX) for p in problems}


def _database_default(values: dict[str, Any]) -> str:
    return values["DATABASE_URL"] or f"sqlite:///{values['DATA_DIR'] / 'careers.db'}"


def load_storage_settings(env: Mapping[str, str] | None = None) -> StorageSettings:
    """Only CAREERS_DATA_DIR, CAREERS_DATABASE_URL and CAREERS_MIGRATE_ON_START: what the
    outbox and database commands need."""
    names = ("DATA_DIR", "DATABASE_URL", "MIGRATE_ON_START")
    values, problems = _read(os.environ if env is None else env, names)
    if problems:
        raise ConfigError(problems)
    return StorageSettings(
        values["DATA_DIR"], _database_default(values), values["MIGRATE_ON_START"]
    )


def load_settings(env: Mapping[str, str] | None = None, *, demo: bool = False) -> Settings:
    """Read every CAREERS_* value, collect all problems, and fail once with all of them."""
    values, problems = _read(os.environ if env is None else env, _TABLE)

    sub, feed = values["PERSONIO_SUBDOMAIN"], values["PERSONIO_FEED_URL"]
    if not sub and not feed and not any(p.startswith(PREFIX + "PERSONIO_") for p in problems):
        problems.append(
            f"{PREFIX}PERSONIO_SUBDOMAIN: required (or set {PREFIX}PERSONIO_FEED_URL), "
            "e.g. 'acme' for https://acme.jobs.personio.de/xml"
        )
    credentials = ("PERSONIO_COMPANY_ID", "PERSONIO_RECRUITING_TOKEN")
    if bool(values["PERSONIO_COMPANY_ID"]) != bool(
        values["PERSONIO_RECRUITING_TOKEN"]
    ) and not _failed(problems).intersection(credentials):
        missing = (
            "PERSONIO_RECRUITING_TOKEN" if values["PERSONIO_COMPANY_ID"] else "PERSONIO_COMPANY_ID"
        )
        problems.append(
            f"{PREFIX}{missing}: required together with the other Recruiting API credential "
            "(set both, or neither for read-only mode)"
        )
    secret = values["SECRET_KEY"]
    if secret is None and "SECRET_KEY" not in _failed(problems):
        if demo:
            secret = secrets.token_urlsafe(32)
        else:
            problems.append(
                f"{PREFIX}SECRET_KEY: required (e.g. the output of `openssl rand -hex 32`)"
            )
    if values["SMTP_URL"] and not values["MAIL_FROM"] and "MAIL_FROM" not in _failed(problems):
        problems.append(
            f"{PREFIX}MAIL_FROM: required with {PREFIX}SMTP_URL, e.g. 'Acme Careers <jobs@acme.com>'"
        )
    if values["SMTP_URL"] and not values["PUBLIC_URL"] and "PUBLIC_URL" not in _failed(problems):
        problems.append(
            f"{PREFIX}PUBLIC_URL: required with {PREFIX}SMTP_URL: links in mails need the"
            " site's public address, e.g. https://jobs.acme.com"
        )
    if values["ALERT_EMAIL"] and not values["SMTP_URL"] and "SMTP_URL" not in _failed(problems):
        problems.append(f"{PREFIX}SMTP_URL: required to send {PREFIX}ALERT_EMAIL mails")
    privacy_url = values["PRIVACY_URL"] or _privacy_default(sub, feed)
    if not privacy_url and "PRIVACY_URL" not in _failed(problems):
        # Candidates consent to a policy they must be able to read: a site that takes their
        # data never runs without one. A read-only board collects nothing and needs none.
        collects = []
        if values["PERSONIO_COMPANY_ID"] and values["PERSONIO_RECRUITING_TOKEN"]:
            collects.append(f"applications ({PREFIX}PERSONIO_COMPANY_ID and _RECRUITING_TOKEN)")
        if values["SMTP_URL"]:
            collects.append(f"job alerts ({PREFIX}SMTP_URL)")
        if collects:
            problems.append(
                f"{PREFIX}PRIVACY_URL: required to take {' and '.join(collects)}: the consent"
                " checkbox links your privacy policy, e.g. https://www.acme.com/privacy"
                " (derived only for a feed on Personio's career site)"
            )
    form = FormSchema()
    if values["FORM_FILE"] is not None and values["LANGUAGES"]:
        try:
            form = load_form(values["FORM_FILE"], values["LANGUAGES"])
        except (FormFileError, OSError, UnicodeDecodeError) as exc:
            problems.append(f"{PREFIX}FORM_FILE: {exc}")
    if problems:
        raise ConfigError(problems)

    data_dir: Path = values["DATA_DIR"]
    return Settings(
        personio_subdomain=sub or "",
        personio_feed_url=feed or f"https://{sub}.jobs.personio.de/xml",
        personio_api_url=values["PERSONIO_API_URL"],
        personio_company_id=values["PERSONIO_COMPANY_ID"],
        personio_recruiting_token=values["PERSONIO_RECRUITING_TOKEN"],
        personio_rate_limit=values["PERSONIO_RATE_LIMIT"],
        languages=values["LANGUAGES"],
        feed_ttl=values["FEED_TTL"],
        data_dir=data_dir,
        database_url=_database_default(values),
        secret_key=secret,
        metrics_token=values["METRICS_TOKEN"],
        public_url=values["PUBLIC_URL"],
        company_name=values["COMPANY_NAME"] or _account_name(sub, feed),
        privacy_url=privacy_url,
        frame_ancestors=values["FRAME_ANCESTORS"] or (),
        channels=values["CHANNELS"] or {},
        remote_countries=values["REMOTE_COUNTRIES"] or (),
        default_country=values["DEFAULT_COUNTRY"],
        form_file=values["FORM_FILE"],
        form=form,
        allowed_extensions=values["ALLOWED_EXTENSIONS"],
        min_fill_seconds=values["MIN_FILL_SECONDS"],
        submit_rate_limit=values["SUBMIT_RATE_LIMIT"],
        timezone=values["TIMEZONE"],
        logo_file=values["LOGO_FILE"],
        stylesheet_file=values["STYLESHEET_FILE"],
        imprint_url=values["IMPRINT_URL"],
        smtp_url=values["SMTP_URL"],
        mail_from=values["MAIL_FROM"],
        alert_emails=values["ALERT_EMAIL"] or (),
        alert_webhook_url=values["ALERT_WEBHOOK_URL"],
        alert_interval=values["ALERT_INTERVAL"],
        alert_feed_after=values["ALERT_FEED_AFTER"],
        alert_backlog_after=values["ALERT_BACKLOG_AFTER"],
        trusted_proxies=values["TRUSTED_PROXIES"],
        migrate_on_start=values["MIGRATE_ON_START"],
    )


# CAREERS_* names that are read but are not settings: the test suite's own (tests/pg.py,
# tests/browser.py), so a developer's shell that sets them is not warned about.
_NOT_SETTINGS = frozenset({"CAREERS_TEST_POSTGRES", "CAREERS_TEST_CHROMIUM"})


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """CAREERS_* variables that nothing reads, a typo or a retired name, sorted; each with
    the setting it probably means: "CAREERS_X (did you mean CAREERS_Y?)". A lower-case
    `careers_…` counts too: it looks like a setting and is silently not one."""
    from difflib import get_close_matches

    found = []
    for name in sorted(env):
        if not name.upper().startswith(PREFIX) or name in _NOT_SETTINGS:
            continue
        suffix = name.upper()[len(PREFIX) :]
        if name == PREFIX + suffix and suffix in _TABLE:
            continue  # a setting
        # Compared without the prefix, which every name shares and would make all look alike.
        close = get_close_matches(suffix, list(_TABLE), n=1) or _sharing_words(suffix)
        if close:
            found.append(f"{name} (did you mean {' or '.join(PREFIX + c for c in close)}?)")
        else:
            found.append(f"{name} (not a setting: see the table in docs/operations.md)")
    return found


def _sharing_words(suffix: str) -> list[str]:
    """Settings sharing the most words with a name too far from each to be a typo, as
    CAREERS_TOKEN from CAREERS_METRICS_TOKEN: at most three, so the line stays short."""
    words = set(suffix.split("_")) - {""}
    scored = [(len(words & set(setting.split("_"))), setting) for setting in _TABLE]
    best = max((score for score, _ in scored), default=0)
    matches = sorted(setting for score, setting in scored if score == best and best > 0)
    return matches if len(matches) <= 3 else []
