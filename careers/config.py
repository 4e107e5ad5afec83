"""Settings from `CAREERS_*` variables, read and checked in one place (docs/operations.md).

Each setting is declared once, as a field of `Settings`: its type, and through `setting()`
how its variable (CAREERS_ and the field's name in capitals) is parsed, what it is when
unset, and whether it is a secret that `repr` hides. The reader, the list of known names
and the docs check (tests/test_config.py: a row in docs/operations.md's table) all come
from those fields, so adding a setting is one line here and one row there. A rule between
settings (one that needs another) is a function of its own in `RULES`.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from . import branding
from . import config_parsers as parse
from .accounts import DEFAULT_KEY, Account, AccountsFileError, Defaults, load_accounts, site_of
from .applications.form import FormFileError, FormSchema, load_form
from .applications.pay_history import pay_history_problem
from .jobs.pay import PayRule, pay_rule
from .network import LOOPBACK, Network, parse_trusted_proxies
from .personio.vocabulary import EXTENSIONS
from .ratelimit import RateLimit

PREFIX = "CAREERS_"
T = TypeVar("T")


class ConfigError(Exception):
    """Bad configuration: one line per problem, each naming the variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# -- the declarations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """How one setting is read: what `setting()` leaves in its field's metadata."""

    parse: Callable[[str], Any]
    default: Any  # the value when the variable is unset or blank; "" often means "derived"
    secret: bool  # `repr` shows '***' (a token, a key, a URL that may carry a password)
    variable: str  # without CAREERS_


def setting(parse: Callable[[str], T], default: T, *, secret: bool = False, env: str = "") -> T:
    """Declare a field of `Settings` as read from CAREERS_<FIELD NAME> (or CAREERS_<env>).
    Typed as the value so mypy holds parser, default and annotation to one type. The field
    has no dataclass default: only `load_settings` builds `Settings`, with every field."""
    found: T = field(metadata={"setting": Spec(parse, default, secret, env)})
    return found


def _shown(instance: Any) -> str:
    """`Name(...)` with every secret as '***': never let one reach a log line or a traceback."""
    shown = {
        f.name: "***" if f.name in SECRETS else getattr(instance, f.name) for f in fields(instance)
    }
    return f"{type(instance).__name__}({shown})"


@dataclass(frozen=True)
class StorageSettings:
    """What the stores need: enough for `careers outbox`, which touches nothing else. Its
    fields are settings of the same names, read alone by `load_storage_settings`."""

    data_dir: Path
    database_url: str
    migrate_on_start: bool = True

    @property
    def postgres(self) -> bool:
        """Several hosts share one PostgreSQL; otherwise SQLite in the data directory."""
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file of `sqlite:///relative.db` or `sqlite:////absolute.db`."""
        return Path(self.database_url.removeprefix("sqlite:///"))

    __repr__ = _shown


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Typed, validated configuration; everything else receives this, never os.environ.
    In the order of docs/operations.md's table; what each means is said there."""

    personio_subdomain: str = setting(parse.subdomain, "")  # or the feed URL: one is required
    personio_feed_url: str = setting(parse.url, "")  # derived from the subdomain
    # Where the account's career site is: <subdomain>.<domain> (docs/personio.md, "Hosts").
    personio_domain: str = setting(parse.personio_domain, "jobs.personio.de")
    personio_api_url: str = setting(parse.url, "https://api.personio.de")
    # Without both Recruiting API credentials the site is read-only (see `read_only`).
    personio_company_id: str = setting(parse.company_id, "")
    personio_recruiting_token: str = setting(parse.token, "", secret=True)
    # An OAuth 2.0 client for API v2 (docs/personio.md §2.4); with both, v2 is used, not v1.
    personio_client_id: str = setting(parse.token, "", secret=True)
    personio_client_secret: str = setting(parse.token, "", secret=True)
    personio_rate_limit: RateLimit = setting(parse.rate, RateLimit(20, 60))
    languages: tuple[str, ...] = setting(parse.languages, ("en", "de"))
    timezone: str = setting(parse.timezone, "Europe/Berlin")
    logo_file: Path | None = setting(branding.logo_file, None)
    stylesheet_file: Path | None = setting(branding.stylesheet_file, None)
    imprint_url: str = setting(parse.url, "")
    feed_ttl: int = setting(parse.positive_int, 300)
    data_dir: Path = setting(Path, Path("./instance"))
    database_url: str = setting(parse.database_url, "", secret=True)  # derived: SQLite in data_dir
    # Start-up applies pending schema migrations (careers/db/migrate.py);
    # off for operators who run `careers db upgrade` as a job of their own.
    migrate_on_start: bool = setting(parse.boolean, True)
    secret_key: str = setting(parse.secret_key, "", secret=True)  # required; random in the demo
    public_url: str = setting(parse.url, "")
    metrics_token: str = setting(parse.metrics_token, "", secret=True)
    company_name: str = setting(str.strip, "")  # derived from the Personio account
    privacy_url: str = setting(parse.url, "")  # derived for Personio's feeds, see RULES
    frame_ancestors: tuple[str, ...] = setting(parse.origins, ())
    form_file: Path | None = setting(parse.existing_file, None)
    form: FormSchema  # read from form_file in the languages above
    # ISO 3166-1 alpha-2, for offices that name no country (JSON-LD addressCountry, remote).
    default_country: str = setting(parse.country, "")
    remote_countries: tuple[str, ...] = setting(parse.comma_list, ())
    channels: Mapping[str, int] = setting(parse.channels, MappingProxyType({}))
    # On by default: the EU Pay Transparency Directive applies since June 2026 (docs/operations.md#pay-transparency).
    pay_transparency: PayRule = setting(pay_rule, PayRule.EU)
    # Open applications (docs/referrals.md): a published position kept off the board.
    open_application_job: int | None = setting(parse.position_id, None)
    # Referrals (docs/referrals.md): the channel "refer someone" links carry, and where the
    # referrer's name goes: a tag `referred_by:<name>` (Personio creates it), a custom
    # applicant attribute (`custom_attribute_<n>`), or nowhere (`off`: not asked).
    referral_channel: int | None = setting(parse.channel_id, None)
    referrer_field: str = setting(parse.referrer_field, "tag")
    # The form of address in pages and candidates' mails: "Sie" or "du" (docs/languages.md).
    address: str = setting(parse.form_of_address, "formal")
    allowed_extensions: tuple[str, ...] = setting(parse.extensions, EXTENSIONS)
    min_fill_seconds: int = setting(parse.non_negative_int, 3)
    submit_rate_limit: RateLimit = setting(parse.rate, RateLimit(5, 600))
    # Proxies whose X-Forwarded-* headers are believed (network.py, web/proxy.py).
    trusted_proxies: tuple[Network, ...] = setting(parse_trusted_proxies, LOOPBACK)
    # Mail (docs/mail.md): off without CAREERS_SMTP_URL.
    smtp_url: str = setting(parse.smtp_url, "", secret=True)
    mail_from: str = setting(parse.mail_from, "")
    alert_emails: tuple[str, ...] = setting(parse.addresses, (), env="ALERT_EMAIL")
    # Recruiters who get the weekly funnel mail (docs/funnel.md), in the site's language.
    report_emails: tuple[str, ...] = setting(parse.addresses, (), env="REPORT_EMAIL")
    alert_webhook_url: str = setting(parse.url, "")
    alert_interval: int = setting(parse.positive_int, 3600)
    alert_feed_after: int = setting(parse.positive_int, 1800)
    alert_backlog_after: int = setting(parse.positive_int, 3600)
    # Several Personio accounts (docs/accounts.md); without it, one from the variables above.
    accounts_file: Path | None = setting(parse.existing_file, None)
    accounts: tuple[Account, ...]  # read from accounts_file, or the implicit one (key "")

    def account(self, key: str) -> Account:
        """The account of `key`; "" (rows and jobs from before accounts) is the first."""
        if key == DEFAULT_KEY:
            return self.accounts[0]
        for account in self.accounts:
            if account.key == key:
                return account
        raise KeyError(key)

    @property
    def several_accounts(self) -> bool:
        """CAREERS_ACCOUNTS_FILE lists more than one account."""
        return len(self.accounts) > 1

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
        return StorageSettings(**{f.name: getattr(self, f.name) for f in fields(StorageSettings)})

    @property
    def informal(self) -> bool:
        """Pages and candidates' mails address the reader informally ("du", "tu", "jij")."""
        return self.address == "informal"

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def personio_api_version(self) -> int:
        """2 with an OAuth client (v1's key is then not used), else 1 (docs/operations.md)."""
        return 2 if self.personio_client_id and self.personio_client_secret else 1

    @property
    def read_only(self) -> bool:
        """Without Recruiting API credentials, applications go to Personio's own page
        (docs/operations.md); with several accounts, only when none of them has any."""
        return all(account.read_only for account in self.accounts)

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
        """Base of Personio's hosted career site (the first account's), for 'apply on
        Personio' links."""
        return self.accounts[0].site_url

    __repr__ = _shown


# CAREERS_* names without the prefix → the field each fills and how, in declaration order;
# a field without a declaration (the form) is derived from others.
VARIABLES: dict[str, tuple[str, Spec]] = {
    declared.variable or f.name.upper(): (f.name, declared)
    for f in fields(Settings)
    if (declared := f.metadata.get("setting"))
}
SECRETS = frozenset(name for name, declared in VARIABLES.values() if declared.secret)


# -- reading: every variable parsed, every problem noted, then the rules between them ----------


class Values(dict[str, Any]):
    """Parsed values by field name; a variable that failed to parse is None and in `failed`,
    so the rules below never add a second line about it."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: set[str] = set()

    def missing(self, name: str) -> bool:
        """Unset, not merely unparsable: a rule may then say it is required."""
        return not self[name] and name not in self.failed


def _read(env: Mapping[str, str], names: Iterable[str]) -> tuple[Values, list[str]]:
    """Parse the named variables; a problem is noted (naming the variable), never raised."""
    values, problems = Values(), []
    for name in names:
        attribute, declared = VARIABLES[name]
        raw = (env.get(PREFIX + name) or "").strip()
        try:
            values[attribute] = declared.parse(raw) if raw else declared.default
        except ValueError as exc:
            problems.append(f"{PREFIX}{name}: {exc}")
            values[attribute] = None
            values.failed.add(attribute)
    return values, problems


def _feed_named(v: Values, demo: bool) -> Iterator[str]:
    """A site shows some account's jobs: a subdomain or a feed URL."""
    personio_failed = any(name.startswith("personio_") for name in v.failed)
    if v["accounts_file"] or "accounts_file" in v.failed:
        yield from _accounts_alone(v)
        return
    if not v["personio_subdomain"] and not v["personio_feed_url"] and not personio_failed:
        yield (
            f"{PREFIX}PERSONIO_SUBDOMAIN: required (or set {PREFIX}PERSONIO_FEED_URL), "
            "e.g. 'acme' for https://acme.jobs.personio.de/xml"
        )


def _credentials_paired(v: Values, demo: bool) -> Iterator[str]:
    """Applications need both Recruiting API credentials (v1's key or v2's OAuth client);
    one alone is a mistake."""
    if v["accounts_file"]:
        return  # each account's, checked with the file
    for pair in (
        ("personio_company_id", "personio_recruiting_token"),
        ("personio_client_id", "personio_client_secret"),
    ):
        for given, missing in (pair, pair[::-1]):
            if v[given] and v.missing(missing):
                yield (
                    f"{PREFIX}{missing.upper()}: required together with {PREFIX}{given.upper()}"
                    " (set both, or neither)"
                )


def _secret_given(v: Values, demo: bool) -> Iterator[str]:
    """Forms and receipts are signed: production needs a key that outlives the process."""
    if v.missing("secret_key") and not demo:
        yield f"{PREFIX}SECRET_KEY: required (e.g. the output of `openssl rand -hex 32`)"


def _mail_complete(v: Values, demo: bool) -> Iterator[str]:
    """Mail needs a sender and the site's address for its links; alert mail needs a server."""
    if v["smtp_url"] and v.missing("mail_from"):
        yield (
            f"{PREFIX}MAIL_FROM: required with {PREFIX}SMTP_URL, e.g. 'Acme Careers <jobs@acme.com>'"
        )
    if v["smtp_url"] and v.missing("public_url"):
        yield (
            f"{PREFIX}PUBLIC_URL: required with {PREFIX}SMTP_URL: links in mails need the"
            " site's public address, e.g. https://jobs.acme.com"
        )
    if v["alert_emails"] and v.missing("smtp_url"):
        yield f"{PREFIX}SMTP_URL: required to send {PREFIX}ALERT_EMAIL mails"
    if v["report_emails"] and v.missing("smtp_url"):
        yield f"{PREFIX}SMTP_URL: required to send {PREFIX}REPORT_EMAIL mails"


def _privacy_policy_named(v: Values, demo: bool) -> Iterator[str]:
    """Candidates consent to a policy they must be able to read: a site that takes their
    data never runs without one. A read-only board collects nothing and needs none."""
    if v["accounts_file"] or "accounts_file" in v.failed:
        return  # each account's, and the site's for job alerts: see _accounts
    if not v.missing("privacy_url") or _privacy_default(v):
        return
    collects = []
    if v["personio_company_id"] and v["personio_recruiting_token"]:
        collects.append(f"applications ({PREFIX}PERSONIO_COMPANY_ID and _RECRUITING_TOKEN)")
    elif v["personio_client_id"] and v["personio_client_secret"]:
        collects.append(f"applications ({PREFIX}PERSONIO_CLIENT_ID and _CLIENT_SECRET)")
    if v["smtp_url"]:
        collects.append(f"job alerts ({PREFIX}SMTP_URL)")
    if collects:
        yield (
            f"{PREFIX}PRIVACY_URL: required to take {' and '.join(collects)}: the consent"
            " checkbox links your privacy policy, e.g. https://www.acme.com/privacy"
            " (derived only for a feed on Personio's career site)"
        )


# The variables an account in CAREERS_ACCOUNTS_FILE says for itself.
PER_ACCOUNT = (
    "personio_subdomain",
    "personio_feed_url",
    "personio_company_id",
    "personio_recruiting_token",
    "personio_client_id",
    "personio_client_secret",
)


def _accounts_alone(v: Values) -> Iterator[str]:
    """With the accounts file, an account's own variables set too would be ignored: say so."""
    for name in PER_ACCOUNT:
        if v[name]:
            yield (
                f"{PREFIX}{name.upper()}: not used with {PREFIX}ACCOUNTS_FILE: give it in"
                " the account's table of the file (docs/accounts.md)"
            )


RULES: tuple[Callable[[Values, bool], Iterator[str]], ...] = (
    _feed_named,
    _credentials_paired,
    _secret_given,
    _mail_complete,
    _privacy_policy_named,
)


def _form(v: Values) -> tuple[FormSchema, list[str]]:
    """The application form of CAREERS_FORM_FILE, checked in every configured language."""
    if v["form_file"] is None or not v["languages"]:
        return FormSchema(), []
    try:
        form = load_form(v["form_file"], v["languages"])
    except (FormFileError, OSError, UnicodeDecodeError) as exc:
        return FormSchema(), [f"{PREFIX}FORM_FILE: {exc}"]
    asks_pay = pay_history_problem(form) if v["pay_transparency"] not in (None, PayRule.OFF) else ""
    return form, [f"{PREFIX}FORM_FILE: {asks_pay}"] if asks_pay else []


def _referrer_field_free(v: Values, form: FormSchema) -> Iterator[str]:
    """The referrer's attribute is asked by careers itself (web/referrals.py): the form
    file asking it too would send one attribute twice."""
    if any(extra.id == v["referrer_field"] for extra in form.fields):
        yield (
            f"{PREFIX}REFERRER_FIELD: {v['referrer_field']} is also a field of"
            f" {PREFIX}FORM_FILE; choose another attribute or drop that field"
        )


def load_settings(env: Mapping[str, str] | None = None, *, demo: bool = False) -> Settings:
    """Read every CAREERS_* value, collect all problems, and fail once with all of them."""
    v, problems = _read(os.environ if env is None else env, VARIABLES)
    for rule in RULES:
        problems.extend(rule(v, demo))
    form, form_problems = _form(v)
    form_problems.extend(_referrer_field_free(v, form))
    accounts, account_problems = _accounts(v, form, os.environ if env is None else env)
    if problems := problems + form_problems + account_problems:
        raise ConfigError(problems)

    # What an unset setting stands for when others name it.
    sub, feed = v["personio_subdomain"], v["personio_feed_url"]
    v["privacy_url"] = v["privacy_url"] or _privacy_default(v)
    v["personio_feed_url"] = feed or f"https://{sub}.{v['personio_domain']}/xml"
    v["company_name"] = v["company_name"] or _account_name(sub, feed)
    v["database_url"] = _database_default(v)
    v["secret_key"] = v["secret_key"] or secrets.token_urlsafe(32)  # the demo's (_secret_given)
    if not accounts:
        accounts = (_implicit_account(v, form),)
    return Settings(**v, form=form, accounts=accounts)


def _implicit_account(v: Values, form: FormSchema) -> Account:
    """The one account of the CAREERS_PERSONIO_* variables (values already derived)."""
    return Account(
        key=DEFAULT_KEY,
        name=v["company_name"],
        feed_url=v["personio_feed_url"],
        api_url=v["personio_api_url"],
        company_id=v["personio_company_id"],
        recruiting_token=v["personio_recruiting_token"],
        client_id=v["personio_client_id"],
        client_secret=v["personio_client_secret"],
        languages=v["languages"],
        form=form,
        privacy_url=v["privacy_url"],
        rate_limit=v["personio_rate_limit"],
        site_url=site_of(v["personio_subdomain"], v["personio_domain"], v["personio_feed_url"]),
    )


def _accounts(
    v: Values, form: FormSchema, env: Mapping[str, str]
) -> tuple[tuple[Account, ...], list[str]]:
    """The accounts of CAREERS_ACCOUNTS_FILE, every problem prefixed with the variable; the
    first account also fills the CAREERS_PERSONIO_* values, for what speaks of one account
    (the site's name and privacy policy when not set, `careers check`'s first line)."""
    path = v["accounts_file"]
    if path is None or not v["languages"] or v["personio_rate_limit"] is None:
        return (), []

    def privacy(sub: str, domain: str, feed: str) -> str:
        return _privacy_default(
            {"personio_subdomain": sub, "personio_domain": domain, "personio_feed_url": feed}
        )

    def form_problem(found: FormSchema) -> str:
        rule = v["pay_transparency"]
        return pay_history_problem(found) if rule not in (None, PayRule.OFF) else ""

    defaults = Defaults(
        languages=v["languages"],
        rate_limit=v["personio_rate_limit"],
        api_url=v["personio_api_url"] or "https://api.personio.de",
        domain=v["personio_domain"] or "jobs.personio.de",
        form=form,
        privacy_url=v["privacy_url"] or "",
        privacy_default=privacy,
        form_problem=form_problem,
    )
    try:
        accounts = load_accounts(path, defaults, env)
    except AccountsFileError as exc:
        return (), [f"{PREFIX}ACCOUNTS_FILE: {problem}" for problem in exc.problems]
    clashing = [
        a.key
        for a in accounts
        if a.form is not form and any(f.id == v["referrer_field"] for f in a.form.fields)
    ]
    if clashing:
        return (), [
            f"{PREFIX}REFERRER_FIELD: {v['referrer_field']} is also a field of the form file of"
            f" account {', '.join(clashing)} ({PREFIX}ACCOUNTS_FILE); choose another"
            " attribute or drop that field"
        ]
    offered = {lang for account in accounts for lang in account.languages}
    if missing := [lang for lang in v["languages"] if lang not in offered]:
        return (), [
            f"{PREFIX}LANGUAGES: {', '.join(missing)} offered by no account of"
            f" {PREFIX}ACCOUNTS_FILE: its pages would never have a job; drop it, or add it"
            " to an account's languages"
        ]
    first = accounts[0]
    v["personio_feed_url"] = first.feed_url
    v["personio_api_url"] = first.api_url
    v["company_name"] = v["company_name"] or first.name
    v["privacy_url"] = v["privacy_url"] or first.privacy_url
    if v["smtp_url"] and not v["privacy_url"]:
        return (), [
            f"{PREFIX}PRIVACY_URL: required to take job alerts ({PREFIX}SMTP_URL): the"
            " consent checkbox links your privacy policy"
        ]
    return accounts, []


def load_storage_settings(env: Mapping[str, str] | None = None) -> StorageSettings:
    """Only the settings StorageSettings holds (CAREERS_DATA_DIR, _DATABASE_URL and
    _MIGRATE_ON_START): what the outbox and database commands need."""
    names = [f.name.upper() for f in fields(StorageSettings)]
    v, problems = _read(os.environ if env is None else env, names)
    if problems:
        raise ConfigError(problems)
    v["database_url"] = _database_default(v)
    return StorageSettings(**v)


def _database_default(v: Values) -> str:
    return v["database_url"] or f"sqlite:///{v['data_dir'] / 'careers.db'}"


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


def _privacy_default(v: Mapping[str, Any]) -> str:
    """The account's privacy policy on Personio's career site, when the feed is Personio's
    (docs/personio.md §1); "" when nothing names one."""
    sub, feed = v["personio_subdomain"], v["personio_feed_url"]
    if sub and v["personio_domain"]:
        return f"https://{sub}.{v['personio_domain']}/privacy-policy"
    if feed and personio_account(feed):
        return f"https://{urlsplit(feed).hostname}/privacy-policy"
    return ""


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
        if name == PREFIX + suffix and suffix in VARIABLES:
            continue  # a setting
        # Compared without the prefix, which every name shares and would make all look alike.
        close = get_close_matches(suffix, list(VARIABLES), n=1) or _sharing_words(suffix)
        if close:
            found.append(f"{name} (did you mean {' or '.join(PREFIX + c for c in close)}?)")
        else:
            found.append(f"{name} (not a setting: see the table in docs/operations.md)")
    return found


def _sharing_words(suffix: str) -> list[str]:
    """Settings sharing the most words with a name too far from each to be a typo, as
    CAREERS_TOKEN from CAREERS_METRICS_TOKEN: at most three, so the line stays short."""
    words = set(suffix.split("_")) - {""}
    scored = [(len(words & set(setting.split("_"))), setting) for setting in VARIABLES]
    best = max((score for score, _ in scored), default=0)
    matches = sorted(setting for score, setting in scored if score == best and best > 0)
    return matches if len(matches) <= 3 else []
