"""Counting the funnel's views (careers/jobs/funnel.py, docs/funnel.md) in front of Flask.

WSGI middleware around the fast path, so a page replayed from memory is counted like one
Flask rendered. A view is counted when all of these hold:

- a GET (not HEAD, not a form post) of a job list, a job page or an application form, on
  the site or in the widget, answered 200: redirects (a job URL without its slug), 304
  revalidations (the same visitor's browser asking again), 404/410 and errors are not views;
- not a prefetch or prerender (`Sec-Purpose: prefetch`, `Purpose: prefetch`,
  `X-Purpose: preview`, `X-Moz: prefetch`): nobody has seen the page yet;
- not a known crawler, previewer or script (funnel.CRAWLER_WORDS), and not without a
  User-Agent.

The request only adds one in this process's tally; nothing is read from or written to the
database here, and nothing about the visitor is kept: the job id, the language in the URL
and the channel of the landing URL's `_pc` / `utm_source` are all that is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..jobs.funnel import LIST, Step, Tally, channel_of, is_crawler
from .site_links import attribution_args

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_PREFETCH = ("HTTP_SEC_PURPOSE", "HTTP_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ")
_CHANNELS_KEPT = 1024  # query strings whose channel is remembered (links repeat)


def _channel_in(query: str) -> str:
    """The channel of a query string (funnel.channel_of), read as Flask's request.args."""
    first: dict[str, str] = {}
    for name, value in parse_qsl(query):
        first.setdefault(name, value)
    return channel_of(attribution_args(first))


class Counting:
    """Counts list views, job page views and forms opened as they are answered."""

    def __init__(self, app: WSGIApplication, tally: Tally, languages: Iterable[str]) -> None:
        self.app = app
        self.tally = tally
        lang = "|".join(re.escape(code) for code in languages)
        self._page = re.compile(
            rf"/(?:embed/)?(?P<lang>{lang})/jobs(?:/(?P<id>[0-9]{{1,18}})"
            r"(?:(?P<apply>/apply)|-[^/]*)?)?"
        )
        self._channels: dict[str, str] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "GET":
            return self.app(environ, start_response)
        found = self._page.fullmatch(environ.get("PATH_INFO", ""))
        if found is None or _not_a_visit(environ):
            return self.app(environ, start_response)

        def counted(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], Any]:
            if status.startswith("200") and exc_info is None:
                self._count(found, environ.get("QUERY_STRING", ""))
            return start_response(status, headers, exc_info)

        return self.app(environ, counted)

    def _count(self, found: re.Match[str], query: str) -> None:
        if found["id"] is None:
            step, position = Step.LIST_VIEW, LIST
        else:
            step = Step.FORM_OPENED if found["apply"] else Step.JOB_VIEW
            position = int(found["id"])
        channel = ""
        if "_pc=" in query or "utm_source=" in query:
            channel = self._channels.get(query, "")
            if not channel:
                channel = _channel_in(query)
                if len(self._channels) >= _CHANNELS_KEPT:
                    self._channels.clear()
                self._channels[query] = channel
        self.tally.count(step, position, channel, found["lang"])


def _not_a_visit(environ: WSGIEnvironment) -> bool:
    """A prefetch, a crawler, a script: not a person looking at the page."""
    for name in _PREFETCH:
        value = environ.get(name)
        if value and any(word in value.lower() for word in ("prefetch", "prerender", "preview")):
            return True
    return is_crawler(environ.get("HTTP_USER_AGENT", ""))
