"""The sandbox's inbox: mail sent over SMTP shows on /_sandbox/mail with clickable links and
its List-Unsubscribe header, and its one-click button does what a mail provider does
(RFC 8058: a POST of `List-Unsubscribe=One-Click` from a server, no cookies)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import lxml.html
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from careers.config import load_settings
from careers.mail import alert_links
from careers.mail.compose import Composer
from careers.mail.smtp import MailPermanent, SmtpTransport
from careers.mail.store import Filters, Subscription
from careers.personio.model import Position
from careers.sandbox.server import SandboxServer

from .apps import SECRET

TOKEN = "7.0123456789abcdef0123456789abcdef"
SENDER = "jobs@nordlicht.example"


class Recorder:
    """A stand-in for the career site's unsubscribe route: records what reaches it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "body": request.get_data(),
                "headers": dict(request.headers),
            }
        )
        return Response("unsubscribed")(environ, start_response)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(catch_mail=True) as running:
        yield running


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as running:
        yield running


def digest_to(server: SandboxServer, site: str, tmp_path: Path) -> None:
    """A real digest, composed for `site` and sent over SMTP to the sandbox's catcher."""
    settings = load_settings(
        {
            "CAREERS_PERSONIO_FEED_URL": f"{server.url}/xml",
            "CAREERS_SECRET_KEY": SECRET,
            "CAREERS_DATA_DIR": str(tmp_path),
            "CAREERS_COMPANY_NAME": "Nordlicht Robotics",
            "CAREERS_PUBLIC_URL": site,
            "CAREERS_SMTP_URL": server.mail.smtp_url,
            "CAREERS_MAIL_FROM": SENDER,
            "CAREERS_PRIVACY_URL": f"{server.url}/privacy-policy",
        }
    )
    sub = Subscription(7, "salt", "anna@example.org", Filters(), "en", 1.0, 2.0, 2.0)
    positions = [Position(id=101, name="Rust Engineer", office="Hamburg")]
    message = Composer(settings).digest(sub, TOKEN, positions)
    SmtpTransport(settings.smtp_url).send(message, ["anna@example.org"], SENDER)


def test_the_mail_page_lists_a_caught_mail(server: SandboxServer, tmp_path: Path) -> None:
    digest_to(server, "https://jobs.nordlicht.example", tmp_path)
    server.mail.wait_for(1)
    index = httpx.get(f"{server.url}/")
    assert '<a href="/_sandbox/mail">' in index.text
    page = httpx.get(f"{server.url}/_sandbox/mail")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    tree = lxml.html.fromstring(page.text)
    [article] = tree.iter("article")
    assert article.findtext("h2") == "1 new job at Nordlicht Robotics"
    assert "anna@example.org" in article.text_content()
    unsubscribe = alert_links.unsubscribe_url("https://jobs.nordlicht.example", "en", TOKEN)
    assert f"<{unsubscribe}>" in article.text_content()  # the header, shown
    text_links = [a.get("href") for a in article.iter("a") if a.getparent().tag == "pre"]
    assert (
        alert_links.job_url("https://jobs.nordlicht.example", "en", 101, "Rust Engineer")
        in text_links
    )
    assert unsubscribe in text_links
    assert article.xpath(".//form[@method='post']/button")

    [mail] = httpx.get(f"{server.url}/_sandbox/mail.json").json()["mails"]
    assert mail["subject"] == "1 new job at Nordlicht Robotics"
    assert mail["rcpt_to"] == ["anna@example.org"]
    assert mail["list_unsubscribe"] == unsubscribe
    assert mail["one_click"] is True

    html_part = httpx.get(f"{server.url}/_sandbox/mail/{mail['id']}/html")
    assert html_part.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "Rust Engineer" in html_part.text


def test_one_click_posts_like_a_mail_provider(
    server: SandboxServer, recorder: Recorder, tmp_path: Path
) -> None:
    digest_to(server, recorder.url, tmp_path)
    [mail] = server.mail.wait_for(1)
    answer = httpx.post(
        f"{server.url}/_sandbox/mail/{mail.id}/unsubscribe",
        cookies={"session": "the-browser-s-cookie"},
    )
    assert answer.status_code == 303
    [request] = recorder.requests
    assert request["method"] == "POST"
    assert request["path"] == f"/en/job-alerts/{TOKEN}/unsubscribe"
    assert request["body"] == b"List-Unsubscribe=One-Click"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Cookie" not in request["headers"]  # sent by the sandbox, not the browser
    page = httpx.get(f"{server.url}/_sandbox/mail").text
    assert "one-click POST answered 200 OK" in page


def test_a_refused_recipient_gets_nothing(server: SandboxServer, tmp_path: Path) -> None:
    server.mail.refuse("Anna@Example.org")
    with pytest.raises(MailPermanent):
        digest_to(server, "https://jobs.nordlicht.example", tmp_path)
    assert server.mail.messages() == []
    assert httpx.get(f"{server.url}/_sandbox/mail.json").json()["mails"] == []
    server.mail.allow("anna@example.org")
    digest_to(server, "https://jobs.nordlicht.example", tmp_path)
    assert len(server.mail.wait_for(1)) == 1


def test_deleting_empties_the_inbox(server: SandboxServer, tmp_path: Path) -> None:
    digest_to(server, "https://jobs.nordlicht.example", tmp_path)
    server.mail.wait_for(1)
    assert httpx.delete(f"{server.url}/_sandbox/mail").status_code == 204
    assert "No mail yet." in httpx.get(f"{server.url}/_sandbox/mail").text


def test_a_sandbox_without_catcher_has_no_mail_page() -> None:
    with SandboxServer() as plain:
        assert httpx.get(f"{plain.url}/_sandbox/mail").status_code == 404
        assert "/_sandbox/mail" not in httpx.get(f"{plain.url}/").text


def test_the_catcher_restarts_with_the_sandbox_on_the_same_port(tmp_path: Path) -> None:
    server = SandboxServer(catch_mail=True).start()
    try:
        url = server.mail.smtp_url
        server.stop()
        assert not server.mail.running
        server.start()
        assert server.mail.smtp_url == url
        digest_to(server, "https://jobs.nordlicht.example", tmp_path)
        assert len(server.mail.wait_for(1)) == 1
    finally:
        server.stop()
