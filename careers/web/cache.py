"""Rendered pages, kept per board version: a warm page costs a lookup, not a render."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request
from werkzeug.wrappers import Response as BaseResponse

# The environ key under which a page served from the cache is marked for the fast path.
WARM = "careers.warm_page"

# What a page is cached under: board version, language, host URL and full path with query.
PageKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class Warm:
    """A page-cache hit: the key Flask looked up, the body it found, the endpoint it ran."""

    key: PageKey
    body: bytes
    endpoint: str


class PageCache:
    """A small thread-safe LRU of rendered HTML; entries die with the board version."""

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[PageKey, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: PageKey) -> bytes | None:
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
            return body

    def put(self, key: PageKey, body: bytes) -> None:
        with self._lock:
            self._entries[key] = body
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)


def cached_page(
    version: Callable[[], str],
) -> Callable[[Callable[..., BaseResponse | str]], Callable[..., BaseResponse]]:
    """Serve a view's 200 HTML from the cache, keyed by board version, language and URL.

    Redirects, 404/410 and errors are never cached; they are raised or returned as responses.
    Pages also get an ETag, so a browser's revalidation costs nothing. A page answered from
    the cache is marked in the WSGI environ, so that the fast path (web/fastpath.py) may
    keep what Flask sends for it and answer the next such request itself.
    """

    def decorate(view: Callable[..., BaseResponse | str]) -> Callable[..., BaseResponse]:
        @wraps(view)
        def wrapper(**kwargs: Any) -> BaseResponse:
            key: PageKey = (version(), g.lang, request.host_url, request.full_path)
            cache: PageCache = current_app.extensions["careers.pages"]
            body = cache.get(key)
            if body is None:
                result = view(**kwargs)
                if not isinstance(result, str):
                    return result
                body = result.encode()
                cache.put(key, body)
            else:
                request.environ[WARM] = Warm(key, body, request.endpoint or "unmatched")
            response = Response(body, mimetype="text/html")
            response.set_etag(hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest())
            response.headers["Cache-Control"] = "no-cache"
            return response.make_conditional(request)

        return wrapper

    return decorate
