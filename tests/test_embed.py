"""The embeddable widget pages, framing headers, and attribution from landing URL to Personio."""

from __future__ import annotations

import re

import lxml.html
import pytest

from careers.applications.attribution import channel_and_tags
from careers.jobs.search import FACETS

from . import filegen
from .applying import (
    JOB,
    apply_env,
    deliver_all,
    multipart_kwargs,
    send,
    token_of,
    valid_fields,
)
from .servers import ROOT

ALLOWED = "https://www.acme.example https://*.acme.example"


@pytest.fixture
def app(make_app, sandbox_server, tmp_path):
    return make_app(**apply_env(sandbox_server.url, tmp_path, frame_ancestors=ALLOWED))


def doc(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def test_embedded_pages_have_no_chrome_and_are_noindex(client, sandbox):
    for path in ("/embed/en/jobs", f"/embed/en/jobs/{JOB}", f"/embed/en/jobs/{JOB}/apply"):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        page = doc(response)
        assert not page.xpath("//header[contains(@class,'site-header')]") and not page.xpath(
            "//footer"
        )
        assert page.xpath("//meta[@name='robots']/@content") == ["noindex"]
        assert response.headers["X-Robots-Tag"] == "noindex"
        scripts = [src.split("?")[0] for src in page.xpath("//script/@src")]
        assert "/static/embed-frame.js" in scripts
        canonical = page.xpath("//link[@rel='canonical']/@href")
        if canonical:
            assert "/embed/" not in canonical[0]  # the full pages are the canonical ones
    full = doc(client.get("/en/jobs"))
    assert full.xpath("//header[contains(@class,'site-header')]")
    assert not full.xpath("//meta[@name='robots']")


def test_only_embed_routes_may_be_framed_and_only_by_the_allowlist(client, sandbox):
    embedded = client.get("/embed/en/jobs")
    policy = embedded.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.acme.example https://*.acme.example" in policy
    assert "X-Frame-Options" not in embedded.headers
    for path in (
        "/en/jobs",
        f"/en/jobs/{JOB}",
        "/api/v1/jobs",
        "/embed.js",
        "/healthz",
        "/sitemap.xml",
    ):
        response = client.get(path, follow_redirects=True)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_links_inside_the_widget_stay_inside_it(client, sandbox):
    listing = doc(client.get("/embed/en/jobs?department=Engineering"))
    jobs = [h for h in listing.xpath("//ul[contains(@class,'job-list')]//a/@href")]
    assert jobs and all(h.startswith("/embed/en/jobs/") for h in jobs)
    assert listing.xpath("//form[contains(@class,'filters')]/@action") == ["/embed/en/jobs#results"]
    assert (
        client.get(f"/embed/en/jobs/{JOB}").headers["Location"].startswith(f"/embed/en/jobs/{JOB}-")
    )
    detail = doc(client.get(f"/embed/en/jobs/{JOB}", follow_redirects=True))
    assert f"/embed/en/jobs/{JOB}/apply" in detail.xpath("//a/@href")
    form = doc(client.get(f"/embed/en/jobs/{JOB}/apply"))
    assert form.xpath("//form[contains(@class,'apply-form')]/@action") == [
        f"/embed/en/jobs/{JOB}/apply"
    ]


def test_applying_inside_the_widget_ends_on_the_widget_receipt(app, client, sandbox, tmp_path):
    page = client.get(f"/embed/en/jobs/{JOB}/apply")
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    body = valid_fields(token_of(page.get_data(as_text=True)))
    response = client.post(
        f"/embed/en/jobs/{JOB}/apply",
        **multipart_kwargs(body, [("cv", cv, "cv.pdf", "application/pdf")]),
        headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/embed/en/applications/")
    receipt = client.get(response.headers["Location"])
    assert (
        receipt.status_code == 200
        and "frame-ancestors 'self'" in receipt.headers["Content-Security-Policy"]
    )


def test_loader_script_and_language_pick(client, sandbox):
    loader = client.get("/embed.js")
    assert loader.status_code == 200 and loader.mimetype in {
        "text/javascript",
        "application/javascript",
    }
    assert loader.headers["Cache-Control"] == "public, max-age=300"
    assert b"data-careers-embed" in loader.data
    pick = client.get(
        "/embed/?department=Sales&department=Product", headers={"Accept-Language": "de"}
    )
    assert pick.status_code == 302
    assert pick.headers["Location"] == "/embed/de/jobs?department=Sales&department=Product"


@pytest.mark.parametrize(
    ("values", "channels", "expected"),
    [
        ({"_pc": "2001"}, {}, (2001, [])),
        ({"_pc": "LinkedIn"}, {"linkedin": 2001}, (2001, ["channel:LinkedIn"])),
        ({"_pc": "newsletter"}, {}, (None, ["channel:newsletter"])),
        (
            {"utm_source": "stepstone", "utm_medium": "cpc", "utm_campaign": "spring 2026"},
            {"stepstone": 2002},
            (2002, ["utm_source:stepstone", "utm_medium:cpc", "utm_campaign:spring 2026"]),
        ),
        ({"_pc": "99999999999999"}, {}, (None, ["channel:99999999999999"])),
        ({"utm_source": "<script>x</script>"}, {}, (None, ["utm_source:scriptx/script"])),
        ({}, {"linkedin": 1}, (None, [])),
        ({"_pc": "²"}, {}, (None, ["channel:²"])),  # a digit to str.isdigit, not to int()
        ({"_pc": "١٢"}, {}, (None, ["channel:١٢"])),
    ],
)
def test_channel_and_tags(values, channels, expected):
    assert channel_and_tags(values, channels) == expected


def test_attribution_travels_from_landing_url_to_personio(app, client, sandbox, tmp_path):
    landing = client.get(
        "/en/jobs?_pc=2001&utm_source=linkedin&utm_campaign=spring&utm_medium=social"
    )
    job_links = [h for h in doc(landing).xpath("//ul[contains(@class,'job-list')]//a/@href")]
    assert all("_pc=2001" in h and "utm_source=linkedin" in h for h in job_links)
    hidden = doc(landing).xpath("//form[contains(@class,'filters')]//input[@type='hidden']/@name")
    assert set(hidden) == {"_pc", "utm_source", "utm_medium", "utm_campaign"}
    detail = client.get(
        f"/en/jobs/{JOB}?_pc=2001&utm_source=linkedin&utm_campaign=spring&utm_medium=social",
        follow_redirects=True,
    )
    apply_link = [
        h for h in doc(detail).xpath("//a/@href") if h.startswith(f"/en/jobs/{JOB}/apply")
    ][0]
    assert "_pc=2001" in apply_link
    form = client.get(apply_link)
    page = doc(form)
    assert page.xpath("//input[@name='attribution']/@value")
    fields = valid_fields(token_of(form.get_data(as_text=True)))
    fields["attribution"] = page.xpath("//input[@name='attribution']/@value")[0]
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    assert send(client, fields, [("cv", cv, "cv.pdf")]).status_code == 303
    deliver_all(app)
    [received] = sandbox.received_applications
    assert received["body"]["recruiting_channel_id"] == 2001
    assert received["body"]["tags"] == [
        "utm_source:linkedin",
        "utm_medium:social",
        "utm_campaign:spring",
    ]


def test_forged_attribution_is_ignored_not_fatal(app, client, sandbox, tmp_path):
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    fields = valid_fields(token_of(client.get(f"/en/jobs/{JOB}/apply").get_data(as_text=True)))
    fields["attribution"] = "eyJfcGMiOiIyMDAxIn0.forged"
    assert send(client, fields, [("cv", cv, "cv.pdf")]).status_code == 303
    deliver_all(app)
    body = sandbox.received_applications[0]["body"]
    assert "recruiting_channel_id" not in body and "tags" not in body


def test_an_unknown_channel_id_does_not_cost_the_application(app, client, sandbox, tmp_path):
    form = client.get(f"/en/jobs/{JOB}/apply?_pc=777")
    fields = valid_fields(token_of(form.get_data(as_text=True)))
    fields["attribution"] = doc(form).xpath("//input[@name='attribution']/@value")[0]
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    assert send(client, fields, [("cv", cv, "cv.pdf")]).status_code == 303
    outcomes = deliver_all(app)
    assert outcomes == ["retry", "delivered"]
    body = sandbox.received_applications[0]["body"]
    assert "recruiting_channel_id" not in body and body["tags"] == ["channel:777"]


def test_a_non_ascii_digit_channel_is_a_tag_not_a_crash(app, client, sandbox, tmp_path):
    form = client.get(f"/en/jobs/{JOB}/apply?_pc=%C2%B2")
    fields = valid_fields(token_of(form.get_data(as_text=True)))
    fields["attribution"] = doc(form).xpath("//input[@name='attribution']/@value")[0]
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    assert send(client, fields, [("cv", cv, "cv.pdf")]).status_code == 303


def test_read_only_apply_links_keep_the_channel(make_app, sandbox, sandbox_server):
    client = make_app().test_client()
    detail = doc(client.get(f"/en/jobs/{JOB}?_pc=2003", follow_redirects=True))
    assert f"{sandbox_server.url}/job/{JOB}?_pc=2003#apply" in detail.xpath("//a/@href")


def test_the_loader_passes_on_every_filter_of_the_list():
    """data-<facet> for each facet the list filters by, the account too (docs/embedding.md)."""
    script = (ROOT / "static" / "embed.js").read_text(encoding="utf-8")
    listed = re.search(r"var FILTERS = \[([^\]]*)\];", script)
    assert listed is not None
    assert re.findall(r'"([a-z_]+)"', listed[1]) == list(FACETS)
