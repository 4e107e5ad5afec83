"""The fast path (careers/web/fastpath.py) answers warm pages exactly as Flask would."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask

from careers.sandbox.sample_data import synthetic_positions
from careers.web.fastpath import FastPath

from .apps import BEHIND_TLS, catalogue_of

# A page-cache miss renders, the first hit is Flask's (and copied), later hits are replayed.
URLS = [
    "/en/jobs",
    "/en/jobs?office=Berlin&office=Vienna&department=Engineering",
    "/en/jobs?department=Engineering&office=Berlin&office=Vienna",  # another order, own entry
    "/en/jobs?q=engineer&sort=title&utm_source=newsletter",
    "/en/jobs/1842958-senior-backend-engineer-python",
    "/de/jobs",
    "/de/jobs/1842907",
    "/embed/en/jobs",
    "/embed/de/jobs?office=Berlin",
]


def fast_path(app: Flask) -> FastPath:
    """The FastPath inside the proxy and host middlewares."""
    layer: Any = app.wsgi_app
    while not isinstance(layer, FastPath):
        layer = layer.app
    return layer


class FlaskCalls:
    """Counts the requests that reach Flask behind the fast path."""

    def __init__(self, app: Flask) -> None:
        self.count = 0
        path = fast_path(app)
        inner = path.app

        def counted(environ: dict, start_response: Any) -> Iterable[bytes]:
            self.count += 1
            return inner(environ, start_response)

        path.app = counted


def wire(response: Any) -> tuple[str, list[tuple[str, str]], bytes]:
    """Status, every header in order (Date aside: it is the clock's), body."""
    headers = [(k, v) for k, v in response.headers.items() if k != "Date"]
    return response.status, headers, response.get_data()


def warm(client: Any, url: str, **kwargs: Any) -> str:
    """Render a page into the page cache; detail URLs as the app spells them (the slug is
    the title's)."""
    response = client.get(url, **kwargs)
    if response.status_code == 301:
        url = response.headers["Location"]
        response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return url


def requests_counted(app: Flask, endpoint: str, method: str, status: str) -> float:
    registry = app.extensions["careers"].metrics.registry
    labels = {"endpoint": endpoint, "method": method, "status": status}
    return registry.get_sample_value("careers_http_requests_total", labels) or 0.0


@pytest.mark.parametrize(
    "public_url, headers",
    [
        ("", {}),
        ("", BEHIND_TLS),
        ("https://jobs.example.com", {}),
        ("https://jobs.example.com", BEHIND_TLS),
    ],
    ids=["plain", "behind-tls", "public-url", "public-url-behind-tls"],
)
def test_replay_is_flasks_response_byte_for_byte(make_app, sandbox, public_url, headers):
    overrides = {"public_url": public_url} if public_url else {}
    app = make_app(frame_ancestors="https://shop.acme.de", **overrides)
    client = app.test_client()
    flask = FlaskCalls(app)
    for url in URLS:
        url = warm(client, url, headers=headers)
        before = flask.count
        by_flask = client.get(url, headers=headers)  # hit, through Flask
        assert flask.count == before + 1
        assert by_flask.status_code == 200, url
        replayed = [client.get(url, headers=headers) for _ in range(3)]
        assert flask.count == before + 1, f"{url} went to Flask again"
        for response in replayed:
            assert wire(response) == wire(by_flask), url
            assert response.headers["Date"]
        # HEAD: the same headers, no body, as Flask sends it.
        head = client.head(url, headers=headers)
        assert flask.count == before + 1
        status, head_headers, body = wire(head)
        assert (status, head_headers, body) == (by_flask.status, wire(by_flask)[1], b"")


def test_security_headers_follow_route_and_scheme(make_app, sandbox):
    app = make_app(frame_ancestors="https://shop.acme.de")
    client = app.test_client()
    for _ in range(3):
        page = client.get("/en/jobs", headers=BEHIND_TLS)
        embedded = client.get("/embed/en/jobs")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert (
        "frame-ancestors 'self' https://shop.acme.de" in embedded.headers["Content-Security-Policy"]
    )
    assert "X-Frame-Options" not in embedded.headers
    assert "Strict-Transport-Security" not in embedded.headers
    # The same path over plain HTTP is another entry, without HSTS.
    for _ in range(3):
        plain = client.get("/en/jobs")
    assert "Strict-Transport-Security" not in plain.headers


def test_public_url_pins_the_host_for_the_replay_too(make_app, sandbox):
    app = make_app(public_url="https://jobs.example.com")
    client = app.test_client()
    for _ in range(3):
        honest = client.get("/en/jobs")
    forged = client.get("/en/jobs", headers={"Host": "evil.example"})
    assert wire(forged) == wire(honest)
    assert b"evil.example" not in forged.get_data()


def test_a_cookie_changes_nothing(client, sandbox):
    for _ in range(3):
        plain = client.get("/en/jobs")
    client.set_cookie("session", "not-ours", domain="localhost")
    client.set_cookie("_ga", "GA1.2.3", domain="localhost")
    assert wire(client.get("/en/jobs")) == wire(plain)


def test_304_on_if_none_match(app, sandbox):
    client = app.test_client()
    flask = FlaskCalls(app)
    for _ in range(3):
        page = client.get("/en/jobs")
    etag = page.headers["ETag"]
    first = client.get("/en/jobs", headers={"If-None-Match": etag})  # Flask's, copied
    calls = flask.count
    again = client.get("/en/jobs", headers={"If-None-Match": f'"other", {etag}'})
    assert flask.count == calls
    assert first.status_code == again.status_code == 304
    assert wire(again) == wire(first)
    assert again.get_data() == b""
    # Another ETag, or If-Modified-Since alone: the whole page.
    assert wire(client.get("/en/jobs", headers={"If-None-Match": '"stale"'})) == wire(page)
    since = client.get("/en/jobs", headers={"If-Modified-Since": "Tue, 01 Dec 2026 00:00:00 GMT"})
    assert wire(since) == wire(page)
    assert flask.count == calls
    # If-Match and Range are Flask's to answer.
    client.get("/en/jobs", headers={"If-Match": etag})
    client.get("/en/jobs", headers={"Range": "bytes=0-10"})
    assert flask.count == calls + 2


def test_a_board_change_ends_the_replay(app, sandbox):
    client = app.test_client()
    flask = FlaskCalls(app)
    for _ in range(3):
        old = client.get("/en/jobs")
    calls = flask.count
    sandbox.set_positions("en", synthetic_positions(7, seed=11))
    catalogue_of(app).refresh_all()
    new = client.get("/en/jobs")
    assert flask.count == calls + 1
    assert new.get_data() != old.get_data()
    assert new.headers["ETag"] != old.headers["ETag"]
    # The old ETag no longer gives a 304.
    assert client.get("/en/jobs", headers={"If-None-Match": old.headers["ETag"]}).status_code == 200
    replayed = client.get("/en/jobs")
    assert wire(replayed) == wire(client.get("/en/jobs"))
    assert replayed.get_data() == new.get_data()


def test_an_evicted_page_goes_back_to_flask(app, sandbox):
    client = app.test_client()
    flask = FlaskCalls(app)
    for _ in range(3):
        client.get("/en/jobs")
    calls = flask.count
    pages = app.extensions["careers.pages"]
    pages.maxsize = 1
    client.get("/de/jobs")  # renders, and pushes /en/jobs out of the page cache
    client.get("/en/jobs")
    assert flask.count == calls + 2


def test_metrics_count_replayed_requests(app, sandbox):
    client = app.test_client()
    for _ in range(3):
        page = client.get("/embed/en/jobs")
    client.get("/embed/en/jobs", headers={"If-None-Match": page.headers["ETag"]})
    before = requests_counted(app, "embed.job_list", "GET", "200")
    for _ in range(5):
        client.get("/embed/en/jobs")
    client.head("/embed/en/jobs")
    client.get("/embed/en/jobs", headers={"If-None-Match": page.headers["ETag"]})
    assert requests_counted(app, "embed.job_list", "GET", "200") == before + 5
    assert requests_counted(app, "embed.job_list", "HEAD", "200") == 1
    assert requests_counted(app, "embed.job_list", "GET", "304") == 2
    latency = app.extensions["careers"].metrics.registry.get_sample_value(
        "careers_http_request_duration_seconds_count", {"endpoint": "embed.job_list"}
    )
    assert latency == 3 + 1 + 5 + 1 + 1


def test_posts_and_unknown_pages_are_flasks(app, sandbox):
    client = app.test_client()
    flask = FlaskCalls(app)
    for _ in range(3):
        client.get("/en/jobs")
    calls = flask.count
    assert client.post("/en/jobs").status_code == 405
    for _ in range(3):
        assert client.get("/en/jobs/424242").status_code == 404
        assert client.get("/en/jobs/1842958").status_code == 301  # redirects are never kept
        assert client.get("/fr/jobs").status_code == 404
    assert flask.count == calls + 10
    assert requests_counted(app, "unmatched", "POST", "405") == 1  # counted by Flask, as ever
