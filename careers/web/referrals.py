"""Sharing, referrals and open applications on the candidate's pages (docs/referrals.md).

Sharing is links only: a mail, LinkedIn's and XING's share pages, and a copy button that
static/share.js shows where the clipboard works (no third-party script, no inline script:
web/security.py). "Refer someone" hands on the job's URL with CAREERS_REFERRAL_CHANNEL as
Personio's channel parameter `_pc`, which the attribution machinery already carries to
Personio as `recruiting_channel_id` (applications/attribution.py); a candidate who arrives
that way is asked who referred them, and the name travels as a tag or as the custom
attribute CAREERS_REFERRER_FIELD names.

The open-application position (CAREERS_OPEN_APPLICATION_JOB) is off the board
(jobs/catalogue.py hides it); its form can also ask for a job alert, whose double opt-in is
the job-alert form's own (web/alerts.py), queued once the application is stored.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from urllib.parse import quote, urlencode

from flask import Flask, g, request
from flask_babel import force_locale
from flask_babel import gettext as _

from ..applications.attribution import channel_and_tags
from ..applications.form import ExtraField, FormSchema
from ..applications.intake import CHECKED
from ..applications.upload import Submission
from ..forms.email import normalize_email
from ..forms.text import clean_text
from ..personio.model import Position
from ..store_errors import StoreUnavailable
from . import alerts, services
from .messages import REFERRER_LABEL
from .pages import apply_url
from .site_links import attribution_args

log = logging.getLogger(__name__)

REFERRER_INPUT = "referrer"  # the form field with the referrer's name, whatever it becomes
JOB_ALERT_INPUT = "job_alert"  # the open-application form's "also tell me about new jobs"
REFERRER_MAX = 80  # a name; Personio's tags and attributes take more, a name needs no more
_TAG_TEXT = re.compile(r"[^\w .'@+-]+")  # what a tag keeps of a name (attribution.py's way)


# -- sharing ---------------------------------------------------------------------------------


def share_links(position: Position, url: str) -> list[tuple[str, str, str]]:
    """(kind, label, href) of the plain share links of a job whose canonical URL is `url`."""
    title = position.name or _("Untitled position")
    subject = _(
        "Job at %(company)s: %(title)s", company=services().settings.company_name, title=title
    )
    mail = _mailto(subject, f"{title}\n{url}")
    return [
        ("email", _("Send by email"), mail),
        (
            "linkedin",
            "LinkedIn",
            "https://www.linkedin.com/sharing/share-offsite/?url=" + quote(url, safe=""),
        ),
        ("xing", "XING", "https://www.xing.com/spi/shares/new?url=" + quote(url, safe="")),
    ]


def referral_url(url: str) -> str:
    """The job's URL with the referral channel, "" without CAREERS_REFERRAL_CHANNEL."""
    channel = services().settings.referral_channel
    return f"{url}?{urlencode({'_pc': channel})}" if channel else ""


def referral_mail(position: Position, url: str) -> str:
    """A mail the referring employee sends a friend: the job and its referral link."""
    title = position.name or _("Untitled position")
    subject = _("A job for you: %(title)s", title=title)
    body = _(
        "I think this job at %(company)s could be right for you: %(title)s\n%(url)s\n\n"
        "When you apply, you can name me as the person who referred you.",
        company=services().settings.company_name,
        title=title,
        url=referral_url(url),
    )
    return _mailto(subject, body)


def _mailto(subject: str, body: str) -> str:
    """A mailto: URL with a prepared mail; line breaks as CRLF, as RFC 6068 §5 asks."""
    body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    return "mailto:?" + urlencode({"subject": subject, "body": body}, quote_via=quote)


# -- the referrer on the form ----------------------------------------------------------------


def asks_referrer(attribution: dict[str, str]) -> bool:
    """Whether the form asks who referred the candidate: they came by a referral link."""
    settings = services().settings
    if settings.referral_channel is None or settings.referrer_field == "off":
        return False
    # The channel as Personio will get it: `_pc=2004`, or a name CAREERS_CHANNELS maps to it.
    return channel_and_tags(attribution, settings.channels)[0] == settings.referral_channel


def asks_referrer_here() -> bool:
    """asks_referrer for the page being shown (the form's GET: the landing URL's query)."""
    return asks_referrer(attribution_args(request.args))


def referrer_name(submission: Submission) -> str:
    """The referrer's name as typed, cleaned and cut to a name's length."""
    return clean_text(submission.value(REFERRER_INPUT))[:REFERRER_MAX].strip()


def referral_schema(form: FormSchema) -> FormSchema:
    """The form with the referrer's custom attribute as an optional text field, so intake
    checks and sends it like any other (CAREERS_REFERRER_FIELD=custom_attribute_<n>)."""
    settings = services().settings
    labels = {}
    for lang in settings.languages:
        with force_locale(lang):
            labels[lang] = str(REFERRER_LABEL)
    extra = ExtraField(settings.referrer_field, "text", False, labels)
    return replace(form, fields=(*form.fields, extra))


def with_referrer(
    submission: Submission, form: FormSchema, tags: tuple[str, ...]
) -> tuple[FormSchema, tuple[str, ...]]:
    """The form schema and tags for a referred candidate's submission: the name given
    becomes a tag `referred_by:<name>`, or the configured custom attribute's value."""
    name = referrer_name(submission)
    field = services().settings.referrer_field
    if field == "tag":
        text = _TAG_TEXT.sub("", name).strip()
        return form, (*tags, f"referred_by:{text}") if text else tags
    # The attribute's value is the name as typed: the intake reads it under its id.
    submission.fields[field] = [name]
    return referral_schema(form), tags


def keep(submission: Submission, values: dict[str, str]) -> dict[str, str]:
    """`values` to show again with what this module's inputs held (intake knows neither)."""
    values[REFERRER_INPUT] = referrer_name(submission)
    values[JOB_ALERT_INPUT] = "yes" if submission.value(JOB_ALERT_INPUT) in CHECKED else ""
    return values


# -- open applications -----------------------------------------------------------------------


def open_application() -> Position | None:
    """The open-application position of the current language's board, if it is open."""
    job_id = services().settings.open_application_job
    if job_id is None:
        return None
    found = services().catalogue.find(g.lang, job_id)
    return found[0] if found else None


def is_open_application(position: Position) -> bool:
    """Its page carries no JobPosting and asks not to be indexed (templates/jobs/detail.html)."""
    return position.id == services().settings.open_application_job


def offers_job_alert(position: Position) -> bool:
    """The open-application form asks for a job alert when mail is on."""
    return is_open_application(position) and services().settings.mail_enabled


def after_accepted(position: Position, submission: Submission) -> None:
    """The job alert the open-application form asked for: its confirmation mail is queued
    now that the application is stored. A database failure here costs the alert, never
    the application: it is stored, and the candidate still gets its receipt."""
    if not offers_job_alert(position) or submission.value(JOB_ALERT_INPUT) not in CHECKED:
        return
    address = normalize_email(submission.value("email"))
    if address is None:
        return
    try:
        alerts.request_alert(address)
    except StoreUnavailable:
        log.warning("job alert not requested", extra={"reason": "store_down"})


def open_application_url() -> str:
    """The form of the open-application position (Personio's own in read-only mode)."""
    position = open_application()
    return apply_url(position) if position is not None else ""


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        share_links=share_links,
        referral_url=referral_url,
        referral_mail=referral_mail,
        asks_referrer=asks_referrer_here,
        referrer_input=REFERRER_INPUT,
        referrer_max=REFERRER_MAX,
        job_alert_input=JOB_ALERT_INPUT,
        open_application_url=open_application_url,
        is_open_application=is_open_application,
        offers_job_alert=offers_job_alert,
    )
