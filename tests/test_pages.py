"""Pages and JSON API against the sandbox's sample board (docs/routes.md)."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html
import pytest

from careers.sandbox.sample_data import UNTRANSLATED_ID, sample_positions

EN = {p.id: p for p in sample_positions("en")}
DE = {p.id: p for p in sample_positions("de")}


def tree(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def listed_ids(response) -> list[int]:
    """Job ids linked from the result list, in page order."""
    ids = []
    for href in tree(response).xpath("//main//a/@href"):
        match = re.fullmatch(r"/[a-z]{2}/jobs/(\d+)-[a-z0-9-]+", href)
        if match and int(match[1]) not in ids:
            ids.append(int(match[1]))
    return ids


def facet_counts(response, facet: str) -> dict[str, int]:
    """value -> count shown beside the checkbox of one facet."""
    page = tree(response)
    counts = {}
    for box in page.xpath(f"//input[@type='checkbox'][@name='{facet}']"):
        label = page.xpath(f"//label[@for='{box.get('id')}']")[0].text_content()
        counts[box.get("value")] = int(re.search(r"\((\d+)\)", label)[1])
    return counts


def test_root_redirects_by_accept_language(client, sandbox):
    assert (
        client.get("/", headers={"Accept-Language": "de-AT,de;q=0.9"}).headers["Location"]
        == "/de/jobs"
    )
    assert (
        client.get("/", headers={"Accept-Language": "fr, en;q=0.5"}).headers["Location"]
        == "/en/jobs"
    )
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/en/jobs"
    assert "Accept-Language" in response.headers["Vary"]


def test_list_shows_every_open_job_newest_first(client, sandbox):
    response = client.get("/en/jobs")
    assert response.status_code == 200
    ids = listed_ids(response)
    assert sorted(ids) == sorted(EN)
    newest_first = sorted(EN.values(), key=lambda p: p.created_at, reverse=True)
    assert ids == [p.id for p in newest_first]


def test_sort_by_title(client, sandbox):
    ids = listed_ids(client.get("/en/jobs?sort=title"))
    assert ids == [p.id for p in sorted(EN.values(), key=lambda p: p.name.casefold())]
    assert listed_ids(client.get("/en/jobs?sort=bogus")) == listed_ids(client.get("/en/jobs"))


def test_filters_or_within_a_facet_and_across_facets(client, sandbox):
    def expected(pred):
        return sorted(p.id for p in EN.values() if pred(p))

    berlin = client.get("/en/jobs?office=Berlin")
    assert sorted(listed_ids(berlin)) == expected(lambda p: "Berlin" in p.offices)
    either = client.get("/en/jobs?office=Berlin&office=Vienna")
    assert sorted(listed_ids(either)) == expected(lambda p: {"Berlin", "Vienna"} & set(p.offices))
    both = client.get("/en/jobs?office=Berlin&office=Hamburg&department=Engineering")
    assert sorted(listed_ids(both)) == expected(
        lambda p: {"Berlin", "Hamburg"} & set(p.offices) and p.department == "Engineering"
    )
    coded = client.get("/en/jobs?employment_type=working_student&schedule=part-time")
    assert sorted(listed_ids(coded)) == expected(
        lambda p: p.employment_type == "working_student" and p.schedule == "part-time"
    )


def test_additional_offices_count_as_locations(client, sandbox):
    remote_de = [p.id for p in EN.values() if "Remote (Germany)" in p.additional_offices]
    assert remote_de
    assert sorted(listed_ids(client.get("/en/jobs?office=Remote (Germany)"))) == sorted(remote_de)


def test_facet_counts_ignore_their_own_selection(client, sandbox):
    response = client.get("/en/jobs?department=Engineering")
    departments = facet_counts(response, "department")
    # Other departments stay visible with their full counts, so the visitor can widen the search.
    for name in {p.department for p in EN.values() if p.department}:
        assert departments[name] == sum(1 for p in EN.values() if p.department == name)
    offices = facet_counts(response, "office")
    engineering = [p for p in EN.values() if p.department == "Engineering"]
    for office, count in offices.items():
        assert count == sum(1 for p in engineering if office in p.offices)


def test_unknown_filter_values_give_an_empty_result_not_an_error(client, sandbox):
    response = client.get("/en/jobs?office=Atlantis&seniority=wizard&nonsense=1")
    assert response.status_code == 200
    assert listed_ids(response) == []
    assert "No jobs match" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("q", "must_include"),
    [
        ("motion planning", 1842907),  # title words, any order
        ("ROS", 1842907),  # keywords
        ("gripper", 1843455),
        ("münchen", None),  # accents fold: checked below
    ],
)
def test_search_covers_title_keywords_and_description(client, sandbox, q, must_include):
    ids = listed_ids(client.get("/en/jobs", query_string={"q": q}))
    if must_include:
        assert must_include in ids
    assert listed_ids(client.get("/en/jobs", query_string={"q": "zzqqxx"})) == []


def test_search_folds_case_and_accents(client, sandbox):
    with_umlaut = listed_ids(client.get("/de/jobs", query_string={"q": "München"}))
    without = listed_ids(client.get("/de/jobs", query_string={"q": "munchen"}))
    assert with_umlaut and with_umlaut == without


def test_detail_redirects_to_the_canonical_url(client, sandbox):
    job = EN[1842958]
    canonical = "/en/jobs/1842958-embedded-systems-engineer-m-f-d"
    assert client.get("/en/jobs/1842958").headers["Location"] == canonical
    wrong = client.get("/en/jobs/1842958-old-title?utm_source=x")
    assert wrong.status_code == 301 and wrong.headers["Location"] == canonical + "?utm_source=x"
    page = client.get(canonical)
    assert page.status_code == 200
    doc = tree(page)
    assert doc.xpath("//h1")[0].text_content().strip() == job.name
    assert doc.xpath("//link[@rel='canonical']/@href") == ["http://localhost" + canonical]
    assert set(doc.xpath("//link[@rel='alternate']/@hreflang")) == {"en", "de", "x-default"}
    for block in job.descriptions:
        assert block.name in page.get_data(as_text=True)


def test_public_url_is_used_for_absolute_links(make_app, sandbox):
    client = make_app(public_url="https://jobs.nordlicht.example").test_client()
    doc = tree(client.get("/en/jobs/1842958", follow_redirects=True))
    assert doc.xpath("//link[@rel='canonical']/@href") == [
        "https://jobs.nordlicht.example/en/jobs/1842958-embedded-systems-engineer-m-f-d"
    ]
    german = doc.xpath("//link[@hreflang='de']/@href")[0]
    assert german.startswith("https://jobs.nordlicht.example/de/jobs/1842958-")
    api = client.get("/api/v1/jobs/1842958").json["job"]
    assert api["url"].startswith("https://jobs.nordlicht.example/en/jobs/1842958-")


def test_detail_shows_salary_offices_and_german_labels(client, sandbox):
    english = client.get("/en/jobs/1842907", follow_redirects=True).get_data(as_text=True)
    assert "€75,000 – €95,000 gross a year" in english
    assert "Munich, Remote (Germany)" in english
    german = client.get("/de/jobs/1842907", follow_redirects=True)
    text = german.get_data(as_text=True)
    assert tree(german).get("lang") == "de"
    assert DE[1842907].name in text
    assert "75.000\u00a0€ – 95.000\u00a0€" in text  # German places the sign after a no-break space
    assert "Vollzeit" in text and "Jetzt bewerben" in text


def test_apply_links_to_personio_in_read_only_mode(client, sandbox, sandbox_server):
    page = tree(client.get("/en/jobs/1842907", follow_redirects=True))
    hrefs = page.xpath("//a[contains(@class, 'button')]/@href")
    assert f"{sandbox_server.url}/job/1842907#apply" in hrefs


def test_unknown_language_and_job_are_404(client, sandbox):
    assert client.get("/fr/jobs").status_code == 404
    assert client.get("/en/jobs/424242").status_code == 404
    page = client.get("/en/jobs/424242")
    assert "Page not found" in page.get_data(as_text=True)


def test_ui_is_translated(client, sandbox):
    german = client.get("/de/jobs").get_data(as_text=True)
    for text in ("Offene Stellen", "Suche", "Filter"):
        assert text in german
    assert "Open positions" not in german


def test_pagination_keeps_filters(make_app, sandbox):
    from careers.sandbox.sample_data import synthetic_positions

    sandbox.set_positions("en", synthetic_positions(120, seed=3))
    client = make_app().test_client()
    first = client.get("/en/jobs?sort=title")
    assert len(listed_ids(first)) == 50
    next_links = tree(first).xpath("//a[@rel='next']/@href")
    assert next_links and "sort=title" in next_links[0] and "page=2" in next_links[0]
    third = client.get("/en/jobs?sort=title&page=3")
    assert len(listed_ids(third)) == 20
    assert client.get("/en/jobs?page=999").status_code == 200


def test_atom_feed_lists_open_jobs(client, sandbox):
    response = client.get("/de/jobs.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = lxml.etree.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = root.xpath("//a:entry/a:title/text()", namespaces=ns)
    assert sorted(titles) == sorted(p.name for p in DE.values())
    content = root.xpath("//a:entry/a:content", namespaces=ns)[0]
    assert content.get("type") == "html" and "<" in content.text  # escaped HTML, not markup


def test_api_lists_jobs_with_facets_and_caches(app, client, sandbox):
    client.get("/api/v1/jobs?lang=en")
    app.extensions["careers"].catalogue.wait_idle()  # every language loaded: version settled
    response = client.get("/api/v1/jobs?lang=en&department=Engineering")
    assert response.status_code == 200
    body = response.json
    assert body["total"] == sum(1 for p in EN.values() if p.department == "Engineering")
    job = body["jobs"][0]
    assert set(job) >= {"id", "name", "url", "offices", "employment_type", "salary", "created_at"}
    assert "descriptions" not in job
    assert {f["value"] for f in body["facets"]["department"]} >= {"Engineering", "Sales"}
    assert response.headers["Cache-Control"] == "public, max-age=60"
    etag = response.headers["ETag"]
    again = client.get(
        "/api/v1/jobs?lang=en&department=Engineering", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.data == b""
    other = client.get("/api/v1/jobs?lang=en&department=Sales")
    assert other.headers["ETag"] != etag


def test_api_single_job(client, sandbox):
    body = client.get("/api/v1/jobs/1843054?lang=de").json["job"]
    assert body["name"] == DE[1843054].name
    assert body["salary"]["currency"] == "EUR" and body["salary"]["max"] is None
    assert body["employment_type"] == {"code": "permanent", "label": "Festanstellung"}
    assert body["descriptions"][0]["html"].startswith("<")
    assert client.get("/api/v1/jobs/5?lang=en").status_code == 404
    assert client.get("/api/v1/jobs?lang=xx").status_code == 400
    assert client.get(f"/api/v1/jobs/{UNTRANSLATED_ID}").json["job"]["language"] == "en"


def test_cors_only_for_configured_origins(make_app, sandbox):
    client = make_app(frame_ancestors="https://www.acme.com https://*.acme.de").test_client()
    allowed = client.get("/api/v1/jobs", headers={"Origin": "https://shop.acme.de"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.acme.de"
    for origin in ("https://evil.com", "https://acme.de.evil.com", "http://www.acme.com"):
        refused = client.get("/api/v1/jobs", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in refused.headers, origin
    page = client.get("/en/jobs", headers={"Origin": "https://www.acme.com"})
    assert "Access-Control-Allow-Origin" not in page.headers


@pytest.mark.parametrize(
    "path", ["/en/jobs", "/en/jobs/1842907-x", "/api/v1/jobs", "/healthz", "/en/jobs/1", "/nope"]
)
def test_every_response_refuses_framing_and_sniffing(client, sandbox, path):
    response = client.get(path, follow_redirects=True)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_health_readiness_and_metrics(make_app, sandbox, tmp_path):
    app = make_app()
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    client.get("/en/jobs")
    app.extensions["careers"].catalogue.wait_idle()
    assert client.get("/readyz").status_code == 200
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'careers_positions{{language="en"}} {float(len(EN))}' in metrics
    assert 'careers_feed_fetch_total{language="en",outcome="ok"}' in metrics
    assert (
        'careers_http_requests_total{endpoint="pages.job_list",method="GET",status="200"}'
        in metrics
    )


def test_readyz_reports_missing_feed_and_unwritable_store(make_app, sandbox, tmp_path):
    sandbox.inject(kind="status", status=500)
    client = make_app(data_dir=tmp_path / "d").test_client()
    # The data directory breaks after start-up (a full or remounted disk, say).
    (tmp_path / "d" / "feeds").rmdir()
    (tmp_path / "d" / "feeds").write_text("not a directory")
    response = client.get("/readyz")
    assert response.status_code == 503
    reasons = " ".join(response.json["reasons"])
    assert "feed en: no copy yet" in reasons and "not writable" in reasons


def test_unusable_data_dir_fails_start_up_with_one_line(tmp_path):
    from careers import create_app
    from careers.config import ConfigError

    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    env = {
        "CAREERS_PERSONIO_SUBDOMAIN": "acme",
        "CAREERS_SECRET_KEY": "k" * 20,
        "CAREERS_DATA_DIR": str(blocked),
    }
    with pytest.raises(ConfigError) as info:
        create_app(env)
    [line] = info.value.problems
    assert line.startswith("CAREERS_DATA_DIR: cannot use ")


def test_static_assets_are_versioned_and_cached_for_a_year(client, sandbox):
    page = tree(client.get("/en/jobs"))
    [css] = page.xpath("//link[@rel='stylesheet']/@href")
    assert re.fullmatch(r"/static/careers\.css\?v=[0-9a-f]{12}", css)
    response = client.get(css)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    response.close()
    unversioned = client.get("/static/careers.css")
    assert "immutable" not in unversioned.headers.get("Cache-Control", "")
    unversioned.close()


@pytest.mark.parametrize(
    "path",
    [
        "/en/jobs/1842958?job_id=5",
        "/en/jobs/1842958?slug=x&_method=POST&lang=xx&_anchor=x&_external=1",
        "/en/jobs?department=Engineering&_anchor=x&_method=POST&lang=de&page=2&job_id=1",
        "/embed/en/jobs?department=Engineering&_anchor=x&lang=de",
        "/embed/?lang=de&_anchor=x&_method=POST",
        "/embed/?lang=xx",
    ],
)
def test_odd_query_parameters_never_reach_url_building(client, sandbox, path):
    response = client.get(path)
    assert response.status_code in {200, 301, 302}, response.status_code
    if response.status_code in {301, 302}:
        location = response.headers["Location"]
        assert location.startswith("/") and "#" not in location and "_method" not in location
        assert "/xx/" not in location
    else:
        hrefs = tree(response).xpath("//a/@href")
        assert not [h for h in hrefs if "_anchor" in h or "['" in h or "_method" in h]
