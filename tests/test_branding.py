"""A site a company can put its brand on, and the rough edges a new user hit."""

from __future__ import annotations

import subprocess
import sys

import lxml.html
import pytest

from careers import create_app
from careers.config import ConfigError, load_settings

from . import filegen
from .applying import JOB, apply_env, open_form, send, valid_fields
from .apps import SECRET
from .servers import free_port

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def brand(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    css = tmp_path / "acme.css"
    css.write_text(":root { --careers-accent: #c2185b; }\n.brand__sub { display: none; }\n")
    return logo, css


def test_logo_stylesheet_and_imprint_appear_as_configured(make_app, sandbox, brand):
    logo, css = brand
    app = make_app(
        logo_file=str(logo), stylesheet_file=str(css), imprint_url="https://acme.example/imprint"
    )
    client = app.test_client()
    page = client.get("/en/jobs").get_data(as_text=True)
    doc = lxml.html.fromstring(page)
    [img] = doc.xpath("//header//img[contains(@class,'brand__logo')]")
    assert img.get("alt") == "Nordlicht Robotics"
    served = client.get(img.get("src"))
    assert served.status_code == 200 and served.data == PNG
    assert served.mimetype == "image/png" and "immutable" in served.headers["Cache-Control"]
    sheets = doc.xpath("//link[@rel='stylesheet']/@href")
    assert len(sheets) == 2 and "careers.css" in sheets[0]  # ours first, theirs after
    theirs = client.get(sheets[1])
    assert theirs.mimetype == "text/css" and b"#c2185b" in theirs.data
    assert "https://acme.example/imprint" in doc.xpath("//footer//a/@href")
    # every page, error pages included
    missing = client.get("/en/jobs/424242").get_data(as_text=True)
    assert "https://acme.example/imprint" in missing and img.get("src") in missing
    # a changed logo gets a new URL
    assert client.get("/brand/logo-000000000000.png").status_code == 404


def test_the_footer_links_the_privacy_policy_beside_the_imprint(make_app, sandbox):
    app = make_app(
        privacy_url="https://acme.example/privacy", imprint_url="https://acme.example/imprint"
    )
    doc = lxml.html.fromstring(app.test_client().get("/en/jobs").get_data(as_text=True))
    links = doc.xpath("//footer//a/@href")
    assert links.index("https://acme.example/privacy") < links.index("https://acme.example/imprint")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("LOGO_FILE", b"MZ\x90\x00not an image", "is not a PNG, JPEG, GIF, WebP or SVG"),
        ("LOGO_FILE", b"<svg onload='alert(1)'></svg>", "without scripts"),
        ("LOGO_FILE", PNG + b"\x00" * 600_000, "larger than 512 KB"),
        ("STYLESHEET_FILE", b"\xff\xfe\x00b\x00o\x00d\x00y", "not a UTF-8 text file"),
    ],
)
def test_bad_brand_files_stop_start_up_with_one_line(tmp_path, name, content, expected):
    path = tmp_path / "file"
    path.write_bytes(content)
    env = {"CAREERS_PERSONIO_SUBDOMAIN": "acme", "CAREERS_SECRET_KEY": SECRET}
    with pytest.raises(ConfigError) as refused:
        load_settings(env | {f"CAREERS_{name}": str(path)})
    [line] = refused.value.problems
    assert line.startswith(f"CAREERS_{name}: ") and expected in line


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("IMPRINT_URL", "acme.example/imprint", "http(s) URL"),
        ("TIMEZONE", "Mars/Olympus", "not a time zone"),
        ("TIMEZONE", "localtime", "not a time zone"),  # a file name, not a zone Babel knows
        ("LOGO_FILE", "/nonexistent/logo.png", "does not exist"),
    ],
)
def test_bad_branding_values_name_their_variable(name, value, expected):
    env = {"CAREERS_PERSONIO_SUBDOMAIN": "acme", "CAREERS_SECRET_KEY": SECRET}
    with pytest.raises(ConfigError) as refused:
        load_settings(env | {f"CAREERS_{name}": value})
    [line] = refused.value.problems
    assert line.startswith(f"CAREERS_{name}: ") and expected in line


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CAREERS_PERSONIO_SUBDOMAIN": "acme"}, "acme"),
        ({"CAREERS_PERSONIO_FEED_URL": "https://nordlicht.jobs.personio.de/xml"}, "nordlicht"),
    ],
)
def test_without_a_company_name_the_site_names_the_personio_account(env, expected):
    settings = load_settings(env | {"CAREERS_SECRET_KEY": SECRET})
    assert settings.company_name == expected


def test_the_sandbox_account_name_is_never_careers(make_app, sandbox, sandbox_server, tmp_path):
    env = {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(tmp_path / "data"),
    }
    app = create_app(env)
    title = lxml.html.fromstring(app.test_client().get("/en/jobs").data).findtext(".//title")
    assert title.endswith("· 127.0.0.1") and "Careers" not in title.split("·")[-1]
    app.extensions["careers"].close()


# -- what a new user hit ---------------------------------------------------------------------


@pytest.fixture
def apply_app(make_app, sandbox_server, tmp_path):
    return make_app(**apply_env(sandbox_server.url, tmp_path))


def test_the_error_summary_names_custom_questions_by_their_label(apply_app, sandbox):
    client = apply_app.test_client()
    response = send(client, valid_fields(open_form(client), custom_attribute_1002=""))
    assert response.status_code == 422
    summary = lxml.html.fromstring(response.data).xpath("//*[@id='error-summary']//a/text()")
    assert any(s.startswith("How did you hear about us?: ") for s in summary), summary
    assert not any("custom_attribute_1002" in s for s in summary)


def test_the_too_fast_notice_keeps_what_the_candidate_typed(
    make_app, sandbox_server, sandbox, tmp_path
):
    app = make_app(**apply_env(sandbox_server.url, tmp_path, min_fill_seconds="600"))
    client = app.test_client()
    response = send(client, valid_fields(open_form(client), first_name="Ada", message="Hello!"))
    assert response.status_code == 422
    doc = lxml.html.fromstring(response.data)
    assert doc.xpath("//input[@name='first_name']/@value") == ["Ada"]
    assert "Hello!" in doc.xpath("string(//textarea[@name='message'])")
    assert app.extensions["careers"].outbox.summaries() == []


def test_a_client_at_its_submit_limit_is_told_on_the_form(
    make_app, sandbox_server, sandbox, tmp_path
):
    app = make_app(**apply_env(sandbox_server.url, tmp_path, submit_rate_limit="1/600"))
    client = app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    assert send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")]).status_code == 303
    page = client.get(f"/en/jobs/{JOB}/apply").get_data(as_text=True)
    assert "You can send this form in 10 minutes; you may fill it in now." in page


def test_nothing_attached_means_nothing_to_attach_again(apply_app, sandbox, tmp_path):
    client = apply_app.test_client()
    without = send(client, valid_fields(open_form(client), first_name=""))
    assert "please attach them again" not in without.get_data(as_text=True)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    with_file = send(client, valid_fields(open_form(client), first_name=""), [("cv", cv, "a.pdf")])
    # A file that passed its checks is kept for the resubmission (careers/db/kept.py) ...
    assert "please attach them again" not in with_file.get_data(as_text=True)
    assert "still attached" in with_file.get_data(as_text=True)
    # ... one that did not must be attached again, fixed.
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"MZ\x90\x00 not a pdf")
    refused = send(client, valid_fields(open_form(client), first_name=""), [("cv", bad, "b.pdf")])
    assert "please attach them again" in refused.get_data(as_text=True)


def test_a_cross_site_post_is_told_what_happened(apply_app, sandbox):
    response = apply_app.test_client().post(
        f"/en/jobs/{JOB}/apply", headers={"Sec-Fetch-Site": "cross-site"}, data={}
    )
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "can only be sent from the form on this site" in text
    assert "try again in a moment" not in text


def test_search_also_matches_office_names(client, sandbox):
    page = lxml.html.fromstring(client.get("/en/jobs", query_string={"q": "munich"}).data)
    links = page.xpath("//a[contains(@href, '/en/jobs/')]/@href")
    found = {
        int(h.split("/en/jobs/")[1].split("-")[0])
        for h in links
        if h.split("/en/jobs/")[1][:1].isdigit()
    }
    assert {1842907, 1843455, 1843611, 1843788} <= found


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/jobs", "/de/jobs"),
        ("/jobs?department=Engineering", "/de/jobs?department=Engineering"),
        (f"/jobs/{JOB}", f"/de/jobs/{JOB}"),
        (f"/jobs/{JOB}-embedded-systems-engineer", f"/de/jobs/{JOB}-embedded-systems-engineer"),
    ],
)
def test_language_less_urls_redirect_to_the_negotiated_language(client, sandbox, path, expected):
    response = client.get(path, headers={"Accept-Language": "de-CH,de;q=0.9,en;q=0.5"})
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_the_receipt_shows_times_in_the_configured_zone(apply_app, sandbox, tmp_path):
    client = apply_app.test_client()
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    receipt = send(client, valid_fields(open_form(client)), [("cv", cv, "cv.pdf")]).headers[
        "Location"
    ]
    english = client.get(receipt).get_data(as_text=True)
    assert "GMT+1" in english or "+0100" in english or "CET" in english  # Europe/Berlin, winter
    german = client.get(receipt.replace("/en/", "/de/")).get_data(as_text=True)
    assert "MEZ" in german


@pytest.mark.system
def test_the_demo_takes_the_visitors_name_languages_origins_and_sandbox_port(tmp_path):
    import os
    import time

    import httpx

    port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
    env |= {
        "CAREERS_DATA_DIR": str(tmp_path),
        "CAREERS_COMPANY_NAME": "Acme Widgets",
        "CAREERS_LANGUAGES": "fr,en",
        "CAREERS_FRAME_ANCESTORS": "https://www.acme.example",
    }
    command = [sys.executable, "-m", "careers.cli", "demo", "--port", str(port)]
    command += ["--sandbox-port", str(sandbox_port)]
    proc = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"{base}/fr/jobs", timeout=10)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert page.status_code == 200 and "Acme Widgets" in page.text
        assert "Embedded Systems Engineer" in page.text  # untranslated jobs, English text
        embed = httpx.get(f"{base}/embed/fr/jobs", timeout=10)
        assert "https://www.acme.example" in embed.headers["Content-Security-Policy"]
        form = httpx.get(f"{base}/fr/jobs/{JOB}/apply", timeout=10).text
        privacy = f"http://127.0.0.1:{sandbox_port}/privacy-policy"
        assert privacy in form
        assert httpx.get(privacy, timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
