"""Open applications, sharing and referrals (docs/referrals.md), against the real app, the
Personio sandbox on loopback and the real mail store."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from lxml import html as lxml_html

from careers.config import ConfigError, load_settings
from careers.mail.store import MailKind

from . import filegen
from .applying import apply_env, deliver_all, send, token_of, valid_fields
from .apps import catalogue_of

OPEN = 1843801  # "Open Application" on the sample board
JOB = 1842958  # Embedded Systems Engineer
REFERRAL = 2004  # the sandbox's "Employee referral" channel
PUBLIC = "http://careers.test"


def page(response):
    assert response.status_code == 200, response.status_code
    return lxml_html.fromstring(response.get_data(as_text=True))


def ld_ids(doc) -> list[str]:
    return [
        json.loads(s.text).get("identifier", {}).get("value", "")
        for s in doc.xpath('//script[@type="application/ld+json"]')
    ]


@pytest.fixture
def board(make_app, sandbox_server, tmp_path):
    env = apply_env(sandbox_server.url, tmp_path)
    return make_app(**env, open_application_job=str(OPEN), public_url=PUBLIC).test_client()


def test_open_application_job_is_on_the_board_without_the_setting(make_app):
    """The control: the sample board lists the job, so the tests below can fail."""
    client = make_app(public_url=PUBLIC).test_client()
    assert f"/en/jobs/{OPEN}-" in client.get("/en/jobs").get_data(as_text=True)
    assert f"/en/jobs/{OPEN}-" in client.get("/sitemap.xml").get_data(as_text=True)
    ids = [j["id"] for j in client.get("/api/v1/jobs?lang=en").get_json()["jobs"]]
    assert OPEN in ids


def test_open_application_job_is_off_list_sitemap_atom_and_api(board):
    listing = page(board.get("/en/jobs"))
    cards = listing.xpath('//ul[@class="job-list"]//a/@href')
    assert cards and not [href for href in cards if f"/jobs/{OPEN}" in href]
    assert f"/jobs/{OPEN}" not in board.get("/sitemap.xml").get_data(as_text=True)
    assert f"/jobs/{OPEN}" not in board.get("/en/jobs.atom").get_data(as_text=True)
    api = board.get("/api/v1/jobs?lang=en").get_json()
    assert OPEN not in [j["id"] for j in api["jobs"]]
    assert api["total"] == len(api["jobs"]) == 14
    assert board.get(f"/api/v1/jobs/{OPEN}?lang=en").status_code == 404
    assert board.get(f"/api/v1/jobs/{JOB}?lang=en").status_code == 200
    # Its page works (for the form) but carries no JobPosting and asks not to be indexed.
    doc = page(board.get(f"/en/jobs/{OPEN}", follow_redirects=True))
    assert ld_ids(doc) == []
    assert doc.xpath('//meta[@name="robots"]/@content') == ["noindex"]
    assert ld_ids(page(board.get(f"/en/jobs/{JOB}", follow_redirects=True)))  # others keep it


def test_the_catalogue_keeps_it_open_but_off_every_board(make_app):
    catalogue = catalogue_of(make_app(open_application_job=str(OPEN)))
    for lang in ("en", "de"):
        snapshot = catalogue.snapshot(lang)
        assert OPEN in snapshot.by_id and OPEN not in {p.id for p in snapshot.positions}
        assert OPEN not in snapshot.haystack  # no search finds it either
        assert catalogue.find(lang, OPEN) is not None


def test_list_and_empty_search_offer_the_open_application(board):
    for url in ("/en/jobs", "/en/jobs?q=zzzznothing", "/de/jobs?office=Nowhere"):
        doc = page(board.get(url))
        (link,) = doc.xpath('//aside[@class="open-application"]//a/@href')
        assert link.startswith(f"/{url[1:3]}/jobs/{OPEN}/apply"), link
        assert board.get(link).status_code == 200
    text = page(board.get("/en/jobs")).xpath('string(//aside[@class="open-application"])')
    assert "No matching job?" in text and "Send an open application" in text
    assert "Keine passende Stelle?" in board.get("/de/jobs").get_data(as_text=True)


def test_open_application_in_read_only_mode_is_personios_form(make_app, sandbox_server):
    client = make_app(open_application_job=str(OPEN)).test_client()
    link = page(client.get("/en/jobs?_pc=2003")).xpath(
        '//aside[@class="open-application"]//a/@href'
    )
    assert link == [f"{sandbox_server.url}/job/{OPEN}?_pc=2003#apply"]


def test_no_open_application_offered_when_the_job_is_not_in_the_feed(make_app):
    client = make_app(open_application_job="999999").test_client()
    assert not page(client.get("/en/jobs")).xpath('//aside[@class="open-application"]')


def test_open_application_form_queues_a_job_alert_after_the_application(
    make_app, tmp_path, sandbox_server, sandbox
):
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        open_application_job=str(OPEN),
        smtp_url="smtp://127.0.0.1:2525",
        mail_from="jobs@nordlicht.example",
        public_url=PUBLIC,
    )
    client = app.test_client()
    form = client.get(f"/en/jobs/{OPEN}/apply").get_data(as_text=True)
    assert 'name="job_alert"' in form
    assert 'name="job_alert"' not in client.get(f"/en/jobs/{JOB}/apply").get_data(as_text=True)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    # Invalid first: nothing queued, the tick is kept.
    bad = send(
        client,
        valid_fields(token_of(form), email="nope", job_alert="yes"),
        job=OPEN,
        files=[("cv", cv, "cv.pdf")],
    )
    assert bad.status_code == 422
    assert re.search(r'name="job_alert" value="yes" checked', bad.get_data(as_text=True))
    mail = app.extensions["careers"].mail
    assert mail.claim_mail("test") is None
    sent = send(
        client,
        valid_fields(token_of(form), job_alert="yes"),
        job=OPEN,
        files=[("cv", cv, "cv.pdf")],
    )
    assert sent.status_code == 303
    item = mail.claim_mail("test")
    assert item is not None and item.kind is MailKind.CONFIRM
    sub = mail.subscription(item.subscription_id)
    assert sub.address == "juergen.mueller@example.com"
    assert sub.confirmed_at is None  # double opt-in: the mail's button confirms
    assert (sub.filters.facets, sub.filters.q, sub.language) == ({}, "", "en")
    # The application itself went the normal way, to the open-application position.
    assert deliver_all(app) == ["delivered"]
    received = sandbox.received_applications[0]["body"]
    assert len(sandbox.received_applications) == 1
    assert received["job_position_id"] == OPEN


def test_no_alert_without_the_tick(make_app, tmp_path, sandbox_server):
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        open_application_job=str(OPEN),
        smtp_url="smtp://127.0.0.1:2525",
        mail_from="jobs@nordlicht.example",
        public_url=PUBLIC,
    )
    client = app.test_client()
    form = client.get(f"/en/jobs/{OPEN}/apply").get_data(as_text=True)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    assert (
        send(
            client, valid_fields(token_of(form)), job=OPEN, files=[("cv", cv, "cv.pdf")]
        ).status_code
        == 303
    )
    assert app.extensions["careers"].mail.claim_mail("test") is None


# -- sharing and referrals -------------------------------------------------------------------


def test_job_page_has_plain_share_links_and_no_third_party_script(make_app):
    client = make_app(public_url=PUBLIC, referral_channel=str(REFERRAL)).test_client()
    doc = page(client.get(f"/en/jobs/{JOB}", follow_redirects=True))
    canonical = doc.xpath('//link[@rel="canonical"]/@href')[0]
    share = doc.xpath('//section[@class="share"]')[0]
    hrefs = share.xpath(".//a/@href")
    mail = next(h for h in hrefs if h.startswith("mailto:?"))
    assert canonical in parse_qs(urlsplit(mail).query)["body"][0]
    linkedin = next(h for h in hrefs if h.startswith("https://www.linkedin.com/sharing/"))
    assert parse_qs(urlsplit(linkedin).query)["url"] == [canonical]
    xing = next(h for h in hrefs if h.startswith("https://www.xing.com/spi/shares/new?"))
    assert parse_qs(urlsplit(xing).query)["url"] == [canonical]
    (copy,) = share.xpath('.//button[@data-copy and contains(., "Copy link")]')
    assert copy.get("data-copy") == canonical
    assert copy.getparent().get("hidden") is not None  # shown by share.js only
    # The referral: a mail with the job's URL carrying the referral channel.
    refer = next(a for a in share.xpath(".//a") if a.text_content() == "Refer someone")
    body = parse_qs(urlsplit(refer.get("href")).query)["body"][0]
    assert f"{canonical}?_pc={REFERRAL}" in body
    assert share.xpath(f'.//button[@data-copy="{canonical}?_pc={REFERRAL}"]')
    # Scripts: our own files only, none inline (the CSP would block it anyway).
    for script in doc.xpath("//script[not(@type='application/ld+json')]"):
        assert script.get("src", "").startswith("/static/") and not (script.text or "").strip()


def test_no_refer_link_without_a_referral_channel(client):
    doc = page(client.get(f"/en/jobs/{JOB}", follow_redirects=True))
    assert doc.xpath('//section[@class="share"]//a[starts-with(@href, "https://www.xing.com")]')
    assert "Refer someone" not in doc.text_content()


def test_share_mail_is_translated(make_app):
    client = make_app(languages="de,en", referral_channel=str(REFERRAL)).test_client()
    doc = page(client.get(f"/de/jobs/{JOB}", follow_redirects=True))
    text = doc.xpath('string(//section[@class="share"])')
    assert "Stelle teilen" in text and "Jemanden empfehlen" in text
    refer = doc.xpath('//section[@class="share"]//a[starts-with(@href, "mailto:")]/@href')[-1]
    assert "Stelle" in unquote(refer)


def landing(form: str) -> str:
    """The form's signed attribution (a browser sends every hidden field back)."""
    return unescape(re.search(r'name="attribution" value="([^"]*)"', form)[1])


def _referred(make_app, url, tmp_path, **extra):
    env = {**apply_env(url, tmp_path), "referral_channel": str(REFERRAL), **extra}
    app = make_app(**env)
    client = app.test_client()
    form = client.get(f"/en/jobs/{JOB}/apply?_pc={REFERRAL}").get_data(as_text=True)
    return app, client, form


def test_referred_application_arrives_under_the_channel_with_a_tag(
    make_app, tmp_path, sandbox_server, sandbox
):
    app, client, form = _referred(make_app, sandbox_server.url, tmp_path)
    assert 'name="referrer"' in form
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    fields = valid_fields(
        token_of(form), attribution=landing(form), referrer="Ada Lovelace <script>"
    )
    answer = send(client, fields, files=[("cv", cv, "cv.pdf")])
    assert answer.status_code == 303
    assert deliver_all(app) == ["delivered"]
    received = sandbox.received_applications[0]["body"]
    assert len(sandbox.received_applications) == 1
    assert received["recruiting_channel_id"] == REFERRAL
    assert "referred_by:Ada Lovelace script" in received["tags"]
    # What the sandbox shows a recruiter trying it out (careers demo): channel and tag.
    shown = httpx.get(f"{sandbox_server.url}/_sandbox/applications").text
    assert "2004 (Employee referral)" in shown and "referred_by:Ada Lovelace script" in shown
    assert all(a["id"] != "referrer" for a in received.get("attributes", []))


def test_referrer_name_in_a_custom_attribute(make_app, tmp_path, sandbox_server, sandbox):
    form_file = tmp_path / "plain-form.toml"
    form_file.write_text('[system]\nphone = "optional"\n', encoding="utf-8")
    app, client, form = _referred(
        make_app,
        sandbox_server.url,
        tmp_path,
        referrer_field="custom_attribute_1001",
        form_file=str(form_file),
    )
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    fields = valid_fields(
        token_of(form),
        attribution=landing(form),
        referrer="Grace Hopper",
        custom_attribute_1002=None,
        birthday=None,
        gender=None,
    )
    assert send(client, fields, files=[("cv", cv, "cv.pdf")]).status_code == 303
    assert deliver_all(app) == ["delivered"]
    received = sandbox.received_applications[0]["body"]
    assert len(sandbox.received_applications) == 1
    assert received["recruiting_channel_id"] == REFERRAL
    assert {"id": "custom_attribute_1001", "value": "Grace Hopper"} in received["attributes"]
    assert not [t for t in received.get("tags", []) if t.startswith("referred_by:")]


def test_referrer_not_asked_without_the_referral_link_or_when_off(
    make_app, tmp_path, sandbox_server
):
    app, client, _ = _referred(make_app, sandbox_server.url, tmp_path)
    plain = client.get(f"/en/jobs/{JOB}/apply").get_data(as_text=True)
    assert 'name="referrer"' not in plain
    other = client.get(f"/en/jobs/{JOB}/apply?_pc=2001").get_data(as_text=True)
    assert 'name="referrer"' not in other
    off = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        referral_channel=str(REFERRAL),
        referrer_field="off",
    ).test_client()
    assert 'name="referrer"' not in off.get(f"/en/jobs/{JOB}/apply?_pc={REFERRAL}").get_data(
        as_text=True
    )


def test_a_channel_name_mapped_to_the_referral_channel_asks_too(make_app, sandbox_server, tmp_path):
    app, client, _ = _referred(make_app, sandbox_server.url, tmp_path, channels="referral=2004")
    form = client.get(f"/en/jobs/{JOB}/apply?_pc=referral").get_data(as_text=True)
    assert 'name="referrer"' in form


def test_a_forged_referrer_field_without_the_referral_channel_is_ignored(
    make_app, tmp_path, sandbox_server, sandbox
):
    app, client, _ = _referred(make_app, sandbox_server.url, tmp_path)
    form = client.get(f"/en/jobs/{JOB}/apply?_pc=2001").get_data(as_text=True)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    send(
        client,
        valid_fields(token_of(form), attribution=landing(form), referrer="Mallory"),
        files=[("cv", cv, "cv.pdf")],
    )
    assert deliver_all(app) == ["delivered"]
    received = sandbox.received_applications[0]["body"]
    assert len(sandbox.received_applications) == 1
    assert received["recruiting_channel_id"] == 2001
    assert not [t for t in received.get("tags", []) if "Mallory" in t]


def test_referrer_name_kept_when_the_form_comes_back(make_app, tmp_path, sandbox_server):
    app, client, form = _referred(make_app, sandbox_server.url, tmp_path)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    answer = client_send = send(
        client,
        valid_fields(
            token_of(form), attribution=landing(form), referrer="Ada Lovelace", email="bad"
        ),
        files=[("cv", cv, "cv.pdf")],
    )
    assert client_send.status_code == 422
    assert 'value="Ada Lovelace"' in unescape(answer.get_data(as_text=True))


# -- settings --------------------------------------------------------------------------------


BASE = {"CAREERS_PERSONIO_SUBDOMAIN": "acme", "CAREERS_SECRET_KEY": "x" * 32}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CAREERS_OPEN_APPLICATION_JOB", "talent-pool", "numeric id of a Personio position"),
        ("CAREERS_OPEN_APPLICATION_JOB", "0", "numeric id of a Personio position"),
        ("CAREERS_REFERRAL_CHANNEL", "referral", "numeric id of a recruiting channel"),
        ("CAREERS_REFERRER_FIELD", "custom_attribute_x", "tag, off or a custom attribute id"),
    ],
)
def test_bad_settings_fail_with_one_line(name, value, message):
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, name: value})
    (line,) = caught.value.problems
    assert line.startswith(f"{name}: ") and message in line


def test_settings_read(tmp_path):
    settings = load_settings(
        {
            **BASE,
            "CAREERS_OPEN_APPLICATION_JOB": "1843801",
            "CAREERS_REFERRAL_CHANNEL": "2004",
            "CAREERS_REFERRER_FIELD": "Custom_Attribute_77",
        }
    )
    assert (settings.open_application_job, settings.referral_channel) == (1843801, 2004)
    assert settings.referrer_field == "custom_attribute_77"
    assert load_settings(BASE).referrer_field == "tag"


def test_referrer_attribute_may_not_be_a_form_file_field(tmp_path):
    form = tmp_path / "form.toml"
    form.write_text(
        '[[field]]\nid = "custom_attribute_5"\ntype = "text"\nlabel = "Referred by"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {**BASE, "CAREERS_FORM_FILE": str(form), "CAREERS_REFERRER_FIELD": "custom_attribute_5"}
        )
    assert caught.value.problems == [
        "CAREERS_REFERRER_FIELD: custom_attribute_5 is also a field of CAREERS_FORM_FILE;"
        " choose another attribute or drop that field"
    ]
