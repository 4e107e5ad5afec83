"""Search-engine presence: JobPosting JSON-LD, Open Graph helpers, sitemap and robots.txt (docs/routes.md)."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Sequence
from functools import cache
from typing import TypeVar

from babel import Locale
from flask import Blueprint, Response, g, request
from flask_babel import ngettext
from lxml import etree
from markupsafe import Markup, escape
from werkzeug.wrappers import Response as BaseResponse

from ..accounts import Account
from ..config import Settings
from ..config_parsers import NOT_COUNTRIES
from ..jobs.catalogue import COLD_START_WAIT
from ..personio.model import Position, Salary
from ..personio.vocabulary import FEED_LANGUAGES
from . import services
from .errors import FeedUnavailable
from .pages import absolute_url, account_of, job_url
from .present import label

bp = Blueprint("seo", __name__)

# Personio codes (docs/personio.md §1.4) → Google's employmentType values
# (developers.google.com/search/docs/appearance/structured-data/job-posting). Personio keeps the
# kind of contract and the hours apart; Google has one list for both, so a posting gets the
# contract's value (if any) followed by the schedule's values:
#
#   employmentType   → value        schedule           → value
#   permanent        → –            full-time          → FULL_TIME
#   trainee          → –            part-time          → PART_TIME
#   intern           → INTERN       full-or-part-time  → FULL_TIME, PART_TIME
#   temporary        → TEMPORARY    anything else      → –
#   freelance        → CONTRACTOR
#   working_student  → PART_TIME    (a Werkstudent works part-time alongside studies; it is
#                                    a job, not an internship, so no INTERN)
#   any other code   → OTHER
#
# Trainee programmes are employment under Google's terms (it has no trainee/apprentice value),
# so they carry only their hours. With nothing known, employmentType is left out, not guessed.
CONTRACTS = {"intern": "INTERN", "temporary": "TEMPORARY", "freelance": "CONTRACTOR"}
CONTRACTS["working_student"] = "PART_TIME"
WITHOUT_CONTRACT_TYPE = {"", "permanent", "trainee"}
SCHEDULES: dict[str, tuple[str, ...]] = {"full-time": ("FULL_TIME",), "part-time": ("PART_TIME",)}
SCHEDULES["full-or-part-time"] = ("FULL_TIME", "PART_TIME")
UNITS = {"yearly": "YEAR", "monthly": "MONTH", "weekly": "WEEK", "daily": "DAY", "hourly": "HOUR"}
# Lower bound of each yearsOfExperience band in months; "lt-1" sets no minimum and is left out.
EXPERIENCE_MONTHS = {"1-2": 12, "2-5": 24, "5-7": 60, "7-10": 84, "10-15": 120, "gt-15": 180}
# Open Graph wants language_TERRITORY; other feed languages are de_DE, fr_FR, es_ES, …
OG_LOCALES = {"en": "en_GB", "pt": "pt_PT"}

# A JSON-LD object as built here and checked by `missing_properties`: its values are strings,
# numbers, booleans, lists and nested objects, so a reader narrows them with isinstance.
JsonObject = dict[str, object]

# Personio's office is a free-text name; these words in it mean the work is done remotely.
_REMOTE = re.compile(
    r"remote|home[\s-]?office|anywhere|work(?:ing)?\s+from\s+home|mobiles?\s+arbeit|telecommut",
    re.IGNORECASE,
)
_PARTS = re.compile(r"[()\[\],/|–—]|\s-\s")
_COUNTRY_ALIASES = {"uk": "GB", "u.k.": "GB", "us": "US", "u.s.": "US", "usa": "US", "u.s.a.": "US"}
_TAGS = re.compile(r"<[^>]+>")
_JSON_IN_HTML = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


@cache
def _countries() -> dict[str, str]:
    """Country names in every feed language, casefolded → ISO 3166-1 alpha-2 code."""
    names = dict(_COUNTRY_ALIASES)
    for lang in FEED_LANGUAGES:
        for code, name in Locale.parse(lang).territories.items():
            if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES:
                names.setdefault(name.casefold(), code)
    return names


def _country_in(office: str) -> tuple[str, str] | None:
    """(code, name as written) of a country an office name carries: 'Remote (Germany)', 'Vienna, Austria'."""
    for part in _PARTS.split(_REMOTE.sub(" ", office)):
        part = part.strip()
        code = _countries().get(part.casefold())
        if code:
            return code, part
    return None


_T = TypeVar("_T")


def _one_or_many(values: Sequence[_T]) -> _T | list[_T]:
    """JSON-LD style: a single value stands alone, several make a list."""
    return values[0] if len(values) == 1 else list(values)


def employment_types(position: Position) -> list[str]:
    """Google's employmentType values for a posting (see the table above)."""
    code = position.employment_type
    values = [] if code in WITHOUT_CONTRACT_TYPE else [CONTRACTS.get(code, "OTHER")]
    values += SCHEDULES.get(position.schedule, ())
    return list(dict.fromkeys(values))


def base_salary(salary: Salary | None) -> JsonObject | None:
    """A MonetaryAmount, when the feed has an amount, an ISO currency code and a time unit
    (an amount without one is no salary Google can read: it wants `unitText`)."""
    if salary is None or not re.fullmatch(r"[A-Z]{3}", salary.currency_code):
        return None
    if salary.type not in UNITS:
        return None
    low, high = sorted((salary.min, salary.max)) if salary.min and salary.max else (0, 0)
    amounts: dict[str, float]
    if low:
        amounts = {"value": low} if low == high else {"minValue": low, "maxValue": high}
    # One side only is an open range ("from €4,200", as the page says), not an exact salary.
    elif salary.min:
        amounts = {"minValue": salary.min}
    elif salary.max:
        amounts = {"maxValue": salary.max}
    else:
        return None
    whole = {k: int(v) if v == int(v) else v for k, v in amounts.items()}  # 4200, not 4200.0
    value = {"@type": "QuantitativeValue", **whole, "unitText": UNITS[salary.type]}
    return {"@type": "MonetaryAmount", "currency": salary.currency_code, "value": value}


def _locations(
    position: Position, remote_countries: tuple[str, ...] = (), default_country: str = ""
) -> JsonObject:
    """jobLocation per office; remote "offices" become TELECOMMUTE with the country they name.
    Offices that name no country are in CAREERS_DEFAULT_COUNTRY; applicants of a remote
    office that names none may live in CAREERS_REMOTE_COUNTRIES, else the default country."""
    places, countries, remote = [], [], False
    for office in position.offices:
        country = _country_in(office)
        if _REMOTE.search(office):
            remote = True
            if country and country[1] not in countries:
                countries.append(country[1])
            continue
        address = {"@type": "PostalAddress", "addressLocality": office}
        if country:
            locality = re.sub(r"\(\s*\)", "", office.replace(country[1], "")).strip(" ,-–/")
            address.update(addressLocality=locality or office, addressCountry=country[0])
        elif default_country:
            address["addressCountry"] = default_country
        places.append({"@type": "Place", "address": address})
    if remote and not countries:
        countries = list(remote_countries) or ([default_country] if default_country else [])
    data: JsonObject = {}
    if places:
        data["jobLocation"] = _one_or_many(places)
    # Google delists TELECOMMUTE without applicantLocationRequirements: a hybrid posting whose
    # remote office names no country keeps its offices only; a remote-only one without any
    # country is left incomplete here and then gets no JobPosting at all (see below).
    if countries:
        data["jobLocationType"] = "TELECOMMUTE"
        data["applicantLocationRequirements"] = _one_or_many(
            [{"@type": "Country", "name": name} for name in countries]
        )
    elif remote and not places:
        data["jobLocationType"] = "TELECOMMUTE"
    return data


def job_posting(
    position: Position, *, canonical_url: str, settings: Settings, account: Account | None = None
) -> JsonObject:
    """schema.org JobPosting for one position, with only what the feed actually says;
    `account`: the Personio account it belongs to, on a board of several (the hiring
    organisation is then that account's company)."""
    data: JsonObject = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": position.name,
    }
    description = "".join(
        (f"<h2>{escape(block.name)}</h2>" if block.name else "") + block.html
        for block in position.descriptions
    )
    if description:
        data["description"] = description
    if position.created_at is not None:
        data["datePosted"] = position.created_at.date().isoformat()
    # No validThrough: Personio never says when a posting closes; it just leaves the feed
    # (and the page then answers 410, which search engines understand).
    company = account.name if account and settings.several_accounts else settings.company_name
    organization = {"@type": "Organization", "name": company}
    if settings.public_url:
        organization.update(sameAs=settings.public_url, url=settings.public_url)
    data["hiringOrganization"] = organization
    data.update(_locations(position, settings.remote_countries, settings.default_country))
    types = employment_types(position)
    if types:
        data["employmentType"] = _one_or_many(types)
    salary = base_salary(position.salary)
    if salary is not None:
        data["baseSalary"] = salary
    months = EXPERIENCE_MONTHS.get(position.years_of_experience)
    if months is not None:
        requirement = {"@type": "OccupationalExperienceRequirements", "monthsOfExperience": months}
        data["experienceRequirements"] = requirement
    data["identifier"] = {"@type": "PropertyValue", "name": company, "value": str(position.id)}
    # Our form is on the posting's own page, unless applications go to Personio (read-only).
    data["directApply"] = not (account.read_only if account else settings.read_only)
    data["url"] = canonical_url
    return data


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def missing_properties(data: JsonObject) -> list[str]:
    """What Google requires of a JobPosting and `data` lacks; empty when it is valid.

    From Google's documented required properties
    (developers.google.com/search/docs/appearance/structured-data/job-posting#required-properties):
    datePosted, description, hiringOrganization (an organization with its name), title, and
    jobLocation — or, for a job done fully remotely, jobLocationType TELECOMMUTE together with
    applicantLocationRequirements (the countries applicants may live in). A posting that
    lacks one of them is "invalid" to Google and reported in Search Console; we send none.
    """
    missing = [
        name for name in ("title", "description", "datePosted") if not _has_text(data.get(name))
    ]
    organization = data.get("hiringOrganization")
    if not isinstance(organization, dict) or not str(organization.get("name") or "").strip():
        missing.append("hiringOrganization")
    places = [p for p in _as_list(data.get("jobLocation") or []) if isinstance(p, dict)]
    addressed = [p for p in places if (p.get("address") or {}).get("addressLocality")]
    countries = [
        c
        for c in _as_list(data.get("applicantLocationRequirements") or [])
        if isinstance(c, dict) and c.get("name")
    ]
    remote = data.get("jobLocationType") == "TELECOMMUTE"
    if remote and not countries:
        missing.append("applicantLocationRequirements")
    elif not addressed and not remote:
        missing.append("jobLocation")
    return missing


def _has_text(value: object) -> bool:
    """Words a reader would see: `<p>&nbsp;</p>` or a lone `<br>` is no description."""
    text = html.unescape(_TAGS.sub(" ", str(value or "")))
    return bool(text.replace("\xa0", " ").strip())


def valid_job_posting(
    position: Position, *, canonical_url: str, settings: Settings, account: Account | None = None
) -> JsonObject | None:
    """The posting when Google would accept it, None when it would not (docs/seo.md)."""
    data = job_posting(position, canonical_url=canonical_url, settings=settings, account=account)
    return None if missing_properties(data) else data


def json_ld_script(data: JsonObject) -> Markup:
    """A JSON-LD data block; feed text such as `</script>` cannot end it early.

    A data block is never executed, so the CSP's `script-src 'self'` does not apply to it.
    """
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_JSON_IN_HTML)
    return Markup(f'<script type="application/ld+json">{body}</script>')


def job_posting_ld(position: Position) -> Markup:
    """The detail page's JSON-LD (a template helper); none when Google would reject it,
    and none for a position kept off the board (the open-application one)."""
    if position.id in services().catalogue.unlisted:
        return Markup("")
    posting = valid_job_posting(
        position,
        canonical_url=job_url(position, external=True),
        settings=services().settings,
        account=account_of(position),
    )
    return json_ld_script(posting) if posting is not None else Markup("")


# Search engines show about this many characters of a meta description; a list page's stops here.
LIST_DESCRIPTION_LIMIT = 155
_QUERY_IN_DESCRIPTION = 40  # characters of `q` a description quotes; the count must fit after it


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut at a word and marked with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.;:–-") + "…"


def summary(position: Position, limit: int = 200) -> str:
    """The first ~`limit` characters of the description as plain text (og:description)."""
    text = " ".join(_TAGS.sub(" ", block.html) for block in position.descriptions)
    return shorten(html.unescape(text), limit + 1)


def list_description(total: int, filters: dict[str, tuple[str, ...]], q: str) -> str:
    """The job list's meta description: how many jobs the company has open here, with the
    search words and the filters' labels ("3 open positions at ACME: Berlin, Engineering").

    Plain text, escaped by the template; it depends only on what keys the page cache (the
    board version, the language and the URL), so a cached page carries the right one.
    """
    company = services().settings.company_name
    shown = ", ".join(label(name, value) for name, values in filters.items() for value in values)
    if q:
        words = shorten(q, _QUERY_IN_DESCRIPTION)
        if shown:
            text = ngettext(
                "Search results for “%(q)s”: %(num)s open position at %(company)s, %(filters)s",
                "Search results for “%(q)s”: %(num)s open positions at %(company)s, %(filters)s",
                total,
                q=words,
                company=company,
                filters=shown,
            )
        else:
            text = ngettext(
                "Search results for “%(q)s”: %(num)s open position at %(company)s",
                "Search results for “%(q)s”: %(num)s open positions at %(company)s",
                total,
                q=words,
                company=company,
            )
    elif shown:
        text = ngettext(
            "%(num)s open position at %(company)s: %(filters)s",
            "%(num)s open positions at %(company)s: %(filters)s",
            total,
            company=company,
            filters=shown,
        )
    else:
        text = ngettext(
            "%(num)s open position at %(company)s",
            "%(num)s open positions at %(company)s",
            total,
            company=company,
        )
    return shorten(text, LIST_DESCRIPTION_LIMIT)


def og_locale(lang: str) -> str:
    """The og:locale of a page language."""
    return OG_LOCALES.get(lang, f"{lang}_{lang.upper()}")


def x_default_href(position: Position, alternates: list[tuple[str, str]]) -> str:
    """The default language's version of this page, for hreflang="x-default"."""
    default = services().settings.default_language
    here = job_url(position, external=True)
    return here if g.lang == default else dict(alternates).get(default, here)


@bp.app_context_processor
def seo_helpers() -> dict[str, object]:
    """Template helpers for the <head> of pages."""
    return {
        "job_posting_ld": job_posting_ld,
        "og_description": summary,
        "list_description": list_description,
        "og_locale": og_locale,
        "x_default_href": x_default_href,
    }


SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"
ROBOTS = (
    "User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /*/applications/\n\nSitemap: {sitemap}\n"
)


def _url(
    urlset: etree._Element, loc: str, lastmod: str, versions: dict[str, str], default: str
) -> None:
    """One <url> with its language versions (itself included) and x-default."""
    url = etree.SubElement(urlset, f"{{{SITEMAP}}}url")
    etree.SubElement(url, f"{{{SITEMAP}}}loc").text = loc
    if lastmod:
        etree.SubElement(url, f"{{{SITEMAP}}}lastmod").text = lastmod
    if len(versions) < 2:
        return
    fallback = versions.get(default) or next(iter(versions.values()))
    for hreflang, href in [*versions.items(), ("x-default", fallback)]:
        etree.SubElement(url, f"{{{XHTML}}}link", rel="alternate", hreflang=hreflang, href=href)


def _date(position: Position) -> str:
    return position.created_at.date().isoformat() if position.created_at else ""


@bp.get("/sitemap.xml")
def sitemap() -> BaseResponse:
    """Every language's list page and every open job in each language whose feed has it."""
    settings, catalogue = services().settings, services().catalogue
    found = {lang: catalogue.snapshot(lang) for lang in settings.languages}
    if None in found.values():  # on a cold start, another language's first fetch may be running
        catalogue.wait_idle(COLD_START_WAIT)
        found = {lang: catalogue.snapshot(lang, wait=0) for lang in found}  # views were rebuilt
    snapshots = {lang: snapshot for lang, snapshot in found.items() if snapshot is not None}
    if not snapshots:
        raise FeedUnavailable()
    default = settings.default_language
    urlset = etree.Element(f"{{{SITEMAP}}}urlset", nsmap={None: SITEMAP, "xhtml": XHTML})
    lists = {lang: absolute_url("pages.job_list", lang=lang) for lang in snapshots}
    for lang, snapshot in snapshots.items():
        newest = max((_date(p) for p in snapshot.positions), default="")
        _url(urlset, lists[lang], newest, lists, default)
    jobs: dict[int, dict[str, Position]] = {}
    for lang, snapshot in snapshots.items():
        for position in snapshot.positions:
            jobs.setdefault(position.id, {})[lang] = position
    for versions in jobs.values():
        urls = {lang: job_url(p, lang, external=True) for lang, p in versions.items()}
        for lang, position in versions.items():
            _url(urlset, urls[lang], _date(position), urls, default)
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(urlset, encoding="UTF-8")
    response = Response(body, mimetype="application/xml")
    version = next(iter(snapshots.values())).version
    key = f"{version}|{sorted(snapshots)}|{request.host_url}".encode()
    response.set_etag(hashlib.blake2b(key, digest_size=12).hexdigest())
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawl all but the API and receipts; /embed/ stays open so crawlers see its noindex."""
    body = ROBOTS.format(sitemap=absolute_url("seo.sitemap"))
    return Response(body, mimetype="text/plain")
