"""Behind load balancers (docs/deployment.md "Behind a load balancer"): X-Forwarded-For is
believed hop by hop from CAREERS_TRUSTED_PROXIES only, and per-client limits count the
real client, an IPv6 client by its /64.

Peers other than loopback cannot connect here, so requests from a load balancer at
10.0.0.5 are the test client's with REMOTE_ADDR set; `careers serve` runs for real with
its proxy on loopback.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from gunicorn.config import Config

from careers.cli import serve
from careers.config import ConfigError, load_settings
from careers.network import LOOPBACK, client_key, client_subject, parse_trusted_proxies
from careers.web.proxy import TrustedProxyFix, client_address

from . import filegen
from .applying import JOB, apply_env, encode, open_form, send, token_of, valid_fields
from .apps import SECRET
from .mailing import mail_env, token_in
from .servers import eventually, free_port, wait_healthy

LB = "10.0.0.5"  # the load balancer, in the trusted 10.0.0.0/24
NGINX = "10.0.1.7"  # a proxy behind it, trusted on its own
CANDIDATE = "203.0.113.7"
OTHERS = [f"198.51.100.{i}" for i in range(1, 7)]
STRANGER = "192.0.2.10"  # a peer in no trusted network


# -- the walk -------------------------------------------------------------------------------

TRUSTED = parse_trusted_proxies(f"10.0.0.0/24 {NGINX}")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        (STRANGER, CANDIDATE, STRANGER),  # an untrusted peer names nobody
        (STRANGER, f"{LB}", STRANGER),  # ... not even a trusted address
        (LB, "", LB),  # no header: the peer
        (LB, CANDIDATE, CANDIDATE),
        (LB, f"1.2.3.4, {CANDIDATE}", CANDIDATE),  # the client's own entry is ignored
        (LB, f"{LB}, 1.2.3.4, {CANDIDATE}", CANDIDATE),  # even when it names a proxy
        (NGINX, f"{CANDIDATE}, {LB}", CANDIDATE),  # two proxies
        (NGINX, f"1.2.3.4, {CANDIDATE}, {LB}", CANDIDATE),
        (NGINX, f"{CANDIDATE}, {STRANGER}", STRANGER),  # the chain leaves our proxies
        (LB, f"10.0.0.9, {NGINX}", "10.0.0.9"),  # all trusted: the leftmost
        (LB, f"1.2.3.4, not-an-ip, {CANDIDATE}", CANDIDATE),  # garbage left of the client
        (LB, f"{CANDIDATE}, unknown", LB),  # garbage: the last good address
        (NGINX, f"{CANDIDATE}, _hidden, {LB}", LB),
        (LB, "<script>alert(1)</script>", LB),
        (LB, f"{CANDIDATE}, ,", CANDIDATE),  # empty list elements
        (LB, ",,,", LB),
        (LB, f"{CANDIDATE}:4711", CANDIDATE),  # ports as some load balancers write them
        (LB, "[2001:db8::7]:4711", "2001:db8::7"),
        (LB, "[2001:db8::7]", "2001:db8::7"),
        (LB, "2001:db8::7", "2001:db8::7"),
        (LB, "[not-an-ip]:80", LB),
        (LB, "203.0.113.7:99999", LB),  # not a port
        (LB, "203.0.113.777", LB),
        (LB, f"::ffff:{CANDIDATE}", CANDIDATE),  # IPv4-mapped: the IPv4 address
        (f"::ffff:{LB}", CANDIDATE, CANDIDATE),  # a peer on a socket bound to ::
        ("", CANDIDATE, ""),  # a Unix socket's peer is no address: nothing trusted
        ("garbage", CANDIDATE, "garbage"),
    ],
)
def test_the_chain_is_walked_right_to_left(peer, forwarded_for, client):
    assert client_address(peer, forwarded_for, TRUSTED) == client


def test_only_loopback_is_trusted_by_default():
    assert client_address("127.0.0.1", CANDIDATE, LOOPBACK) == CANDIDATE
    assert client_address("::1", CANDIDATE, LOOPBACK) == CANDIDATE
    assert client_address("127.0.0.2", CANDIDATE, LOOPBACK) == CANDIDATE
    assert client_address(LB, CANDIDATE, LOOPBACK) == LB


def _served(app: TrustedProxyFix, environ: dict) -> dict:
    """The environ the application behind the middleware saw."""
    seen: dict = {}

    def echo(env, start_response):
        seen.update(env)
        start_response("204 No Content", [])
        return []

    app.app = echo
    base = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.url_scheme": "http"}
    list(app({**base, **environ}, lambda status, headers, exc_info=None: None))
    return seen


@pytest.mark.parametrize(
    ("peer", "proto", "scheme"),
    [
        (LB, "https", "https"),
        (LB, "HTTPS", "https"),
        (LB, "http, https", "https"),  # the rightmost: what the proxy next to us says
        (LB, "https, http", "http"),
        (LB, "javascript", "http"),  # not a scheme we know: ignored
        (LB, "", "http"),
        (STRANGER, "https", "http"),
        ("127.0.0.1", "https", "http"),  # not listed: not trusted
    ],
)
def test_forwarded_proto_only_from_a_trusted_peer(peer, proto, scheme):
    fix = TrustedProxyFix(None, TRUSTED)  # type: ignore[arg-type]
    seen = _served(fix, {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_PROTO": proto})
    assert seen["wsgi.url_scheme"] == scheme
    assert seen["REMOTE_ADDR"] == peer


def test_the_middleware_sets_the_client_for_the_app():
    fix = TrustedProxyFix(None, TRUSTED)  # type: ignore[arg-type]
    seen = _served(fix, {"REMOTE_ADDR": NGINX, "HTTP_X_FORWARDED_FOR": f"x, {CANDIDATE}, {LB}"})
    assert seen["REMOTE_ADDR"] == CANDIDATE
    seen = _served(fix, {"REMOTE_ADDR": STRANGER, "HTTP_X_FORWARDED_FOR": CANDIDATE})
    assert seen["REMOTE_ADDR"] == STRANGER


# -- the setting ----------------------------------------------------------------------------


def settings_env(**extra: str) -> dict[str, str]:
    return {
        "CAREERS_PERSONIO_SUBDOMAIN": "acme",
        "CAREERS_SECRET_KEY": SECRET,
        **{f"CAREERS_{k.upper()}": v for k, v in extra.items()},
    }


@pytest.mark.parametrize(
    ("value", "networks"),
    [
        (None, ["127.0.0.0/8", "::1/128"]),
        ("", ["127.0.0.0/8", "::1/128"]),
        ("loopback", ["127.0.0.0/8", "::1/128"]),
        ("10.0.0.5", ["10.0.0.5/32"]),  # when set, only what it lists
        ("10.0.0.0/24, 2001:db8::/48", ["10.0.0.0/24", "2001:db8::/48"]),
        ("10.0.0.0/24 LOOPBACK\t10.0.0.0/24", ["10.0.0.0/24", "127.0.0.0/8", "::1/128"]),
    ],
)
def test_trusted_proxies_setting(value, networks):
    env = settings_env() if value is None else settings_env(trusted_proxies=value)
    got = load_settings(env).trusted_proxies
    assert got == tuple(ipaddress.ip_network(n) for n in networks)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.0.0.300", "'10.0.0.300' is not an IP address or CIDR network"),
        ("lb.internal", "'lb.internal' is not an IP address or CIDR network"),
        ("10.0.0.5/24", "'10.0.0.5/24' has host bits set (the network is 10.0.0.0/24)"),
        ("0.0.0.0/0", "'0.0.0.0/0' would trust every address"),
        ("::/0", "'::/0' would trust every address"),
        (",", "names no address"),
    ],
)
def test_a_bad_trusted_proxies_setting_is_one_line_naming_it(value, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(settings_env(trusted_proxies=value))
    [line] = caught.value.problems
    assert line.startswith(f"CAREERS_TRUSTED_PROXIES: {message}"), line
    assert "e.g. 10.0.0.5, 10.0.0.0/24" in line or "names no address" in line


def test_every_bad_entry_is_named_at_once():
    with pytest.raises(ConfigError) as caught:
        load_settings(settings_env(trusted_proxies="10.0.0.1, bogus, 10.1.0.1/8"))
    [line] = caught.value.problems
    assert "'bogus'" in line and "'10.1.0.1/8'" in line and "'10.0.0.1'" not in line


def test_gunicorn_trusts_the_same_proxies():
    """gunicorn reads X-Forwarded-Proto itself: it must believe exactly the same peers,
    IPv4 ones also as a socket bound to `::` reports them."""
    trusted = parse_trusted_proxies("10.0.0.0/24 2001:db8::/48")
    options = serve.gunicorn_options("127.0.0.1", 8000, 1, trusted_proxies=trusted)
    cfg = Config()
    cfg.set("forwarded_allow_ips", options["forwarded_allow_ips"])  # gunicorn's own check
    networks = cfg.forwarded_allow_networks()
    for peer, believed in [
        (LB, True),
        (f"::ffff:{LB}", True),
        ("2001:db8::1", True),
        ("10.0.1.5", False),
        ("::ffff:10.0.1.5", False),
        ("127.0.0.1", False),
        ("::1", False),
    ]:
        assert any(ipaddress.ip_address(peer) in n for n in networks) is believed, peer
    default = serve.gunicorn_options("127.0.0.1", 8000, 1)["forwarded_allow_ips"]
    assert default.split(",") == ["127.0.0.0/8", "::ffff:7f00:0/104", "::1/128"]


# -- the limits count the real client -------------------------------------------------------


def test_an_ipv6_client_is_its_64():
    same = {client_subject(f"2001:db8:1:2::{i:x}") for i in range(1, 300)}
    assert same == {"2001:db8:1:2::/64"}
    assert client_subject("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert client_subject("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert client_subject(f"::ffff:{CANDIDATE}") == CANDIDATE
    assert client_subject(CANDIDATE) == CANDIDATE
    assert client_key(SECRET, "2001:db8:1:2::a") == client_key(SECRET, "2001:db8:1:2:0:1:2:3")
    assert client_key(SECRET, "2001:db8:1:2::a") != client_key(SECRET, "2001:db8:1:3::a")
    assert client_key(SECRET, f"::ffff:{CANDIDATE}") == client_key(SECRET, CANDIDATE)
    # Keys hold no address: a keyed hash, different under another secret.
    key = client_key(SECRET, CANDIDATE)
    assert re.fullmatch(r"[0-9a-f]{32}", key) and key != client_key(SECRET + "x", CANDIDATE)


@pytest.fixture
def pdf(tmp_path) -> Path:
    return filegen.make_pdf(tmp_path / "cv.pdf")


def peer_client(app, peer: str):
    """A test client whose requests come from `peer`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = peer
    return client


def apply_as(client, pdf: Path, forwarded_for: str | None, email: str) -> int:
    """One application, X-Forwarded-For as given; the status it got."""
    fields = valid_fields(open_form(client), email=email)
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    return send(client, fields, [("cv", pdf, "cv.pdf")], headers=headers).status_code


def test_behind_a_trusted_load_balancer_every_candidate_keeps_their_own_limit(
    make_app, sandbox_server, tmp_path, pdf
):
    app = make_app(trusted_proxies="10.0.0.0/24", **apply_env(sandbox_server.url, tmp_path))
    lb = peer_client(app, LB)
    for i in range(5):  # CAREERS_SUBMIT_RATE_LIMIT's default: 5 in 10 minutes
        assert apply_as(lb, pdf, CANDIDATE, f"a{i}@example.com") == 303
    assert apply_as(lb, pdf, CANDIDATE, "a5@example.com") == 429
    # A spoofed entry of their own to the left changes nothing.
    assert apply_as(lb, pdf, f"{OTHERS[0]}, {CANDIDATE}", "a6@example.com") == 429
    # Everyone else behind the same load balancer still applies.
    for i, other in enumerate(OTHERS):
        assert apply_as(lb, pdf, other, f"b{i}@example.com") == 303, other
    assert len(app.extensions["careers"].outbox.summaries()) == 11


def test_an_untrusted_peer_cannot_choose_its_address(make_app, sandbox_server, tmp_path, pdf):
    env = apply_env(sandbox_server.url, tmp_path, submit_rate_limit="2/600")
    app = make_app(trusted_proxies="10.0.0.0/24", **env)
    stranger = peer_client(app, STRANGER)
    assert apply_as(stranger, pdf, OTHERS[0], "a0@example.com") == 303
    assert apply_as(stranger, pdf, OTHERS[1], "a1@example.com") == 303
    assert apply_as(stranger, pdf, OTHERS[2], "a2@example.com") == 429  # keyed on the peer
    assert apply_as(stranger, pdf, f"{OTHERS[3]}, {LB}", "a3@example.com") == 429
    # Once the setting is set, loopback is no longer trusted either: only what it lists.
    local = peer_client(app, "127.0.0.1")
    assert apply_as(local, pdf, OTHERS[4], "b0@example.com") == 303
    assert apply_as(local, pdf, OTHERS[5], "b1@example.com") == 303
    assert apply_as(local, pdf, CANDIDATE, "b2@example.com") == 429


def test_a_chain_of_two_trusted_proxies(make_app, sandbox_server, tmp_path, pdf):
    env = apply_env(sandbox_server.url, tmp_path, submit_rate_limit="1/600")
    app = make_app(trusted_proxies=f"10.0.0.0/24, {NGINX}", **env)
    nginx = peer_client(app, NGINX)  # load balancer → nginx → careers
    assert apply_as(nginx, pdf, f"{CANDIDATE}, {LB}", "a0@example.com") == 303
    assert apply_as(nginx, pdf, f"{CANDIDATE}, {LB}", "a1@example.com") == 429
    # What the candidate wrote themselves stands left of their address: ignored.
    assert apply_as(nginx, pdf, f"{OTHERS[0]}, {CANDIDATE}, {LB}", "a2@example.com") == 429
    assert apply_as(nginx, pdf, f"{LB}, {CANDIDATE}, {LB}", "a3@example.com") == 429
    assert apply_as(nginx, pdf, f"{OTHERS[0]}, {LB}", "b0@example.com") == 303


def test_ipv6_clients_share_a_limit_within_their_64(make_app, sandbox_server, tmp_path, pdf):
    env = apply_env(sandbox_server.url, tmp_path, submit_rate_limit="1/600")
    app = make_app(**env)  # the default: a proxy on loopback
    proxy = peer_client(app, "127.0.0.1")
    assert apply_as(proxy, pdf, "2001:db8:1:2::a", "a0@example.com") == 303
    assert apply_as(proxy, pdf, "2001:db8:1:2:8f3e:11ff:fe02:7", "a1@example.com") == 429
    assert apply_as(proxy, pdf, "2001:db8:1:3::a", "b0@example.com") == 303  # the next /64
    # An IPv4 client is the same client however its address is written.
    assert apply_as(proxy, pdf, CANDIDATE, "c0@example.com") == 303
    assert apply_as(proxy, pdf, f"::ffff:{CANDIDATE}", "c1@example.com") == 429
    # And so is a peer that connects directly over IPv6.
    direct = peer_client(app, "2001:db8:9:9::1")
    assert apply_as(direct, pdf, None, "d0@example.com") == 303
    assert apply_as(peer_client(app, "2001:db8:9:9::2"), pdf, None, "d1@example.com") == 429


def test_job_alert_limits_count_an_ipv6_client_by_its_64(make_app, sandbox):
    app = make_app(**mail_env(), privacy_url="https://nordlicht.example/privacy")

    def ask(peer: str, email: str) -> int:
        client = peer_client(app, peer)
        token = token_in(client.get("/en/jobs").get_data(as_text=True))
        form = {"form_token": token, "email": email, "website": ""}
        return client.post("/en/job-alerts", data=form).status_code

    for i in range(5):  # five an hour per client (web/alerts.py CLIENT_LIMIT)
        assert ask(f"2001:db8:5:6::{i + 1:x}", f"a{i}@example.com") == 303
    assert ask("2001:db8:5:6:aaaa::1", "a5@example.com") == 429
    assert ask("2001:db8:5:7::1", "b@example.com") == 303


@pytest.mark.parametrize(
    "forwarded_for",
    [
        "not-an-ip",
        "203.0.113.7, <script>",
        "unknown",
        ", , ,",
        "\u00ff\u00fe",
        "1.2.3.4, " * 2000,
        "[",
        "[]:80",
        "999.999.999.999",
        "2001:db8::1::2",
    ],
)
def test_garbage_forwarded_headers_never_fail_a_request(make_app, forwarded_for):
    app = make_app(trusted_proxies="10.0.0.0/24")
    response = peer_client(app, LB).get(
        "/en/jobs", headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "\u00ff"}
    )
    assert response.status_code == 200


# -- `careers serve` with its proxy on loopback ---------------------------------------------


@pytest.fixture
def start_serve(sandbox, sandbox_server, tmp_path) -> Iterator[Callable[..., tuple[str, Path]]]:
    """`careers serve` on a free loopback port; returns its URL and its stdout (the access
    log). Stopped after the test."""
    procs: list[subprocess.Popen] = []

    def start(name: str, **overrides: str) -> tuple[str, Path]:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERS_")}
        env.update(
            {
                "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
                "CAREERS_SECRET_KEY": SECRET,
                "CAREERS_DATA_DIR": str(tmp_path / name),
                **{f"CAREERS_{k.upper()}": v for k, v in overrides.items()},
            }
        )
        stdout = tmp_path / f"{name}.out"
        with stdout.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "careers.cli", "serve", "--host", "127.0.0.1"]
                + ["--port", str(port), "--workers", "1"],
                env=env,
                stdout=out,
                stderr=subprocess.DEVNULL,
                cwd=tmp_path,
            )
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        return base, stdout

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _behind_tls(base: str) -> httpx.Response:
    """A request as the proxy on loopback forwards it: client 203.0.113.7 over HTTPS."""
    headers = {"X-Forwarded-For": CANDIDATE, "X-Forwarded-Proto": "https"}
    return httpx.get(f"{base}/en//jobs", headers=headers, timeout=10)


def _access_line(stdout: Path, needle: str) -> str:
    """The access-log line (gunicorn's) of the request to `needle`, once it is written."""

    def lines() -> list[str]:
        return [line for line in stdout.read_text().splitlines() if needle in line]

    assert eventually(lambda: bool(lines())), stdout.read_text()
    return lines()[0]


@pytest.mark.system
def test_serve_believes_its_proxy_on_loopback(start_serve, sandbox_server, tmp_path, pdf):
    base, stdout = start_serve("default", **apply_env(sandbox_server.url, tmp_path))
    # The scheme (gunicorn and the app agree) and the client in the access log.
    response = _behind_tls(base)
    assert response.status_code == 308
    assert response.headers["Location"].startswith("https://127.0.0.1:")
    assert _access_line(stdout, "/en//jobs").startswith(f'{CANDIDATE} "GET /en//jobs"')

    def apply(forwarded_for: str, email: str) -> int:
        with httpx.Client(base_url=base, timeout=30) as client:
            form = client.get(f"/en/jobs/{JOB}/apply")
            fields = valid_fields(token_of(form.text), email=email)
            body, content_type = encode(fields, [("cv", pdf, "cv.pdf", "application/pdf")])
            headers = {"Content-Type": content_type, "X-Forwarded-For": forwarded_for}
            return client.post(f"/en/jobs/{JOB}/apply", content=body, headers=headers).status_code

    for i in range(5):
        assert apply(CANDIDATE, f"a{i}@example.com") == 303
    assert apply(CANDIDATE, "a5@example.com") == 429
    assert apply(f"{OTHERS[0]}, {CANDIDATE}", "a6@example.com") == 429
    assert apply(OTHERS[0], "b0@example.com") == 303
    assert apply("2001:db8:1:2::a", "c0@example.com") == 303


@pytest.mark.system
def test_serve_ignores_loopback_when_only_the_load_balancer_is_trusted(start_serve):
    base, stdout = start_serve("listed", trusted_proxies="10.0.0.0/24")
    response = _behind_tls(base)
    assert response.status_code == 308
    # Had gunicorn still believed loopback, it would have made the scheme https.
    assert response.headers["Location"].startswith("http://127.0.0.1:")
    assert _access_line(stdout, "/en//jobs").startswith('127.0.0.1 "GET /en//jobs"')
