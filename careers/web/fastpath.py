"""Warm pages answered in front of Flask: what Flask sent for a page-cache hit, sent again.

A warm page costs Flask its whole request cycle (routing, hooks, headers, ETag) to send
bytes it already has; that cycle is most of the CPU a warm page takes (docs/benchmarks.md).
So the first time Flask answers a request from the page cache (web/cache.py marks it),
this middleware keeps the status line, the header list and the body exactly as Flask handed
them to the server, under the request's raw WSGI coordinates: scheme, host, server name and
port, script name, path and query string, as they are after the proxy and host middlewares
have done their work. The next GET or HEAD with the same coordinates is answered from that
copy while it is still the page cache's current entry: the same board version for the
page's language, the same cache key, the same body object. Only what Flask computes per
request is computed here: the Date header, 304 against If-None-Match / If-Modified-Since
(with werkzeug's own check, and a 304 only after Flask has sent one to copy), and the
request metric.

Everything else goes to Flask: other methods, Range / If-Range / If-Match, a page not yet
seen or no longer current, responses that set a cookie or vary. What a page-cache hit
sends depends on nothing but these coordinates (no session, no Accept-Language: the URL
names the language; security headers follow path and scheme), which
tests/test_fastpath.py checks byte for byte.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.http import http_date, is_resource_modified

from .bodies import has_body
from .cache import WARM, PageCache, Warm

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ..services import Services

Headers = list[tuple[str, str]]
# Where a request goes: scheme, Host, server name and port, script name, path and query.
Where = tuple[str | None, ...]

# Requests that change what make_conditional does beyond 200/304: always Flask's.
_TO_FLASK = ("HTTP_RANGE", "HTTP_IF_RANGE", "HTTP_IF_MATCH")
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
_METHODS = ("GET", "HEAD")


@dataclass
class Replay:
    """What Flask sent for one page-cache hit, and what it was a hit on."""

    warm: Warm
    etag: str | None
    status: str
    headers: Headers
    date_at: int  # index of the Date header (set per request), -1 without one
    not_modified: tuple[str, Headers, int] | None = None


def _date_index(headers: Headers) -> int:
    return next((i for i, (name, _) in enumerate(headers) if name.lower() == "date"), -1)


def _keepable(headers: Headers) -> bool:
    """Nothing in it may depend on who asks: no cookie set, no Vary on request headers."""
    return not any(name.lower() in ("set-cookie", "vary") for name, _ in headers)


class FastPath:
    """WSGI middleware in front of Flask (inside the proxy and host middlewares)."""

    def __init__(
        self, app: WSGIApplication, services: Services, pages: PageCache, maxsize: int = 512
    ) -> None:
        self.app = app
        self.catalogue = services.catalogue
        self.metrics = services.metrics
        self.pages = pages
        self.maxsize = maxsize
        self._replays: dict[Where, Replay] = {}
        self._lock = threading.Lock()
        self._date_second = -1
        self._date = ""

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method not in _METHODS or has_body(environ):
            # A GET with a body is Flask's: web/bodies.py reads or refuses it, never the
            # server's keep-alive drain.
            return self.app(environ, start_response)
        started = time.perf_counter()
        where: Where = (
            environ["wsgi.url_scheme"],
            environ.get("HTTP_HOST"),
            environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )
        replay = self._replays.get(where)
        if replay is None or any(name in environ for name in _TO_FLASK):
            return self._through_flask(where, environ, start_response)
        warm = replay.warm
        version, lang = warm.key[0], warm.key[1]
        # The same call Flask's view makes first: it also starts a due background refresh.
        snapshot = self.catalogue.snapshot(lang, wait=0)
        if (
            snapshot is None
            or snapshot.version != version
            or self.pages.get(warm.key) is not warm.body
        ):
            return self._through_flask(where, environ, start_response)
        status, headers, date_at = replay.status, replay.headers, replay.date_at
        if any(name in environ for name in _CONDITIONAL) and not is_resource_modified(
            environ, replay.etag
        ):
            if replay.not_modified is None:  # not seen yet: Flask answers, and we copy it
                return self._through_flask(where, environ, start_response)
            status, headers, date_at = replay.not_modified
        if date_at >= 0:
            headers = headers.copy()
            headers[date_at] = (headers[date_at][0], self._now())
        start_response(status, headers)
        self.metrics.observe_request(
            warm.endpoint, method, int(status[:3]), time.perf_counter() - started
        )
        return [warm.body] if method == "GET" and status[:3] == "200" else []

    def _now(self) -> str:
        """The Date header werkzeug would set now (to the second), formatted once a second."""
        second = int(time.time())
        if second != self._date_second:
            self._date, self._date_second = http_date(second), second
        return self._date

    def _through_flask(
        self, where: Where, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Flask answers; a page-cache hit's 200 (or 304) is kept for the next request."""
        sent: list[tuple[str, Headers]] = []

        def keep(status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], Any]:
            sent.append((status, headers))
            return start_response(status, headers, exc_info)

        body = self.app(environ, keep)
        warm: Warm | None = environ.get(WARM)
        if warm is None or len(sent) != 1 or not _keepable(sent[0][1]):
            return body
        status, headers = sent[0]
        if status.startswith("304"):
            replay = self._replays.get(where)
            if replay is not None and replay.warm.key == warm.key and replay.warm.body is warm.body:
                replay.not_modified = (status, list(headers), _date_index(headers))
            return body
        if not status.startswith("200") or environ["REQUEST_METHOD"] != "GET":
            return body
        try:
            sent_body = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        if sent_body == warm.body:  # what the cache holds is what went out: keep the copy
            etag = next((v for k, v in headers if k.lower() == "etag"), None)
            self._keep(where, Replay(warm, etag, status, list(headers), _date_index(headers)))
        return [sent_body]

    def _keep(self, where: Where, replay: Replay) -> None:
        with self._lock:
            self._replays.pop(where, None)
            self._replays[where] = replay
            while len(self._replays) > self.maxsize:
                del self._replays[next(iter(self._replays))]
