"""What a failing or empty feed means: which of Personio's known conditions it is, in words
an operator can act on. `careers check`, /readyz and the operator alert all say the same.

How each condition looks on the wire (docs/personio.md §1.1, "When there is no feed"):
- an unknown account: 404 from the career host;
- the XML feed switched off, or not in the account's plan: an HTML page instead of the XML
  (the career page, or Personio's homepage), or a redirect to one of those;
- a feed that moved (the account renamed, or moved from .de to .com): a redirect to another
  host; careers never follows it (§1.1: the 2021 move left "the XML integration" behind too);
- an empty board: a well-formed `<workzag-jobs/>` without a position (not an error);
- Personio's weekly maintenance, Tuesday 22:00–24:00 Europe/Berlin: 503s are expected then,
  the last good copy is served and nobody is alerted.
Anything else is an outage (no answer, a server error, a damaged body) or an address that is
not a Personio feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .feed import FeedError

PERSONIO_ZONE = ZoneInfo("Europe/Berlin")  # the status page's zone, whatever CAREERS_TIMEZONE says
MAINTENANCE_WEEKDAY, MAINTENANCE_FROM = 1, 22  # Tuesday (Monday is 0), 22:00 until midnight
CAREER_DOMAINS = ("jobs.personio.de", "jobs.personio.com")
HOMEPAGES = frozenset({"personio.de", "www.personio.de", "personio.com", "www.personio.com"})
# Failures that look the same as an outage; inside the maintenance window they are expected.
_OUTAGE_REASONS = frozenset({"timeout", "transport", "malformed", "empty_body", "too_large"})
_UNWELL_STATUSES = frozenset({408, 425, 429})


class Condition(StrEnum):
    UNKNOWN_ACCOUNT = "unknown_account"
    FEED_OFF = "feed_off"
    MOVED = "moved"
    EMPTY = "empty_board"
    MAINTENANCE = "maintenance"
    OUTAGE = "outage"
    NOT_A_FEED = "not_a_feed"


@dataclass(frozen=True)
class Diagnosis:
    """One condition and its line for operators (never a secret: feed URLs carry none)."""

    condition: Condition
    message: str

    @property
    def misconfigured(self) -> bool:
        """Stays so until someone changes a setting or Personio's configuration."""
        return self.condition in {
            Condition.UNKNOWN_ACCOUNT,
            Condition.FEED_OFF,
            Condition.MOVED,
            Condition.NOT_A_FEED,
        }

    @property
    def expected(self) -> bool:
        """Nothing to do and nobody to alert: maintenance, or a board with no jobs."""
        return self.condition in {Condition.MAINTENANCE, Condition.EMPTY}


def in_maintenance(moment: datetime) -> bool:
    """Inside Personio's weekly maintenance window (an aware datetime, any zone)."""
    local = moment.astimezone(PERSONIO_ZONE)
    return local.weekday() == MAINTENANCE_WEEKDAY and local.hour >= MAINTENANCE_FROM


def diagnose(error: FeedError, feed_url: str, now: datetime) -> Diagnosis:
    """The condition behind a failed fetch of `feed_url` at `now`."""
    setting = _setting_for(feed_url)
    if _is_outage(error):
        what = f"{error.reason}: {error.detail}" if error.detail else error.reason
        if in_maintenance(now):
            return Diagnosis(
                Condition.MAINTENANCE,
                "Personio's weekly maintenance (Tuesday 22:00-24:00 Berlin time): failures are"
                f" expected until it ends ({what})",
            )
        return Diagnosis(Condition.OUTAGE, f"no usable answer from Personio ({what})")
    if error.reason == "http_status" and error.status == 404:
        account = _account(_host(feed_url))
        where = f"no account {account!r}" if account else f"no account or feed at {_host(feed_url)}"
        return Diagnosis(
            Condition.UNKNOWN_ACCOUNT, f"Personio knows {where} (HTTP 404): check {setting}"
        )
    if error.reason == "not_xml" or (error.reason == "redirect" and _stays_home(error, feed_url)):
        how = "a redirect to a page" if error.reason == "redirect" else "an HTML page"
        return Diagnosis(
            Condition.FEED_OFF,
            f"the account answers with {how} instead of its XML feed: the feed is switched"
            " off or not in its Personio plan (Settings > Recruiting > Career page >"
            " Activations > Enable XML feed)",
        )
    if error.reason == "redirect":
        return Diagnosis(Condition.MOVED, _moved(error.location))
    detail = f" ({error.detail})" if error.detail else ""
    return Diagnosis(
        Condition.NOT_A_FEED,
        f"the address does not serve a Personio feed{detail}: check {setting}",
    )


def empty_board(language: str) -> Diagnosis:
    """A valid board without positions: worth saying, never an error."""
    return Diagnosis(
        Condition.EMPTY,
        f"the board is empty: Personio publishes no position in '{language}' (none published,"
        " or the language is not switched on for the career page)",
    )


def _is_outage(error: FeedError) -> bool:
    if error.reason in _OUTAGE_REASONS:
        return True
    status = error.status or 0
    return error.reason == "http_status" and (status >= 500 or status in _UNWELL_STATUSES)


def _stays_home(error: FeedError, feed_url: str) -> bool:
    """A redirect to the account's own career pages or to Personio's homepage: Personio
    sends visitors there when there is no feed to give (§1.1)."""
    target = (urlsplit(error.location).hostname or "").lower()
    return target == _host(feed_url) or target in HOMEPAGES or not target


def _moved(location: str) -> str:
    """Where the feed went, and the settings that point there."""
    parts = urlsplit(location)
    host = (parts.hostname or "").lower()
    new_feed = f"{parts.scheme}://{parts.netloc}{parts.path}"
    account = _account(host)
    if account and parts.path.rstrip("/") == "/xml":
        domain = host.removeprefix(account + ".")
        return (
            f"the feed has moved to {new_feed} (careers does not follow redirects): set"
            f" CAREERS_PERSONIO_SUBDOMAIN={account} and CAREERS_PERSONIO_DOMAIN={domain}"
        )
    return (
        f"the feed has moved to {new_feed} (careers does not follow redirects): point"
        " CAREERS_PERSONIO_FEED_URL at the new address if it is the account's feed"
    )


def _account(host: str) -> str:
    """`acme` of `acme.jobs.personio.de`, "" for any other host."""
    for domain in CAREER_DOMAINS:
        account = host.removesuffix("." + domain)
        if account != host and "." not in account:
            return account
    return ""


def _host(feed_url: str) -> str:
    return (urlsplit(feed_url).hostname or "").lower()


def _setting_for(feed_url: str) -> str:
    """The setting that names this address: the subdomain for Personio's own hosts."""
    if _account(_host(feed_url)):
        return "CAREERS_PERSONIO_SUBDOMAIN and CAREERS_PERSONIO_DOMAIN"
    return "CAREERS_PERSONIO_FEED_URL"
