"""Behind a reverse proxy on this host, the client is the one the proxy names.

Without this every candidate would share the proxy's address, and the per-client limit
(CAREERS_SUBMIT_RATE_LIMIT) would throttle the whole site. Forwarded headers are believed
only from loopback, where only our own proxy can connect from. The host is never taken from
them (x_host=0); with CAREERS_PUBLIC_URL set, `hosts.PublicHost` (inside this middleware, so
after it) pins host, port and scheme to the public URL's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class LoopbackProxyFix:
    """ProxyFix (one hop of X-Forwarded-For/-Proto/-Host) for requests from loopback only."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # The cheap test first: most requests carry no forwarded header at all.
        if environ.get("HTTP_X_FORWARDED_FOR") and _loopback(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
