"""The mail flow's parts that several test modules drive: the site's settings with mail, its
stores on a test clock with a mail worker over them, and a reader's hands (the job-alert form,
a mail's link, a page's button). The fixtures over them (`catcher`, `clock`, `mail_app`,
`harness`) are in conftest.py."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import lxml.html
import psycopg

from careers.db.database import open_database
from careers.mail.worker import MailWorker
from careers.sandbox.mailcatcher import CaughtMail

from .applying import Clock

SITE = "http://careers.test"
SENDER = "Nordlicht Careers <jobs@nordlicht.example>"
OPS = "ops@nordlicht.example"
HOUR = 3600.0


def mail_env(smtp_url: str = "smtp://127.0.0.1:2525") -> dict[str, str]:
    """Mail configured; nothing is sent unless a test runs the mail worker."""
    return {"smtp_url": smtp_url, "mail_from": "jobs@nordlicht.example", "public_url": SITE}


def token_in(page: str) -> str:
    """The form token of the (first) form on a page."""
    return unescape(re.search(r'name="form_token" value="([^"]+)"', page)[1])


class Harness:
    """The app's stores on the test clock, and a mail worker over them."""

    def __init__(self, app, clock: Clock) -> None:
        self.app, self.clock = app, clock
        self.services = app.extensions["careers"]
        settings = self.services.settings
        self.database = open_database(settings.database_url, clock=clock)
        self.outbox, self.mail = self.database.outbox, self.database.mail
        self.worker = MailWorker(
            settings,
            self.mail,
            self.outbox,
            self.services.catalogue,
            funnel=self.database.funnel,
            clock=clock,
        )

    def drain(self) -> list[str]:
        """One round of turns (housekeeping, monitors, digest), then every due mail."""
        first = self.worker.step()
        outcomes = [first] if first else []
        while (outcome := self.worker.send_next()) is not None:
            outcomes.append(outcome)
        return outcomes

    def later(self, seconds: float) -> list[str]:
        self.clock.advance(seconds)
        if self.database.dialect == "postgresql":
            # Turns run on the database's clock (hosts' clocks differ), which a test cannot
            # move: move the turns back instead, as if that clock had gone on.
            with psycopg.connect(self.services.settings.database_url, autocommit=True) as conn:
                conn.execute("UPDATE turns SET next_at = next_at - %s", (seconds,))
        return self.drain()

    def close(self) -> None:
        self.database.close()


def subscribe(client, address: str, query: str = "department=Engineering", lang: str = "en"):
    """Fill in the list page's job-alert form as a browser would."""
    page = client.get(f"/{lang}/jobs?{query}")
    assert page.status_code == 200
    form = lxml.html.fromstring(page.get_data(as_text=True)).xpath(
        '//form[contains(@class, "job-alert")]'
    )[0]
    fields = [(i.name, i.value or "") for i in form.inputs if i.name and i.get("type") != "submit"]
    fields = [(name, address if name == "email" else value) for name, value in fields]
    return client.post(urlsplit(form.action).path, data=_multi(fields))


def _multi(pairs):
    from werkzeug.datastructures import MultiDict

    return MultiDict(pairs)


def press_button(client, url: str, **extra: str):
    """Open a page from a mail and press its only form's button."""
    path = urlsplit(url).path
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    form = lxml.html.fromstring(page.get_data(as_text=True)).xpath("//main//form")[0]
    data = {i.name: i.value or "" for i in form.inputs if i.name}
    data.update(extra)
    return client.post(urlsplit(form.action).path if form.action else path, data=data)


def link(mail: CaughtMail, pattern: str) -> str:
    found = re.search(rf"{re.escape(SITE)}/[^\s\"<>]*{pattern}[^\s\"<>]*", mail.text)
    assert found, mail.text
    return found[0]
