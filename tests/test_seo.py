"""Search-engine presence against the sandbox's sample board: JSON-LD, Open Graph, sitemap, robots."""

from __future__ import annotations

import json
import re
from datetime import date

import lxml.etree
import lxml.html
import pytest
from markupsafe import escape

from careers.jobs.slugs import slugify
from careers.personio.feed import FeedError, parse_feed
from careers.sandbox.sample_data import UNTRANSLATED_ID, sample_positions
from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN
from careers.web.seo import json_ld_script

from .applying import LANGUAGES, every_language_env
from .apps import FIXTURES, catalogue_of

EN = {p.id: p for p in sample_positions("en")}
DE = {p.id: p for p in sample_positions("de")}
BOARDS = {"en": EN, "de": DE}
HOST = "http://localhost"

# Every property schema.org defines for JobPosting: its own and those inherited from Thing
# (https://schema.org/JobPosting). Anything else is a typo or an invention.
JOB_POSTING_PROPERTIES = {
    "applicantLocationRequirements", "applicationContact", "baseSalary", "benefits",
    "datePosted", "directApply", "educationRequirements", "eligibilityToWorkRequirement",
    "employerOverview", "employmentType", "employmentUnit", "estimatedSalary",
    "experienceInPlaceOfEducation", "experienceRequirements", "hiringOrganization",
    "incentiveCompensation", "incentives", "industry", "jobBenefits", "jobImmediateStart",
    "jobLocation", "jobLocationType", "jobStartDate", "occupationalCategory",
    "physicalRequirement", "qualifications", "relevantOccupation", "responsibilities",
    "salaryCurrency", "securityClearanceRequirement", "sensoryRequirement", "skills",
    "specialCommitments", "title", "totalJobOpenings", "validThrough", "workHours",
    # from Thing
    "additionalType", "alternateName", "description", "disambiguatingDescription",
    "identifier", "image", "mainEntityOfPage", "name", "potentialAction", "sameAs",
    "subjectOf", "url",
}  # fmt: skip
# The nested schema.org types the markup may use, with the properties we allow on each.
TYPE_PROPERTIES = {
    "Organization": {"name", "legalName", "sameAs", "url", "logo"},
    "Place": {"address"},
    "PostalAddress": {"addressLocality", "addressRegion", "addressCountry", "postalCode", "streetAddress"},
    "Country": {"name"},
    "MonetaryAmount": {"currency", "value", "minValue", "maxValue"},
    "QuantitativeValue": {"value", "minValue", "maxValue", "unitText"},
    "PropertyValue": {"name", "value", "propertyID"},
    "OccupationalExperienceRequirements": {"monthsOfExperience"},
}  # fmt: skip
# Google's values (developers.google.com/search/docs/appearance/structured-data/job-posting).
EMPLOYMENT_TYPES = {
    "FULL_TIME", "PART_TIME", "CONTRACTOR", "TEMPORARY", "INTERN", "VOLUNTEER", "PER_DIEM", "OTHER",
}  # fmt: skip
SALARY_UNITS = {"HOUR", "DAY", "WEEK", "MONTH", "YEAR"}
NO_REMOTE_COUNTRY = "TELECOMMUTE-only posting without applicantLocationRequirements"


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def walk(node):
    """Every dict inside a JSON-LD value, the value itself included."""
    if isinstance(node, dict):
        yield node
        for child in node.values():
            yield from walk(child)
    elif isinstance(node, list):
        for child in node:
            yield from walk(child)


def problems(data: dict) -> list[str]:
    """What Google's required and recommended JobPosting properties find wrong, as sentences."""
    found = []
    if data.get("@context") != "https://schema.org" or data.get("@type") != "JobPosting":
        found.append("not a schema.org JobPosting")
    unknown = set(data) - JOB_POSTING_PROPERTIES - {"@context", "@type"}
    if unknown:
        found.append(f"unknown JobPosting properties {sorted(unknown)}")
    for node in walk(list(data.values())):
        kind = node.get("@type")
        if kind is None:
            found.append(f"untyped object {node}")
        elif kind in TYPE_PROPERTIES and set(node) - TYPE_PROPERTIES[kind] - {"@type"}:
            found.append(f"unknown {kind} properties {sorted(set(node) - TYPE_PROPERTIES[kind])}")
        elif kind is not None and kind not in TYPE_PROPERTIES:
            found.append(f"unexpected type {kind}")
    # Required
    for name in ("title", "description"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            found.append(f"{name} missing")
    try:
        date.fromisoformat(data["datePosted"])
    except (KeyError, TypeError, ValueError):
        found.append("datePosted missing or not an ISO date")
    org = data.get("hiringOrganization") or {}
    if org.get("@type") != "Organization" or not org.get("name"):
        found.append("hiringOrganization without a name")
    for place in as_list(data.get("jobLocation", [])):
        address = place.get("address") or {}
        if place.get("@type") != "Place" or address.get("@type") != "PostalAddress":
            found.append(f"jobLocation is not a Place with a PostalAddress: {place}")
        elif not address.get("addressLocality"):
            found.append(f"jobLocation without addressLocality: {place}")
    # Google delists TELECOMMUTE without applicantLocationRequirements.
    if "jobLocationType" in data:
        if data["jobLocationType"] != "TELECOMMUTE":
            found.append("jobLocationType other than TELECOMMUTE")
        elif "applicantLocationRequirements" not in data:
            found.append(NO_REMOTE_COUNTRY)
    elif "jobLocation" not in data:
        found.append("neither jobLocation nor TELECOMMUTE")
    for area in as_list(data.get("applicantLocationRequirements", [])):
        if area.get("@type") != "Country" or not area.get("name"):
            found.append(f"applicantLocationRequirements is not a named Country: {area}")
    # Recommended
    types = as_list(data.get("employmentType", []))
    if not types or set(types) - EMPLOYMENT_TYPES or len(set(types)) != len(types):
        found.append(f"employmentType {types!r}")
    identifier = data.get("identifier") or {}
    if identifier.get("@type") != "PropertyValue" or not all(
        isinstance(identifier.get(k), str) and identifier[k] for k in ("name", "value")
    ):
        found.append("identifier is not a named PropertyValue")
    if not isinstance(data.get("directApply"), bool):
        found.append("directApply is not a boolean")
    if "baseSalary" in data:
        salary = data["baseSalary"]
        value = salary.get("value") or {}
        amounts = {k: value[k] for k in ("value", "minValue", "maxValue") if k in value}
        if salary.get("@type") != "MonetaryAmount" or not re.fullmatch(
            r"[A-Z]{3}", salary.get("currency", "")
        ):
            found.append("baseSalary is not a MonetaryAmount with an ISO currency")
        if value.get("@type") != "QuantitativeValue" or not amounts:
            found.append("baseSalary without a QuantitativeValue")
        if not all(isinstance(a, int | float) and a > 0 for a in amounts.values()):
            found.append("baseSalary amounts are not positive numbers")
        if "value" in amounts and len(amounts) > 1:
            found.append("baseSalary mixes value with a range")
        if value.get("minValue", 0) > value.get("maxValue", float("inf")):
            found.append("baseSalary minValue above maxValue")
        if value.get("unitText") not in SALARY_UNITS:
            found.append("baseSalary unitText")
    if "validThrough" in data:
        found.append("validThrough invented: Personio does not say when a job closes")
    if not re.fullmatch(r"https?://[^/]+/.+", data.get("url", "")):
        found.append("url is not absolute")
    return found


@pytest.fixture
def client(app, sandbox):
    """Both languages fetched up front: a German page may borrow English texts (docs/operations.md#how-the-feed-is-handled)."""
    catalogue_of(app).refresh_all()
    return app.test_client()


def page_of(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def json_ld_of(response) -> dict:
    """The page's only JSON-LD block, parsed."""
    blocks = page_of(response).xpath("//script[@type='application/ld+json']")
    assert len(blocks) == 1
    return json.loads(blocks[0].text)


def job_path(lang: str, position) -> str:
    return f"/{lang}/jobs/{position.id}-{slugify(position.name)}"


def texts_of(lang: str, job_id: int):
    """The position whose description texts a language's page shows (fallback: docs/operations.md#how-the-feed-is-handled)."""
    position = BOARDS[lang][job_id]
    return position if position.descriptions else EN[job_id]


# Offices named just "Remote" say nothing about where applicants may live; we don't invent a
# country, so without CAREERS_DEFAULT_COUNTRY these two get no JobPosting (careers/web/seo.py).
REMOTE_WITHOUT_COUNTRY = {p.id for p in EN.values() if p.offices == ("Remote",)}


def test_the_sample_board_has_the_cases_these_tests_rely_on():
    assert REMOTE_WITHOUT_COUNTRY == {1843560, 1843801}
    assert EN[1843011].offices == ("Berlin", "Hamburg", "Remote (Germany)")
    assert not DE[UNTRANSLATED_ID].descriptions


@pytest.mark.parametrize(
    ("lang", "job_id"), [(lang, job_id) for lang in ("en", "de") for job_id in sorted(EN)]
)
def test_every_sample_job_has_valid_job_posting_markup(client, sandbox, lang, job_id):
    position = BOARDS[lang][job_id]
    response = client.get(f"/{lang}/jobs/{job_id}", follow_redirects=True)
    assert response.status_code == 200
    if job_id in REMOTE_WITHOUT_COUNTRY:
        # Google would reject it (no applicant country): no JobPosting rather than a bad one.
        assert not page_of(response).xpath("//script[@type='application/ld+json']")
        return
    data = json_ld_of(response)
    assert problems(data) == []

    assert data["title"] == position.name
    for block in texts_of(lang, job_id).descriptions:
        assert f"<h2>{escape(block.name)}</h2>" in data["description"]
    assert data["datePosted"] == position.created_at.date().isoformat()
    assert data["hiringOrganization"] == {"@type": "Organization", "name": "Nordlicht Robotics"}
    assert data["identifier"]["value"] == str(job_id)
    assert data["identifier"]["name"] == "Nordlicht Robotics"
    assert data["directApply"] is False  # no Recruiting API credentials: apply on Personio
    assert data["url"] == page_of(response).xpath("//link[@rel='canonical']/@href")[0]
    assert data["url"] == HOST + job_path(lang, position)
    offices = [o for o in position.offices if not o.startswith("Remote")]
    places = as_list(data.get("jobLocation", []))
    assert [p["address"]["addressLocality"] for p in places] == offices
    remote = any(o.startswith("Remote") for o in position.offices)
    assert (data.get("jobLocationType") == "TELECOMMUTE") == remote
    salary = position.salary
    assert ("baseSalary" in data) == bool(salary and salary.currency_code)
    if salary:
        value = data["baseSalary"]["value"]
        assert data["baseSalary"]["currency"] == salary.currency_code
        assert value.get("minValue") == salary.min and value.get("maxValue") == salary.max
    assert "validThrough" not in data and "inLanguage" not in data


@pytest.mark.parametrize(
    ("job_id", "employment_type"),
    [
        (1842958, "FULL_TIME"),  # permanent, full-time
        (1843011, ["FULL_TIME", "PART_TIME"]),  # permanent, full- or part-time
        (1843402, "PART_TIME"),  # working student, part-time
        (1843455, ["INTERN", "FULL_TIME"]),  # internship, full-time
        (1843517, "FULL_TIME"),  # trainee programme, full-time
        (1843560, ["CONTRACTOR", "PART_TIME"]),  # freelance, part-time
        (1843720, ["TEMPORARY", "FULL_TIME"]),  # temporary, full-time
    ],
)
def test_employment_type_combines_contract_and_hours(make_app, sandbox, job_id, employment_type):
    client = make_app(default_country="DE").test_client()  # 1843560 is remote only
    data = json_ld_of(client.get(f"/en/jobs/{job_id}", follow_redirects=True))
    assert data["employmentType"] == employment_type


def test_offices_become_places_and_remote_offices_telecommute(client, sandbox):
    data = json_ld_of(client.get("/en/jobs/1843011", follow_redirects=True))
    assert data["jobLocation"] == [
        {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Berlin"}},
        {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Hamburg"}},
    ]
    assert data["jobLocationType"] == "TELECOMMUTE"
    assert data["applicantLocationRequirements"] == {"@type": "Country", "name": "Germany"}
    uk = json_ld_of(client.get(f"/en/jobs/{UNTRANSLATED_ID}", follow_redirects=True))
    assert uk["applicantLocationRequirements"] == {"@type": "Country", "name": "United Kingdom"}
    assert uk["jobLocation"]["address"]["addressLocality"] == "London"
    remote_only = page_of(client.get("/en/jobs/1843560", follow_redirects=True))
    assert not remote_only.xpath("//script[@type='application/ld+json']")  # no country known


def test_remote_countries_setting_completes_remote_only_postings(make_app, sandbox):
    client = make_app(remote_countries="Germany, Austria").test_client()
    for job_id in sorted(EN):
        data = json_ld_of(client.get(f"/en/jobs/{job_id}", follow_redirects=True))
        assert problems(data) == [], job_id
    remote_only = json_ld_of(client.get("/en/jobs/1843560", follow_redirects=True))
    assert remote_only["applicantLocationRequirements"] == [
        {"@type": "Country", "name": "Germany"},
        {"@type": "Country", "name": "Austria"},
    ]
    # A country the feed names wins over the setting.
    hybrid = json_ld_of(client.get("/en/jobs/1843011", follow_redirects=True))
    assert hybrid["applicantLocationRequirements"] == {"@type": "Country", "name": "Germany"}


def test_salary_as_the_feed_gives_it(client, sandbox):
    vienna = json_ld_of(client.get("/en/jobs/1843054", follow_redirects=True))["baseSalary"]
    # Only a minimum: "from €4,200 gross a month" on the page, an open range here.
    assert vienna == {
        "@type": "MonetaryAmount",
        "currency": "EUR",
        "value": {"@type": "QuantitativeValue", "minValue": 4200, "unitText": "MONTH"},
    }
    london = json_ld_of(client.get("/en/jobs/1843190", follow_redirects=True))["baseSalary"]
    assert london["currency"] == "GBP"
    assert london["value"] == {
        "@type": "QuantitativeValue",
        "minValue": 48000,
        "maxValue": 58000,
        "unitText": "YEAR",
    }
    no_salary = json_ld_of(client.get("/en/jobs/1842958", follow_redirects=True))
    assert "baseSalary" not in no_salary


def test_experience_is_the_lower_bound_in_months(client, sandbox):
    senior = json_ld_of(client.get("/en/jobs/1842907", follow_redirects=True))  # 5-7 years
    assert senior["experienceRequirements"] == {
        "@type": "OccupationalExperienceRequirements",
        "monthsOfExperience": 60,
    }
    student = json_ld_of(client.get("/en/jobs/1843402", follow_redirects=True))  # lt-1
    assert "experienceRequirements" not in student


def test_direct_apply_and_organisation_url_follow_the_settings(make_app, sandbox):
    app = make_app(
        personio_company_id=SANDBOX_COMPANY_ID,
        personio_recruiting_token=SANDBOX_TOKEN,
        public_url="https://jobs.example.com",
    )
    catalogue_of(app).refresh_all()
    client = app.test_client()
    data = json_ld_of(client.get("/en/jobs/1842958", follow_redirects=True))
    assert data["directApply"] is True
    assert data["hiringOrganization"]["sameAs"] == "https://jobs.example.com"
    assert data["url"] == "https://jobs.example.com/en/jobs/1842958-embedded-systems-engineer-m-f-d"
    assert problems(data) == []


HOSTILE = """<?xml version="1.0" encoding="UTF-8"?>
<workzag-jobs>
  <position>
    <id>902</id>
    <name>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; Growth &amp; Hacking&#x2028;Lead</name>
    <office>Berlin</office>
    <employmentType>permanent</employmentType>
    <schedule>full-time</schedule>
    <createdAt>2026-11-20T10:00:00+00:00</createdAt>
    <jobDescriptions>
      <jobDescription>
        <name>&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;</name>
        <value><![CDATA[<p>Say &lt;/script&gt;&lt;script&gt;alert(3)&lt;/script&gt; here</p>
          </script><script>alert(4)</script><!-- </script> -->]]></value>
      </jobDescription>
    </jobDescriptions>
  </position>
</workzag-jobs>
"""


def test_hostile_feed_text_stays_inside_the_json(app, sandbox):
    sandbox.inject(kind="body", body=HOSTILE)
    catalogue_of(app).refresh_all()
    client = app.test_client()
    response = client.get("/en/jobs/902", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Two script elements in the whole page: the data block, and our share links' empty
    # element that loads /static/share.js (docs/referrals.md). No feed text made a third.
    share_js = '<script src="/static/share.js?v='
    assert html.lower().count("<script") == 2 and html.lower().count("</script") == 2
    assert html.count(share_js) == 1
    scripts = page_of(response).xpath("//script")
    assert [s.get("type") for s in scripts] == ["application/ld+json", None]
    assert scripts[0].get("src") is None
    assert scripts[1].get("src").startswith("/static/share.js?v=") and not scripts[1].text
    raw = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert not set(raw) & {"<", ">", "&", "\u2028", "\u2029"}
    data = json.loads(raw)
    title = client.get("/api/v1/jobs/902?lang=en").json["job"]["name"]
    assert data["title"] == title and "</script><script>alert(1)</script>" in title
    assert "<h2>&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;</h2>" in data["description"]
    assert "<script" not in data["description"]
    assert problems(data) == []


def test_json_ld_script_escapes_for_html():
    data = {"a": "</script><!-- & \u2028\u2029 >", "b": ["ä", 1, True]}
    block = str(json_ld_script(data))
    assert block.startswith('<script type="application/ld+json">')
    assert block.endswith("</script>")
    body = block[len('<script type="application/ld+json">') : -len("</script>")]
    assert not set(body) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(body) == data


def test_open_graph_and_language_links(client, sandbox):
    english = client.get("/en/jobs/1843011", follow_redirects=True)
    doc = page_of(english)

    def meta(prop: str) -> list[str]:
        return doc.xpath(f"//meta[@property='{prop}']/@content")

    canonical = doc.xpath("//link[@rel='canonical']/@href")
    assert canonical == [HOST + job_path("en", EN[1843011])]
    assert meta("og:url") == canonical and meta("og:title") == [EN[1843011].name]
    assert meta("og:type") == ["website"] and meta("og:site_name") == ["Nordlicht Robotics"]
    assert meta("og:locale") == ["en_GB"] and meta("og:locale:alternate") == ["de_DE"]
    [description] = meta("og:description")
    first_block = lxml.html.fromstring(EN[1843011].descriptions[0].html).text_content()
    assert description[:40] in " ".join(first_block.split())
    assert 50 < len(description) <= 201 and "<" not in description
    assert doc.xpath("//meta[@name='description']/@content") == [description]
    links = dict(zip(doc.xpath("//link[@rel='alternate']/@hreflang"), doc.xpath("//link[@rel='alternate']/@href"), strict=True))  # fmt: skip
    assert links == {
        "en": canonical[0],
        "de": HOST + job_path("de", DE[1843011]),
        "x-default": canonical[0],
    }
    german = page_of(client.get("/de/jobs/1843011", follow_redirects=True))
    assert german.xpath("//meta[@property='og:locale']/@content") == ["de_DE"]
    assert german.xpath("//link[@hreflang='x-default']/@href") == canonical


# -- The job list's meta description -------------------------------------------------------


def list_description(response) -> str:
    """The one meta description of a list page."""
    assert response.status_code == 200
    [description] = page_of(response).xpath("//meta[@name='description']/@content")
    return description


def chip_labels(response) -> list[str]:
    """The value labels the page's active-filter chips show ("Department: Engineering")."""
    chips = page_of(response).xpath("//a[contains(@class, 'chip--removable')]")
    return ["".join(chip.xpath("text()")).split(": ", 1)[1].strip() for chip in chips]


def result_count(response) -> int:
    return int(page_of(response).xpath("//h2[@id='results-heading']")[0].text_content().split()[0])


def test_list_description_per_language_and_filter(make_app, sandbox, tmp_path):
    client = make_app(**every_language_env(sandbox, tmp_path)).test_client()
    filtered = "?department=Engineering&employment_type=intern"
    seen: dict[str, set[str]] = {"all": set(), "filtered": set(), "office": set()}
    for lang in LANGUAGES:
        everything = client.get(f"/{lang}/jobs")
        some = client.get(f"/{lang}/jobs{filtered}")
        other = client.get(f"/{lang}/jobs?office=Berlin")
        descriptions = {
            "all": list_description(everything),
            "filtered": list_description(some),
            "office": list_description(other),
        }
        for kind, text in descriptions.items():
            assert "Nordlicht Robotics" in text, (lang, text)
            seen[kind].add(text)
        assert str(len(EN)) in descriptions["all"]
        assert result_count(some) == 1 and "1" in descriptions["filtered"]
        labels = chip_labels(some)
        assert len(labels) == 2 and all(label in descriptions["filtered"] for label in labels)
        assert str(result_count(other)) in descriptions["office"]
        assert "Berlin" in descriptions["office"]
        assert len(set(descriptions.values())) == 3, descriptions
        # The widget's list describes itself the same way.
        assert (
            list_description(client.get(f"/embed/{lang}/jobs{filtered}"))
            == descriptions["filtered"]
        )
    # Every language its own words.
    assert all(len(texts) == len(LANGUAGES) for texts in seen.values()), seen
    assert list_description(client.get(f"/en/jobs{filtered}")) == (
        "1 open position at Nordlicht Robotics: Engineering, Internship"
    )
    assert list_description(client.get(f"/de/jobs{filtered}")) == (
        "1 offene Stelle bei Nordlicht Robotics: Engineering, Praktikum"
    )
    assert list_description(client.get("/de/jobs?q=engineer&office=Berlin")) == (
        "Suchergebnisse für „engineer“: 2 offene Stellen bei Nordlicht Robotics, Berlin"
    )
    assert list_description(client.get("/en/jobs?q=nothing-matches")) == (
        "Search results for “nothing-matches”: 0 open positions at Nordlicht Robotics"
    )


def test_list_description_escapes_markup_and_stays_short(make_app, sandbox):
    client = make_app(company_name='Nordlicht & <b>"Söhne"</b>').test_client()
    hostile = '"><script>alert(1)</script>'
    response = client.get("/en/jobs", query_string={"q": hostile})
    body = response.get_data(as_text=True)
    assert "<script>alert" not in body and "<b>" not in body
    assert list_description(response) == (
        f'Search results for “{hostile}”: 0 open positions at Nordlicht & <b>"Söhne"</b>'
    )
    assert 'content="Search results for “&#34;&gt;&lt;script&gt;alert(1)' in body
    # Every office and a long search: cut at a word, the count kept, at most 155 characters.
    offices = sorted({office for p in EN.values() for office in p.offices})
    query = {"office": offices, "q": "engineer " + "robotics " * 30}
    long = list_description(client.get("/en/jobs", query_string=query))
    assert len(long) <= 155 and long.endswith("…"), long
    assert "open position" in long and "Nordlicht" in long
    many = list_description(client.get("/en/jobs", query_string={"office": offices}))
    assert len(many) <= 155 and many.startswith(f"{len(EN)} open positions at Nordlicht &")
    assert many.endswith("…") and "Berlin" in many


def test_a_cached_list_page_carries_its_own_description(app, sandbox):
    """The page cache and the fast path keep each URL's description, and a new board's."""
    client = app.test_client()
    for _ in range(3):  # rendered, a page-cache hit, replayed by the fast path
        berlin = list_description(client.get("/en/jobs?office=Berlin"))
        hamburg = list_description(client.get("/en/jobs?office=Hamburg"))
        embedded = list_description(client.get("/embed/de/jobs?office=Hamburg"))
        assert berlin.endswith(": Berlin") and hamburg.endswith(": Hamburg")
        assert embedded.startswith("4 offene Stellen") and embedded.endswith(": Hamburg")
    sandbox.set_positions("en", [EN[1843402]])  # one Berlin job left
    catalogue_of(app).refresh_all()
    for _ in range(3):
        assert list_description(client.get("/en/jobs?office=Berlin")) == (
            "1 open position at Nordlicht Robotics: Berlin"
        )


SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}  # fmt: skip


def sitemap_entries(response) -> dict[str, dict]:
    """loc -> {"lastmod": ..., "alternates": {hreflang: href}}."""
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = lxml.etree.fromstring(response.data)
    entries = {}
    for url in root.findall("sm:url", SITEMAP_NS):
        links = url.findall("x:link", SITEMAP_NS)
        assert all(link.get("rel") == "alternate" for link in links)
        entries[url.findtext("sm:loc", namespaces=SITEMAP_NS)] = {
            "lastmod": url.findtext("sm:lastmod", namespaces=SITEMAP_NS),
            "alternates": {link.get("hreflang"): link.get("href") for link in links},
        }
    return entries


def test_sitemap_lists_list_pages_and_every_job_in_both_languages(client, sandbox):
    entries = sitemap_entries(client.get("/sitemap.xml"))
    assert len(entries) == 2 + len(EN) + len(DE)
    lists = {"en": f"{HOST}/en/jobs", "de": f"{HOST}/de/jobs"}
    for lang, url in lists.items():
        newest = max(p.created_at for p in BOARDS[lang].values()).date().isoformat()
        assert entries[url] == {
            "lastmod": newest,
            "alternates": {**lists, "x-default": lists["en"]},
        }
    assert f"{HOST}/en/jobs/1842958-embedded-systems-engineer-m-f-d" in entries
    for job_id, english in EN.items():
        urls = {lang: HOST + job_path(lang, BOARDS[lang][job_id]) for lang in BOARDS}
        for url in urls.values():
            assert entries[url] == {
                "lastmod": english.created_at.date().isoformat(),
                "alternates": {**urls, "x-default": urls["en"]},
            }
    # Every address in it is a canonical page, not a redirect.
    for url in entries:
        assert client.get(url.removeprefix(HOST)).status_code == 200, url


def test_sitemap_uses_the_public_url_and_answers_conditional_requests(make_app, sandbox):
    client = make_app(public_url="https://jobs.example.com").test_client()
    response = client.get("/sitemap.xml")
    assert all(loc.startswith("https://jobs.example.com/") for loc in sitemap_entries(response))
    again = client.get("/sitemap.xml", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_sitemap_on_a_cold_start_waits_for_every_language(make_app, sandbox):
    sandbox.inject(kind="slow", delay=0.5, language="de")  # still in flight when "en" is done
    entries = sitemap_entries(make_app().test_client().get("/sitemap.xml"))
    assert len(entries) == 2 + len(EN) + len(DE)


def test_sitemap_of_an_empty_board_and_of_no_board(make_app, sandbox, tmp_path):
    sandbox.inject(kind="empty")
    empty = sitemap_entries(make_app().test_client().get("/sitemap.xml"))
    assert set(empty) == {f"{HOST}/en/jobs", f"{HOST}/de/jobs"}
    assert all(entry["lastmod"] is None for entry in empty.values())
    sandbox.clear_faults()
    sandbox.inject(kind="status", status=503)
    # A fresh data directory: no stored copy to fall back on.
    unavailable = make_app(data_dir=tmp_path / "cold").test_client().get("/sitemap.xml")
    assert unavailable.status_code == 503


@pytest.mark.parametrize(
    ("overrides", "sitemap"),
    [
        ({}, "http://localhost/sitemap.xml"),
        ({"public_url": "https://jobs.example.com"}, "https://jobs.example.com/sitemap.xml"),
    ],
)
def test_robots_txt_names_the_sitemap(make_app, sandbox, overrides, sitemap):
    response = make_app(**overrides).test_client().get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    assert {"Allow: /", "Disallow: /api/", "Disallow: /*/applications/"} <= set(lines)
    assert f"Sitemap: {sitemap}" in lines
    # Crawlers must be able to fetch the embedded pages to see their noindex.
    assert not [line for line in lines if "embed" in line]


def test_default_country_completes_offices_and_remote_only_postings(make_app, sandbox):
    client = make_app(default_country="de").test_client()
    for job_id in sorted(EN):
        data = json_ld_of(client.get(f"/en/jobs/{job_id}", follow_redirects=True))
        assert problems(data) == [], job_id
    remote_only = json_ld_of(client.get("/en/jobs/1843560", follow_redirects=True))
    assert remote_only["jobLocationType"] == "TELECOMMUTE"
    assert remote_only["applicantLocationRequirements"] == {"@type": "Country", "name": "DE"}
    hybrid = json_ld_of(client.get("/en/jobs/1843011", follow_redirects=True))
    # An office without a country is in the default one; one that names a country keeps it.
    assert [p["address"].get("addressCountry") for p in hybrid["jobLocation"]] == ["DE", "DE"]
    assert hybrid["applicantLocationRequirements"] == {"@type": "Country", "name": "Germany"}
    uk = json_ld_of(client.get(f"/en/jobs/{UNTRANSLATED_ID}", follow_redirects=True))
    assert uk["jobLocation"]["address"]["addressCountry"] == "DE"  # "London" names none


FEEDS = sorted(
    p
    for folder in (FIXTURES / "feeds", FIXTURES / "feeds" / "accounts")
    for p in folder.glob("*.xml")
)


def _parses(path) -> bool:
    try:
        parse_feed(path.read_bytes())
    except FeedError:
        return False
    return True


REAL_FEEDS = [p for p in FEEDS if _parses(p)]


@pytest.mark.parametrize("country", ["", "GB"])
@pytest.mark.parametrize("feed", REAL_FEEDS, ids=lambda p: p.name)
def test_real_feeds_give_only_valid_job_postings_or_none(make_app, sandbox, feed, country):
    """Feeds shaped like live Personio boards (empty <jobDescriptions>, offices called just
    "Remote", no title, no date): each page's JobPosting is valid for Google, or absent."""
    sandbox.inject(target="feed", kind="body", body=feed.read_bytes())
    app = make_app(languages="en", **({"default_country": country} if country else {}))
    client = app.test_client()
    catalogue_of(app).refresh_all()
    shown = 0
    for position in parse_feed(feed.read_bytes()):
        response = client.get(f"/en/jobs/{position.id}", follow_redirects=True)
        if not position.name.strip():
            assert response.status_code == 404  # a job without a title is not published
            continue
        assert response.status_code == 200, position.id
        blocks = page_of(response).xpath("//script[@type='application/ld+json']")
        if blocks:
            data = json.loads(blocks[0].text)
            assert [p for p in problems(data) if "employmentType" not in p] == [], position.id
            shown += 1
        elif country:
            # With a default country only an empty description or a missing date remain.
            assert not position.descriptions or position.created_at is None, position.id
    if feed.name == "wrenfield-full.xml":
        assert shown >= 5  # complete jobs keep their data: nothing valid is thrown away


def test_a_position_without_title_is_left_out_and_check_names_it(
    runner, sandbox, sandbox_server, tmp_path
):
    body = (FIXTURES / "feeds" / "sparse.xml").read_bytes()
    sandbox.inject(target="feed", kind="body", body=body)
    env = {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_SECRET_KEY": "test-secret-key-0123456789abcdef",
        "CAREERS_DATA_DIR": str(tmp_path),
        "CAREERS_LANGUAGES": "en",
    }
    result = runner.invoke(["check"], env=env)
    positions = parse_feed(body)
    for position in positions:
        if not position.name.strip():
            assert f"position {position.id} has no title and is not published" in result.output
        elif not position.descriptions:
            assert f"position {position.id} ({position.name}) gets no JobPosting" in result.output


@pytest.mark.parametrize("description", ["", "<p>&nbsp;</p>", "<p> </p><br>", "<h3></h3>\n"])
def test_a_description_without_words_is_no_description(description):
    """Live feeds carry empty markup where the text should be; Google wants words."""
    from careers.web.seo import missing_properties

    data = {
        "title": "Engineer",
        "description": description,
        "datePosted": "2026-12-01",
        "hiringOrganization": {"@type": "Organization", "name": "Acme"},
        "jobLocation": {"@type": "Place", "address": {"addressLocality": "Berlin"}},
    }
    assert missing_properties(data) == ["description"]
    assert missing_properties({**data, "description": "<p>Build&nbsp;robots.</p>"}) == []
