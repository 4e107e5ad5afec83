"""Mails as people read them: job-alert confirmations and digests, operator alerts, webhooks.

The mail worker has no Flask app, so templates (templates/mail/, shipped as
careers/templates/mail in the wheel) are rendered by a Jinja environment of our own per
language, whose gettext is the site's catalogue for that language (careers/translations),
in the configured form of address (CAREERS_ADDRESS):
the mails say what the site says, in the words its translators chose. Candidates' mails
are translated; operators' alerts are English, like `careers outbox` and the logs they
point to.

Every mail has a text and an HTML part. The HTML has inline styles only, no images, no
fonts and no link that leaves the site (CAREERS_PUBLIC_URL): nothing in it tells anyone
that the mail was opened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlencode, urlsplit

from babel.dates import format_date, format_timedelta, get_timezone
from babel.numbers import format_decimal
from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..accounts import account_name
from ..config import Settings
from ..jobs.labels import CODE_LABELS, FACET_NAMES, N_
from ..jobs.search import FACETS, MAX_QUERY
from ..paths import asset_dir, catalogue
from ..personio.model import Position
from . import alert_links
from .alerts import AlertKind
from .store import MAX_FILTER_CHARS, MAX_FILTER_VALUES, Filters, Subscription

SIGNATURE_HEADER = "X-Careers-Signature"
OPERATOR_LANGUAGE = "en"
# What the confirmation mail promises; the worker deletes unconfirmed requests after it.
UNCONFIRMED_HOURS = 48
# Long unbreakable values (the List-Unsubscribe URL) would otherwise be folded into
# RFC 2047 encoded words, which no mail client reads as a URL; 998 is SMTP's line limit.
MAIL_POLICY = policy.default.clone(max_line_length=998)


# Inline styles (mail clients drop <style> and stylesheets), in the site's default colours.
STYLE = {
    "body": "margin:0;padding:24px 12px;background:#f5f6f8;color:#1a1d21;"
    "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif",
    "card": "max-width:600px;margin:0 auto;padding:24px;background:#fff;"
    "border:1px solid #dfe3e8;border-radius:8px",
    "brand": "margin:0 0 16px;font-weight:600;color:#59616b",
    "h1": "margin:0 0 16px;font-size:22px;line-height:1.3",
    "p": "margin:0 0 16px",
    "muted": "margin:0 0 8px;color:#59616b;font-size:14px",
    "link": "color:#1f5bd1",
    "list": "margin:0 0 16px;padding-left:20px",
    "button": "display:inline-block;padding:10px 18px;background:#1f5bd1;color:#fff;"
    "border-radius:8px;text-decoration:none;font-weight:600",
    "job": "margin:0 0 16px;padding:12px 0 0;border-top:1px solid #dfe3e8",
    "job_title": "margin:0 0 4px;font-size:18px;font-weight:600",
    "footer": "max-width:600px;margin:16px auto 0;color:#59616b;font-size:13px",
    "code": "display:block;margin:0 0 8px;padding:8px;background:#f5f6f8;"
    "font:14px/1.4 ui-monospace,Menlo,Consolas,monospace",
}


@dataclass(frozen=True)
class _Language:
    """A language's catalogue and the template environment that speaks it."""

    code: str
    translations: NullTranslations
    env: Environment


class Composer:
    """Builds ready-to-send `EmailMessage`s from templates/mail; one per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._timezone = get_timezone(settings.timezone)
        self._templates = asset_dir("templates")
        self._languages: dict[str, _Language] = {}
        self._lock = threading.Lock()

    # -- candidates' mails -----------------------------------------------------------------

    def confirmation(self, sub: Subscription, token: str) -> EmailMessage:
        """Double opt-in: the link opens a page whose button confirms (no change on GET)."""
        lang = self._language(sub.language)
        _ = lang.translations.gettext
        context = {
            "confirm_url": alert_links.confirm_url(self._site, sub.language, token),
            "filters": self._filter_words(lang, sub.filters, confirmed=False),
            "hours": UNCONFIRMED_HOURS,
        }
        subject = _("Confirm your job alert")
        message = self._message(lang, subject, "confirm", context, self._to(sub))
        return message

    def digest(self, sub: Subscription, token: str, positions: Sequence[Position]) -> EmailMessage:
        """The new matching jobs, a link to all of them, and one-click unsubscribe."""
        lang = self._language(sub.language)
        ngettext = lang.translations.ngettext
        unsubscribe = alert_links.unsubscribe_url(self._site, sub.language, token)
        query = urlencode([*_filter_params(sub.filters), *alert_links.UTM.items()])
        context = {
            "jobs": [self._job(lang, p) for p in positions],
            "filters": self._filter_words(lang, sub.filters, confirmed=True),
            "list_url": alert_links.list_url(self._site, sub.language, query),
            "unsubscribe_url": unsubscribe,
            "subscribed_on": self._date(lang, sub.confirmed_at or sub.created_at),
        }
        subject = ngettext(
            "%(num)s new job at %(company)s", "%(num)s new jobs at %(company)s", len(positions)
        ) % {"num": len(positions), "company": self.settings.company_name}
        message = self._message(lang, subject, "digest", context, self._to(sub))
        # RFC 8058: a mail client may POST "List-Unsubscribe=One-Click" to this URL itself.
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        name = f"{self.settings.company_name} job alerts"
        message["List-Id"] = formataddr((name, f"job-alerts.{self._domain}"))  # RFC 2919
        return message

    # -- recruiters' mail ------------------------------------------------------------------

    def report(self, params: Mapping[str, Any]) -> EmailMessage:
        """The weekly funnel (CAREERS_REPORT_EMAIL), in the site's default language: per
        job its channels' numbers, and its funnel as bars (table cells with inline widths:
        no image, nothing fetched)."""
        lang = self._language(self.settings.default_language)
        _ = lang.translations.gettext
        start = format_date(date.fromisoformat(params["from"]), format="long", locale=lang.code)
        end = format_date(date.fromisoformat(params["to"]), format="long", locale=lang.code)
        context = {
            "start": start,
            "end": end,
            "jobs": _funnel_jobs(lang, params["rows"]),
            "list_views": _list_views(lang, params["rows"]),
            "steps": [_(name) for name in _FUNNEL_STEPS],
            "recipients_setting": "CAREERS_REPORT_EMAIL",
        }
        subject = _("Your career site from %(start)s to %(end)s") % {"start": start, "end": end}
        to = ", ".join(self.settings.report_emails)
        return self._message(lang, subject, "report", context, to)

    # -- operators' mails ------------------------------------------------------------------

    def alert(self, kind: AlertKind, params: Mapping[str, Any]) -> EmailMessage:
        """An operator alert (English) to CAREERS_ALERT_EMAIL: facts and the command to run."""
        lang = self._language(OPERATOR_LANGUAGE)
        report = _report(kind, params, self._when)
        subject = f"[careers] {self.settings.company_name}: {report.headline}"
        context = {"report": report}
        to = ", ".join(self.settings.alert_emails)
        # The text is English; the site link goes where the site has pages.
        site = self.settings.default_language
        return self._message(lang, subject, "alert", context, to, site_language=site)

    # -- building blocks -------------------------------------------------------------------

    @property
    def _site(self) -> str:
        if not self.settings.public_url:
            raise ValueError("mail needs CAREERS_PUBLIC_URL: its links point at the site")
        return self.settings.public_url

    @property
    def _domain(self) -> str:
        """The From address's domain, for Message-ID and List-Id."""
        address = parseaddr(self.settings.mail_from)[1]
        if "@" not in address:
            raise ValueError("mail needs CAREERS_MAIL_FROM")
        return address.rpartition("@")[2]

    def _to(self, sub: Subscription) -> str:
        if sub.address is None:
            raise ValueError("the subscription's address is gone")
        return sub.address

    def _message(
        self,
        lang: _Language,
        subject: str,
        name: str,
        context: dict[str, Any],
        to: str,
        *,
        site_language: str = "",
    ) -> EmailMessage:
        """Both parts from templates/mail/<name>.txt and .html, and the common headers."""
        context = {
            **context,
            "company": self.settings.company_name,
            "site_url": f"{self._site}/{site_language or lang.code}/jobs",
            "site_host": urlsplit(self._site).netloc,
            "lang": lang.code,
            "subject": subject,
            "style": STYLE,
        }
        text = lang.env.get_template(f"mail/{name}.txt").render(context)
        html = lang.env.get_template(f"mail/{name}.html").render(context)
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = self.settings.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=self._domain)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no automatic replies
        message["X-Auto-Response-Suppress"] = "OOF, AutoReply"  # the same for Exchange
        # Quoted-printable keeps every line short and 7-bit, whatever the server supports.
        message.set_content(text, subtype="plain", cte="quoted-printable")
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        # After the parts: making the message multipart moves Content-* headers into them.
        message["Content-Language"] = lang.code
        return message

    def _language(self, code: str) -> _Language:
        """The catalogue and templates of a language, loaded once (English has none)."""
        with self._lock:
            found = self._languages.get(code)
            if found is None:
                # Candidates' mails speak as the pages do, CAREERS_ADDRESS included; the
                # operators' alerts are English, which has no forms of address.
                translations = catalogue(code, informal=self.settings.informal)
                env = Environment(
                    loader=FileSystemLoader(str(self._templates)),
                    autoescape=select_autoescape(["html"]),
                    extensions=["jinja2.ext.i18n"],
                    undefined=StrictUndefined,
                    trim_blocks=True,
                    lstrip_blocks=True,
                    keep_trailing_newline=True,
                )
                # newstyle: `_("… %(name)s", name=x)` formats and escapes like Flask-Babel.
                env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
                found = self._languages[code] = _Language(code, translations, env)
            return found

    def _filter_words(
        self, lang: _Language, filters: Filters, *, confirmed: bool
    ) -> list[tuple[str, str]]:
        """A subscription's filters as (name, values) in the reader's words.

        Facet values are the board's (web/alerts.py keeps no other); still, no more than
        MAX_FILTER_VALUES of them, each cut at MAX_FILTER_CHARS. The search words are free
        text anyone could have typed: mail to an address that has not confirmed says only
        that there are some (the confirm page shows them); a digest, sent after consent,
        quotes them."""
        _ = lang.translations.gettext
        words = []
        budget = MAX_FILTER_VALUES
        for facet in FACETS:
            values = filters.facets.get(facet, ())[:budget]
            budget -= len(values)
            if values:
                labels = [
                    (
                        account_name(self.settings.accounts, v)
                        if facet == "account"
                        else _label(lang, facet, v)
                    )[:MAX_FILTER_CHARS]
                    for v in values
                ]
                words.append((_(FACET_NAMES[facet]), ", ".join(labels)))
        if filters.q:
            shown = (
                filters.q[:MAX_QUERY]
                if confirmed
                else _("Your search words (shown when you confirm)")
            )
            words.append((_("Search"), shown))
        if filters.min_salary is not None:
            words.append(
                (_("Minimum pay a year"), format_decimal(filters.min_salary, locale=lang.code))
            )
        return words

    def _job(self, lang: _Language, position: Position) -> dict[str, Any]:
        """What a digest says of one job."""
        _ = lang.translations.gettext
        facts = [", ".join(position.offices)] if position.offices else []
        for facet, code in (
            ("employment_type", position.employment_type),
            ("schedule", position.schedule),
        ):
            if code:
                facts.append(_label(lang, facet, code))
        created = position.created_at
        return {
            "title": position.name or _("Untitled position"),
            "url": alert_links.job_url(self._site, lang.code, position.id, position.name),
            "facts": facts,
            "posted": self._date(lang, created.timestamp()) if created else "",
        }

    def _date(self, lang: _Language, timestamp: float) -> str:
        """A day in the site's timezone, written the reader's way ('14. Oktober 2026')."""
        day: date = datetime.fromtimestamp(timestamp, UTC).astimezone(self._timezone).date()
        return format_date(day, format="long", locale=lang.code)

    def _when(self, value: Any) -> str:
        """An ISO time or epoch seconds for operators: '2026-10-14 09:12:44 Europe/Berlin'."""
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(value, UTC)
        elif isinstance(value, str) and value:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        else:
            return "unknown"
        local = moment.astimezone(self._timezone)
        return f"{local:%Y-%m-%d %H:%M:%S} {self.settings.timezone}"


# The steps a job's funnel shows, in order (the stored row's counts 1..4; 0 is list views).
_FUNNEL_STEPS = (
    N_("Job page views"),
    N_("Forms opened"),
    N_("Applications sent"),
    N_("Delivered to Personio"),
)
BAR_COLOURS = ("#1f5bd1", "#3d74dc", "#5b8de6", "#2e7d4f")


def _channel_words(lang: _Language, channel: str) -> str:
    _ = lang.translations.gettext
    if not channel:
        return _("Direct (no channel)")
    if channel == "(other)":
        return _("Other channels")
    return channel


def _funnel_jobs(lang: _Language, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Per job: its title, one line of numbers per channel, and its funnel as bars whose
    widths are percentages of the job's page views."""
    _ = lang.translations.gettext
    jobs: dict[int, dict[str, Any]] = {}
    for position_id, title, channel, *counts in rows:
        if position_id == 0:
            continue
        job = jobs.setdefault(
            position_id,
            {
                "id": position_id,
                "title": title or _("Untitled position"),
                "channels": [],
                "totals": [0] * 4,
            },
        )
        steps = [int(n) for n in counts[1:5]]
        job["channels"].append({"name": _channel_words(lang, channel), "counts": steps})
        job["totals"] = [a + b for a, b in zip(job["totals"], steps, strict=True)]
    for job in jobs.values():
        most = max(job["totals"]) or 1
        job["bars"] = [
            {
                "label": _(name),
                "n": n,
                "width": max(1, round(100 * n / most)) if n else 0,
                "colour": colour,
                "share": f"{100 * n / job['totals'][0]:.0f}%" if job["totals"][0] and i else "",
            }
            for i, (name, n, colour) in enumerate(
                zip(_FUNNEL_STEPS, job["totals"], BAR_COLOURS, strict=True)
            )
        ]
    return list(jobs.values())


def _list_views(lang: _Language, rows: Sequence[Sequence[Any]]) -> list[tuple[str, int]]:
    """The job list's views per channel."""
    return [
        (_channel_words(lang, channel), int(counts[0]))
        for position_id, _title, channel, *counts in rows
        if position_id == 0
    ]


def _label(lang: _Language, facet: str, value: str) -> str:
    """The reader's word for a coded value; other values (offices, departments) as they are."""
    msgid = CODE_LABELS.get(facet, {}).get(value)
    return lang.translations.gettext(msgid) if msgid else value


def _filter_params(filters: Filters) -> list[tuple[str, str]]:
    """The list page's query for these filters: one parameter per facet value, then q."""
    pairs = [(facet, v) for facet in FACETS for v in filters.facets.get(facet, ())]
    pairs += [("q", filters.q)] if filters.q else []
    return pairs + (
        [("min_salary", str(filters.min_salary))] if filters.min_salary is not None else []
    )


# -- operator alerts -----------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """What an operator alert says, whatever carries it (mail or webhook)."""

    headline: str
    summary: str
    facts: tuple[tuple[str, str], ...]
    commands: tuple[str, ...]

    @property
    def heading(self) -> str:
        """The headline as a sentence (it follows the company's name in the subject)."""
        return self.headline[:1].upper() + self.headline[1:]


def _age(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "unknown"
    return format_timedelta(timedelta(seconds=seconds), threshold=2, locale=OPERATOR_LANGUAGE)


# The feed alert's headline and summary per condition (careers/personio/diagnosis.py).
FEED_CONDITIONS = {
    "unknown_account": (
        "Personio knows no such account",
        "The feed's address answers 404: the account name (CAREERS_PERSONIO_SUBDOMAIN) is"
        " wrong, or the account was renamed or closed.",
    ),
    "feed_off": (
        "the Personio XML feed is switched off",
        "The account answers with a web page instead of its XML feed: the feed is switched off"
        " in Personio, or not part of the account's plan.",
    ),
    "moved": (
        "the Personio job feed has moved",
        "Personio redirects the feed to a new address, and careers does not follow redirects:"
        " point the settings at the new address (see the last error).",
    ),
    "not_a_feed": (
        "the feed address serves no Personio feed",
        "The address answers, but not with Personio's XML feed: check the feed settings.",
    ),
}


def _report(kind: AlertKind, params: Mapping[str, Any], when: Callable[[Any], str]) -> Report:
    """The facts of one alert from its params (careers/mail/alerts.py); none is personal.
    On a site of several Personio accounts an alert about one names it, in the headline and
    as the first fact."""
    report = _report_of(kind, params, when)
    account = str(params.get("account") or "")
    if not account:
        return report
    return replace(
        report,
        headline=f"{report.headline} (account {account})",
        facts=(("Personio account", account), *report.facts),
    )


def _report_of(kind: AlertKind, params: Mapping[str, Any], when: Callable[[Any], str]) -> Report:
    if kind is AlertKind.PARKED:
        receipt = str(params.get("receipt", ""))
        # `careers outbox show|retry` take the application's number; the receipt id is what
        # the candidate was shown.
        target = str(params.get("application_id") or receipt)
        title = params.get("position_title") or "(title unknown)"
        return Report(
            headline=f"application {receipt} needs you",
            summary="Personio refused an application for good. It is parked in the outbox"
            " and waits for you: fix the cause, then send it again.",
            facts=(
                ("Receipt", receipt),
                ("Position", f"{params.get('position_id', '?')} – {title}"),
                ("Personio's reason", str(params.get("reason") or "none given")),
                ("Personio's detail", str(params.get("detail") or "none given")),
                ("Parked at", when(params.get("at"))),
            ),
            commands=(f"careers outbox show {target}", f"careers outbox retry {target}"),
        )
    if kind is AlertKind.FEED_DOWN:
        age = params.get("copy_age")
        serving = (
            f"the last good copy, {_age(age)} old"
            if age is not None
            else "nothing: there is no good copy yet, the job list is empty"
        )
        headline, summary = FEED_CONDITIONS.get(
            str(params.get("condition") or ""),
            (
                "the Personio job feed is failing",
                "careers cannot fetch the job feed from Personio.",
            ),
        )
        return Report(
            headline=headline,
            summary=summary,
            facts=(
                ("Languages", ", ".join(map(str, params.get("languages") or ())) or "?"),
                ("Failing since", when(params.get("failing_since"))),
                ("Last error", str(params.get("last_error") or "not recorded")),
                ("Visitors see", serving),
            ),
            commands=("careers check",),
        )
    if kind is AlertKind.FEED_EMPTY:
        return Report(
            headline="the Personio job board is empty",
            summary="The feed answers, but it holds no position: the site shows no jobs in"
            " this language. Nothing is broken if no job is published in Personio right now.",
            facts=(
                ("Language", str(params.get("language") or "?")),
                ("What it means", str(params.get("detail") or "")),
                ("Seen at", when(params.get("at"))),
            ),
            commands=("careers check",),
        )
    if kind is AlertKind.BACKLOG:
        return Report(
            headline="applications are waiting to reach Personio",
            summary="The oldest application waiting for delivery to Personio is older than"
            " the alert threshold (CAREERS_ALERT_BACKLOG_AFTER).",
            facts=(
                ("Waiting", str(params.get("pending", "?"))),
                ("Oldest receipt", str(params.get("oldest_receipt", "?"))),
                ("Oldest waits for", _age(params.get("oldest_age"))),
                ("Last reason", str(params.get("last_reason") or "none recorded")),
            ),
            commands=(str(params.get("command") or "careers outbox list"),),
        )
    if kind is AlertKind.CREDENTIALS:
        return Report(
            headline="Personio rejected the API credentials",
            summary="Personio answers 401/403 to the Recruiting API key, so delivery is paused."
            " Nothing is parked: applications wait in the outbox and are delivered by"
            " themselves once the credentials work again (careers tries again every few"
            " minutes). Check CAREERS_PERSONIO_COMPANY_ID and CAREERS_PERSONIO_RECRUITING_TOKEN"
            " (a rotated key?), or with API v2 CAREERS_PERSONIO_CLIENT_ID and"
            " CAREERS_PERSONIO_CLIENT_SECRET.",
            facts=(
                ("Personio's answer", str(params.get("detail") or "none given")),
                ("Waiting", str(params.get("pending", "?"))),
                ("Last delivered", str(params.get("last_delivered") or "none yet")),
                ("Paused at", when(params.get("at"))),
            ),
            commands=("careers check",),
        )
    if kind is AlertKind.PAY:
        jobs = [job for job in params.get("jobs") or () if isinstance(job, Mapping)]
        rule = str(params.get("rule") or "?")
        law = "the Austrian rule" if rule == "at" else "the EU Pay Transparency Directive"
        return Report(
            headline=f"{len(jobs)} open job ad(s) break the pay-transparency rule ({rule})",
            summary=f"Under CAREERS_PAY_TRANSPARENCY={rule} ({law}) every job ad states its pay"
            " per time unit" + (", with the minimum" if rule == "at" else "") + ". These open"
            " jobs do not: fill in the salary section of each in Personio. This mail comes at"
            " most once a day while any job breaks the rule.",
            facts=tuple(
                (
                    f"{job.get('id', '?')} – {job.get('title') or '(untitled)'}",
                    ", ".join(map(str, job.get("problems") or ())),
                )
                for job in jobs
            ),
            commands=("careers check",),
        )
    raise ValueError(f"unknown alert kind {kind!r}")


def webhook_body(kind: AlertKind, params: Mapping[str, Any], site_url: str) -> bytes:
    """The JSON an alert webhook receives: kind, site, a readable line, and the facts
    (`text` makes chat webhooks that show only it, such as Slack's, readable too)."""
    report = _report(kind, params, lambda value: str(value or ""))
    data = {
        "kind": str(kind),
        "site": site_url,
        "text": f"[careers] {site_url}: {report.headline}",
        "summary": report.summary,
        "commands": list(report.commands),
        "params": {k: v for k, v in params.items() if k != "alert"},
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`: the receiver checks
    the HMAC and rejects old timestamps (replays)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"
