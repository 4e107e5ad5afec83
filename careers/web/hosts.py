"""With CAREERS_PUBLIC_URL set, every URL we build names the public address, whatever the
request claims (docs/security.md "Hosts, logs and metrics").

Werkzeug builds absolute URLs from the request's Host header and scheme: the redirects of
its router (`//` merged, a missing trailing slash added) and everything `url_for(...,
_external=True)` or `request.host_url` gives. A forged `Host` would otherwise send visitors,
crawlers and caches to another site. So before Flask sees a request, `HTTP_HOST`,
`SERVER_NAME`, `SERVER_PORT` and `wsgi.url_scheme` are set to the public URL's. Requests are
never refused for their Host: a load balancer asking `/healthz` by IP address still gets
its answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_DEFAULT_PORTS = {"http": 80, "https": 443}


class PublicHost:
    """WSGI middleware pinning the request's host, port and scheme to `public_url`.

    It must run after anything that reads forwarded headers (`TrustedProxyFix`, gunicorn's
    `X-Forwarded-Proto` handling), i.e. wrap the Flask app directly, so that nothing a client
    sends can change what it set.
    """

    def __init__(self, app: WSGIApplication, public_url: str) -> None:
        parts = urlsplit(public_url)
        self.app = app
        self.scheme = parts.scheme.lower()
        hostname = parts.hostname or ""
        try:
            port = parts.port
        except ValueError:  # a nonsense port: keep the default one
            port = None
        self.server_port = str(port or _DEFAULT_PORTS[self.scheme])
        shown = f"[{hostname}]" if ":" in hostname else hostname
        # Host as a browser sends it: the default port left out, so that Origin matches.
        self.host = shown if port in (None, _DEFAULT_PORTS[self.scheme]) else f"{shown}:{port}"
        self.server_name = hostname

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ["HTTP_HOST"] = self.host
        environ["SERVER_NAME"] = self.server_name
        environ["SERVER_PORT"] = self.server_port
        environ["wsgi.url_scheme"] = self.scheme
        return self.app(environ, start_response)
