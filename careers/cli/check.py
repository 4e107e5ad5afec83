"""`careers check`: can this installation serve, and is what it talks to set up right?

Run before every start (the systemd unit in docs/deployment.md has it as `ExecStartPre`), so
its exit code separates what an operator must fix from what passes by itself: a feed that
is unreachable while a last good copy is on disk is a warning, because `serve` would serve
that copy; a feed address that answers with something other than a feed is a failure.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import click
import httpx
import psycopg
from psycopg.conninfo import conninfo_to_dict

from ..accounts import Account
from ..applications.delivery import RATE_KEY, budget_window, rate_key
from ..config import (
    ConfigError,
    Settings,
    StorageSettings,
    load_settings,
    unknown_variables,
)
from ..db.ratelimit import RateLimiter
from ..jobs import pay
from ..jobs.pay import PayRule
from ..jobs.store import FeedStore
from ..personio.diagnosis import Condition, diagnose, empty_board
from ..personio.feed import FeedClient, FeedError, parse_feed
from ..personio.model import Position
from ..ratelimit import RateLimit
from ..services import recruiting_client, schema_versions
from ..store_errors import StoreUnavailable
from ..web.seo import job_posting, missing_properties
from .common import exit_with, libmagic_problem, services_or_exit, warn_unknown_variables

# The slowest a start may be held up waiting for the deployment's own Personio budget.
BUDGET_WAIT = 30.0
MAIL_CONNECT_TIMEOUT = 10.0  # seconds; verify_server's own default
# An answer to `{}` needs no upload time: a start need not wait delivery's 30 s for it.
PROBE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Feed failures that mean "no answer now", as an outage looks; every other failure means
# the address answers with something that is not a feed (docs/troubleshooting.md).
UNREACHABLE_REASONS = frozenset({"timeout", "transport", "malformed", "empty_body", "too_large"})
# HTTP statuses of a feed host that is there but unwell (or busy): worth waiting for.
UNWELL_STATUSES = frozenset({408, 425, 429})
HINTS = {
    "not_xml": "is the XML feed switched on in Personio, and is CAREERS_PERSONIO_SUBDOMAIN"
    " the account name only?",
    "redirect": "an old acme-jobs host or a disabled feed: set only CAREERS_PERSONIO_SUBDOMAIN",
    "wrong_root": "some XML, but not Personio's feed: check CAREERS_PERSONIO_FEED_URL",
    "dtd": "no Personio feed declares a DTD: check CAREERS_PERSONIO_FEED_URL",
    "http_status": "no feed at this address: check CAREERS_PERSONIO_SUBDOMAIN (or"
    " CAREERS_PERSONIO_FEED_URL, which must be the career site's /xml)",
}

Resolver = Callable[[str, Any], object]


class Report:
    """Prints each check's line and keeps count; the exit code follows from the counts."""

    def __init__(self) -> None:
        self.failures = self.warnings = 0
        self.broken_install = False  # serve would refuse to start too: exit 2

    def ok(self, line: str) -> None:
        click.echo(line)

    def warn(self, line: str) -> None:
        self.warnings += 1
        click.echo(line)

    def fail(self, line: str) -> None:
        self.failures += 1
        click.echo(line)

    def finish(self) -> int:
        """The summary line, and the exit code documented in the command's help."""
        if self.failures:
            click.echo(f"careers check: FAILED ({_count(self.failures, 'problem')})")
        elif self.warnings:
            click.echo(f"careers check: ok, with {_count(self.warnings, 'warning')}")
        else:
            click.echo("careers check: ok")
        return 2 if self.broken_install else 1 if self.failures else 0


@click.command("check")
def command() -> None:
    """Check the configuration and what it points at: libmagic, the Recruiting API key
    (one request of Personio's budget; nothing is created), every feed language, the mail
    server. Run it before every start (docs/deployment.md).

    \b
    Exit codes:
      0  the site can serve, warnings included: a feed that is unreachable while its
         last good copy is served, an unreachable Recruiting API or mail server
      1  it cannot: a wrong feed address, an unreachable feed without a copy, a key
         Personio rejects, a mail server that refuses the login or the TLS, a database
         that cannot be reached
      2  the configuration or the installation is wrong: a bad setting, no libmagic,
         a data directory that cannot be used, a schema this release cannot use
    """
    try:
        settings = load_settings()
    except ConfigError as exc:
        # A misspelt name is often why a setting is missing: name it with the errors.
        warn_unknown_variables(os.environ)
        exit_with(exc)
    report = Report()
    if settings.several_accounts:
        keys = ", ".join(account.key for account in settings.accounts)
        click.echo(f"configuration ok; {len(settings.accounts)} Personio accounts: {keys}")
        for account in settings.accounts:
            click.echo(f"account {account.key}: {account.name}, feed {account.feed_url}")
    else:
        click.echo(f"configuration ok; feed {settings.personio_feed_url}")
    for account in settings.accounts:
        mode = (
            "read-only (apply on Personio)"
            if account.read_only
            else f"applications via Recruiting API v{account.api_version}"
        )
        click.echo(f"mode{_whose(settings, account)}: {mode}")
    _check_variables(report)
    _check_company_name(settings, report)
    _check_libmagic(report)
    if _check_database(settings, report):
        services = services_or_exit(settings)  # also proves the data directory usable
        try:
            for account in settings.accounts:
                budget = services.limiter(
                    account.rate_limit.count, budget_window(account.rate_limit)
                )
                _check_recruiting(settings, account, budget, report)
            stores = {key: feed.store for key, feed in services.catalogue.per_account()}
            _check_feeds(settings, stores, report)
        finally:
            services.close()
    else:  # what can be judged without the database; the copies on this host's disk
        for account in settings.accounts:
            _check_recruiting(settings, account, None, report)
        stores = {a.key: FeedStore(settings.data_dir, a.key) for a in settings.accounts}
        _check_feeds(settings, stores, report)
    _check_mail(settings, report)
    sys.exit(report.finish())


# Text after a space and a `#`: a comment that systemd keeps as part of the value.
TRAILING_COMMENT = re.compile(r"\s#")


def _check_variables(report: Report) -> None:
    """Names nothing reads, and values that carry what looks like a comment."""
    for item in unknown_variables(os.environ):
        report.warn(f"variables: WARNING unknown variable {item}")
    for name in sorted(os.environ):
        if name.startswith("CAREERS_") and TRAILING_COMMENT.search(os.environ[name]):
            report.warn(
                f"variables: WARNING {name} holds what looks like a comment (' #…'), which"
                " systemd keeps as part of the value: put comments on lines of their own"
            )


def _check_company_name(settings: Settings, report: Report) -> None:
    """Titles, mails and JSON-LD name the company; a host name there is a mistake."""
    if settings.company_named_after_host:
        report.warn(
            f"company name: WARNING CAREERS_COMPANY_NAME is not set, so pages, mails and"
            f" JSON-LD name the company {settings.company_name!r} after the feed's host"
        )
    else:
        report.ok(f"company name: {settings.company_name}")


# -- the database ------------------------------------------------------------------------------


def _where(storage: StorageSettings) -> str:
    """`PostgreSQL db.internal:5432/careers` or `SQLite /var/lib/careers/careers.db`: where
    the data are, never the user's password."""
    if not storage.postgres:
        return f"SQLite {storage.sqlite_path}"
    try:
        params = conninfo_to_dict(storage.database_url)
    except psycopg.ProgrammingError:
        return "PostgreSQL (a URL libpq cannot read)"
    host = str(params.get("host") or "localhost")
    where = f"socket {host}" if host.startswith("/") else host
    return f"PostgreSQL {where}:{params.get('port') or 5432}/{params.get('dbname') or '?'}"


def _check_database(settings: Settings, report: Report) -> bool:
    """Where the outbox lives and whether this release can use its schema; True when the
    stores can be opened. An unreachable database is a failure like an unreachable feed
    (it may pass by itself); a bad URL, or a schema out of step with the release, is an
    installation to fix (exit 2), as `serve` would refuse it too."""
    where = _where(settings.storage)
    try:
        # A file it cannot read, or tables careers did not make, are configuration errors.
        current, latest = schema_versions(settings.storage)
    except ConfigError as exc:
        exit_with(exc)
    except StoreUnavailable as exc:
        report.fail(
            f"database: FAILED {where} cannot be reached ({exc}): nothing can be stored"
            " until it answers"
        )
        return False
    if current == 0:
        report.ok(f"database: {where}, empty: schema version {latest} is created at start")
        return True
    if current == latest:
        report.ok(f"database: {where}, schema version {current} (current)")
        return True
    if current < latest and settings.migrate_on_start:
        report.warn(
            f"database: WARNING {where}, schema version {current}, this release needs"
            f" {latest}: `careers serve`, `careers worker` and `careers demo` migrate it when"
            " they start (CAREERS_MIGRATE_ON_START); the checks that open it wait until then"
        )
        return False
    report.broken_install = True
    if current < latest:
        report.fail(
            f"database: FAILED {where}, schema version {current}, this release needs"
            f" {latest}: run `careers db upgrade` (CAREERS_MIGRATE_ON_START is off)"
        )
    else:
        report.fail(
            f"database: FAILED {where}, schema version {current}, newer than this release"
            f" knows ({latest}): upgrade careers, or restore a backup made by this release"
        )
    return False


def _check_libmagic(report: Report) -> None:
    problem = libmagic_problem()
    if problem is None:
        from ..applications.files import sniff_mimetype

        report.ok(f"libmagic: ok ({sniff_mimetype.ready()})")
        return
    report.broken_install = True
    report.fail(f"libmagic: FAILED {problem}")


# -- the Recruiting API key --------------------------------------------------------------------


def _whose(settings: Settings, account: Account) -> str:
    """` (key)` after what a line is about, on a site of several accounts; else nothing."""
    return f" ({account.key})" if settings.several_accounts else ""


def _check_recruiting(
    settings: Settings, account: Account, budget: RateLimiter | None, report: Report
) -> None:
    """Ask Personio about the account's key (RecruitingClient.check_credentials), paced like
    delivery; without the database (`budget` None) the pace cannot be kept, so it is not
    asked."""
    api = f"recruiting API{_whose(settings, account)}"
    if account.read_only:
        report.ok(
            f"{api}: credentials not configured: candidates apply on Personio's own"
            " page (set CAREERS_PERSONIO_CLIENT_ID and CAREERS_PERSONIO_CLIENT_SECRET for API"
            " v2, or CAREERS_PERSONIO_COMPANY_ID and CAREERS_PERSONIO_RECRUITING_TOKEN for v1,"
            " to take applications here)"
        )
        return
    version = account.api_version
    if version == 2:
        busy: str | None = None  # a token request costs none of the recruiting budget
    elif budget is None:
        busy = "the outbox database cannot be used yet to pace the request"
    else:
        busy = _take_budget_slot(budget, account.rate_limit, rate_key(account.key))
    if busy:
        report.warn(f"{api}: WARNING credentials not checked: {busy}")
        return
    with recruiting_client(account, timeout=PROBE_TIMEOUT) as client:
        result = client.check_credentials()
    if result.outcome == "ok":
        unused = (
            " (CAREERS_PERSONIO_RECRUITING_TOKEN is set but not used)"
            if version == 2 and account.recruiting_token
            else ""
        )
        report.ok(f"{api}: credentials ok, delivery uses API v{version}: {result.detail}{unused}")
    elif result.outcome == "rejected":
        report.fail(f"{api}: FAILED credentials rejected: {result.detail}")
    else:
        report.warn(
            f"{api}: WARNING unreachable ({result.detail}): applications wait in"
            " the outbox until Personio answers"
        )


def _take_budget_slot(budget: RateLimiter, rate: RateLimit, key: str = RATE_KEY) -> str | None:
    """One slot of the deployment's shared Personio budget, as every delivery request takes
    (applications/delivery.py), so a check beside running workers cannot push them into
    429s; None once taken, else why not."""
    deadline = time.monotonic() + BUDGET_WAIT
    try:
        while (wait := budget.hit(key)) > 0:
            if time.monotonic() + wait > deadline:
                return f"the deployment's Personio budget ({rate}) is in use; try again shortly"
            time.sleep(wait)
    except StoreUnavailable:
        return "the outbox database cannot be reached to pace the request"
    return None


# -- the feed ----------------------------------------------------------------------------------


def _check_feeds(settings: Settings, stores: dict[str, FeedStore], report: Report) -> None:
    """Fetch every account's every language now (never the copy on disk) and judge each
    failure; then what the site makes of the boards together."""
    boards: dict[str, list[Position]] = {}
    owners: dict[int, str] = {}
    for account in settings.accounts:
        found = _check_account_feed(settings, account, stores[account.key], report)
        _check_postings(settings, found, report, _whose(settings, account))
        for lang, positions in found.items():
            boards.setdefault(lang, []).extend(positions)
        for position_id in sorted({p.id for positions in found.values() for p in positions}):
            first = owners.setdefault(position_id, account.key)
            if first != account.key:
                # Personio numbers positions across its accounts: only a hand-made feed
                # repeats one. The board keeps the first account's (careers/jobs/board.py).
                report.warn(
                    f"feed ({account.key}): WARNING position {position_id} is also"
                    f" published by account {first}; the board shows {first}'s only"
                )
    _check_pay(settings, boards, report)
    _check_open_application(settings, boards, report)


def _check_account_feed(
    settings: Settings, account: Account, store: FeedStore, report: Report
) -> dict[str, list[Position]]:
    """One account's feed in each of its languages, as Personio serves it now."""
    whose = _whose(settings, account)
    client = FeedClient(account.feed_url)
    boards: dict[str, list[Position]] = {}
    try:
        for lang in account.languages:
            try:
                result = client.fetch(lang)
                positions = parse_feed(result.body or b"")
            except FeedError as exc:
                _feed_failed(lang, exc, account.feed_url, store, report, whose)
                continue
            with_text = sum(1 for p in positions if p.descriptions)
            if not positions:
                report.warn(f"feed {lang}{whose}: WARNING {empty_board(lang).message}")
            else:
                report.ok(
                    f"feed {lang}{whose}: {len(positions)} positions"
                    f" ({with_text} with description text)"
                )
            boards[lang] = positions
    finally:
        client.close()
    return boards


def _check_postings(
    settings: Settings, boards: dict[str, list[Position]], report: Report, whose: str = ""
) -> None:
    """Name every position the site leaves out (no title) or shows without JobPosting data
    (Google for Jobs would reject it: docs/seo.md), with what is missing."""
    texts = {p.id: p.descriptions for board in boards.values() for p in board if p.descriptions}
    for lang, positions in boards.items():
        for position in positions:
            if not position.name.strip():
                report.warn(
                    f"feed {lang}{whose}: WARNING position {position.id} has no title and is not"
                    " published; give it one in Personio"
                )
                continue
            if position.id == settings.open_application_job:
                continue  # off the board, no JobPosting by design (docs/referrals.md)
            if not position.descriptions and position.id in texts:
                # The page borrows another language's text, and so does its JobPosting.
                position = replace(position, descriptions=texts[position.id])
            missing = missing_properties(job_posting(position, canonical_url="", settings=settings))
            if missing:
                report.warn(
                    f"feed {lang}{whose}: WARNING position {position.id} ({position.name}) gets no"
                    f" JobPosting data for Google: no {', '.join(missing)}" + _posting_hint(missing)
                )


def _check_pay(settings: Settings, boards: dict[str, list[Position]], report: Report) -> None:
    """Name every open job whose ad breaks CAREERS_PAY_TRANSPARENCY (careers/jobs/pay.py)."""
    rule = settings.pay_transparency
    if rule is PayRule.OFF:
        report.ok("pay transparency: off (CAREERS_PAY_TRANSPARENCY), nothing checked")
        return
    if not boards:
        return
    # The open-application job is no ad for a post: it states no pay on purpose.
    listed = ([p for p in b if p.id != settings.open_application_job] for b in boards.values())
    found = pay.findings(listed, rule)
    for finding in found:
        report.warn(f"pay transparency ({rule}): WARNING {finding.line()}; fill it in Personio")
    if not found:
        report.ok(f"pay transparency ({rule}): every open job states its pay")


def _check_open_application(
    settings: Settings, boards: dict[str, list[Position]], report: Report
) -> None:
    """CAREERS_OPEN_APPLICATION_JOB must name a position the feed publishes: otherwise the
    list offers no open application, and Personio would refuse the applications anyway."""
    job_id = settings.open_application_job
    if job_id is None or not boards:
        return
    missing = [
        lang for lang, positions in boards.items() if job_id not in {p.id for p in positions}
    ]
    if len(missing) == len(boards):
        report.warn(
            f"open applications: WARNING position {job_id} (CAREERS_OPEN_APPLICATION_JOB) is"
            " not in the feed, so the list offers no open application; publish it in Personio"
            " or correct the id"
        )
    elif missing:
        report.warn(
            f"open applications: WARNING position {job_id} is not in the {', '.join(missing)}"
            " feed; it is offered there in another language's text"
        )
    else:
        report.ok(f"open applications: position {job_id}, kept off the board")


def _posting_hint(missing: list[str]) -> str:
    """What an operator can do about the gap."""
    if "applicantLocationRequirements" in missing:
        return " (set CAREERS_DEFAULT_COUNTRY, or name the country in the office, e.g. 'Remote (Germany)')"
    if "description" in missing:
        return " (the job description is empty in Personio)"
    return ""


def _feed_failed(
    lang: str, exc: FeedError, url: str, store: FeedStore, report: Report, whose: str = ""
) -> None:
    found = diagnose(exc, url, datetime.now(UTC))
    if found.misconfigured:
        # An unknown account, a feed switched off, a moved feed, an address with no feed.
        report.fail(f"feed {lang}{whose}: FAILED ({found.condition}) {found.message}")
        return
    wrong = feed_misconfigured(exc, url)  # what is left: a host name that does not exist
    if wrong is not None:
        report.fail(f"feed {lang}{whose}: FAILED ({exc.reason}) misconfigured: {wrong}")
        return
    what = f"unreachable ({exc.reason}: {exc.detail})" if exc.detail else "unreachable"
    if found.condition is Condition.MAINTENANCE:
        what = found.message
    copy = last_good_copy(store, lang)
    if copy is None:
        report.fail(f"feed {lang}{whose}: FAILED {what}, and there is no last good copy to serve")
        return
    age, count = copy
    report.warn(
        f"feed {lang}{whose}: WARNING {what}, serving the last good copy from {_ago(age)} ago"
        f" ({_count(count, 'position')})"
    )


def feed_misconfigured(
    exc: FeedError, url: str, resolve: Resolver = socket.getaddrinfo
) -> str | None:
    """What is wrong with the feed's address, or None when the failure looks like an outage
    (no answer, a server error, a damaged body), which passes by itself."""
    if exc.reason == "transport":
        host = urlsplit(url).hostname or ""
        if _host_missing(host, resolve):
            return f"the host {host} does not exist: check CAREERS_PERSONIO_SUBDOMAIN"
        return None
    if exc.reason in UNREACHABLE_REASONS:
        return None
    if exc.reason == "http_status":
        status = re.search(r"\d{3}", exc.detail)  # FeedClient's detail is "HTTP <status>"
        if status and (int(status[0]) >= 500 or int(status[0]) in UNWELL_STATUSES):
            return None
    detail = f"{exc.detail}: " if exc.detail else ""
    return detail + HINTS.get(exc.reason, "check CAREERS_PERSONIO_FEED_URL")


def _host_missing(host: str, resolve: Resolver = socket.getaddrinfo) -> bool:
    """The name does not exist while its parent domain does: a typo, not a DNS outage. With
    no working resolver (a host starting before its network) nothing resolves, so nothing
    counts as missing and the failure stays "unreachable"."""
    parent = host.partition(".")[2]
    if not host or "." not in parent:
        return False
    try:
        resolve(host, None)
        return False
    except socket.gaierror as exc:
        if exc.errno not in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)):
            return False
    try:
        resolve(parent, None)
    except socket.gaierror:
        return False
    return True


def last_good_copy(store: FeedStore, lang: str) -> tuple[float, int] | None:
    """(age in seconds, positions) of the copy `serve` would show, None when there is none
    it could use (missing, unreadable, or not a feed)."""
    copy = store.load(lang)
    if copy is None:
        return None
    try:
        positions = parse_feed(copy.body)
    except FeedError:
        return None
    return max(0.0, time.time() - copy.fetched_at), len(positions)


# -- mail --------------------------------------------------------------------------------------


def _check_mail(settings: Settings, report: Report) -> None:
    """Talk to the mail server when one is configured, and say who hears of alerts."""
    if settings.mail_enabled:
        _check_mail_server(settings.smtp_url, report)
    else:
        report.ok("mail server: not configured (no alerts by mail, no job alerts)")
    report.ok(f"alerts: {describe_alerts(settings)}")
    report.ok(f"funnel: {describe_funnel(settings)}")


def describe_funnel(settings: Settings) -> str:
    """Who gets the weekly funnel mail (docs/funnel.md), without an address."""
    if settings.report_emails and settings.mail_enabled:
        recipients = _count(len(settings.report_emails), "address", "addresses")
        return f"counted without cookies; a weekly mail to {recipients}"
    return (
        "counted without cookies; `careers report` shows it (set CAREERS_REPORT_EMAIL for a"
        " weekly mail)"
    )


def _check_mail_server(url: str, report: Report) -> None:
    """A server that cannot be reached is an outage: mail waits in the queue, and the site
    serves meanwhile (a warning). One that answers but refuses the login, the TLS or the
    greeting stays wrong until the settings change (a failure)."""
    from ..mail.smtp import DEFAULT_PORTS, MailError, verify_server  # only with a server

    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or DEFAULT_PORTS.get(parts.scheme, 587)
    try:
        socket.create_connection((host, port), timeout=MAIL_CONNECT_TIMEOUT).close()
    except OSError as exc:
        if _host_missing(host):
            report.fail(
                f"mail server: FAILED the host {host} does not exist: check CAREERS_SMTP_URL"
            )
        else:
            report.warn(
                f"mail server: WARNING unreachable ({host}:{port}: {_why(exc)}): mail waits in"
                " the queue until the server answers"
            )
        return
    try:
        report.ok(f"mail server: {verify_server(url)}")
    except MailError as exc:
        report.fail(f"mail server: FAILED {exc}")


def _why(exc: OSError) -> str:
    """`connection refused`, `timed out`: the system's words without errno numbers."""
    if isinstance(exc, socket.gaierror):
        return "host not found"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return (exc.strerror or type(exc).__name__).lower()


def describe_alerts(settings: Settings) -> str:
    """Who is told, without an address or the webhook's path (which may hold its secret)."""
    told = []
    if settings.alert_emails and settings.mail_enabled:
        told.append(f"by mail to {_count(len(settings.alert_emails), 'address', 'addresses')}")
    if settings.alert_webhook_url:
        told.append(f"by webhook to {urlsplit(settings.alert_webhook_url).hostname}")
    if not told:
        return (
            "none configured: parked applications show only in `careers outbox list` and"
            " /metrics (set CAREERS_ALERT_EMAIL or CAREERS_ALERT_WEBHOOK_URL)"
        )
    return ", ".join(told)


# -- wording -----------------------------------------------------------------------------------


def _count(n: int, singular: str, plural: str = "") -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _ago(seconds: float) -> str:
    """3 hours, 1 day: the largest whole unit, which is what an operator needs to know."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return _count(int(seconds // size), unit)
    return _count(int(seconds), "second")
