"""Behind reverse proxies and load balancers, the client is the one the proxies name.

Without this every candidate would share the proxy's address, and the per-client limits
(CAREERS_SUBMIT_RATE_LIMIT, the refusal budget, job alerts) would throttle the whole site.
X-Forwarded-For is believed hop by hop, right to left, and only as far as the chain runs
through CAREERS_TRUSTED_PROXIES (default: loopback, where only a proxy on this host can
connect from): every proxy appends the address it was connected from, so the rightmost
entries are the ones our own proxies wrote and anything a client sent stands to the left.

- The peer is not trusted: its headers are ignored, the peer is the client.
- Otherwise step left while the address reached is trusted; the first untrusted address is
  the client, and when every address is trusted, the leftmost one.
- An entry that is not an IP address (`unknown`, a hostname, garbage) ends the walk: the
  last good address is the client. Ports (`192.0.2.1:4711`, `[2001:db8::1]:4711`), as some
  load balancers write them, are dropped.

X-Forwarded-Proto is taken from a trusted peer only, its rightmost value, and only `http`
or `https`: in a chain, the proxy next to careers must pass on the client's scheme.
The host is never taken from forwarded headers; with CAREERS_PUBLIC_URL set,
`hosts.PublicHost` (inside this middleware, so after it) pins host, port and scheme to the
public URL's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..network import Address, Network, is_trusted, parse_address

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# `[v6]`, `[v6]:port` or `v4:port`: the address part. A bare IPv6 address has colons of
# its own and is parsed as it is.
_WITH_PORT = re.compile(r"\[([^\]]+)\](?::(\d{1,5}))?|(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})")
_SCHEMES = ("http", "https")


def _entry(text: str) -> Address | None:
    """One X-Forwarded-For entry as an address, or None when it is not one."""
    text = text.strip()
    match = _WITH_PORT.fullmatch(text)
    if match:
        port = match[2] or match[4]
        if port and int(port) > 65535:
            return None
        text = match[1] or match[3]
    return parse_address(text)


def client_address(peer: str, forwarded_for: str, trusted: Iterable[Network]) -> str:
    """The client's address: `peer` (REMOTE_ADDR), or the address the trusted proxies in
    front of it name in `forwarded_for` (the X-Forwarded-For header, "" without one)."""
    networks = tuple(trusted)
    address = parse_address(peer)
    if address is None or not is_trusted(address, networks):
        return peer
    return _named_client(peer, forwarded_for, networks)


def _named_client(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The walk of `client_address`, for a peer already known to be trusted."""
    client = peer
    # Entries from right to left; empty list elements (`a, , b`) are allowed by HTTP.
    for text in reversed(forwarded_for.split(",")):
        if not text.strip():
            continue
        address = _entry(text)
        if address is None:
            break  # garbage: believe nothing further left
        client = str(address)
        if not is_trusted(address, networks):
            break
    return client


class TrustedProxyFix:
    """WSGI middleware: REMOTE_ADDR and wsgi.url_scheme as the trusted proxies say."""

    def __init__(self, app: WSGIApplication, trusted: Iterable[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        forwarded_for = environ.get("HTTP_X_FORWARDED_FOR", "")
        proto = environ.get("HTTP_X_FORWARDED_PROTO", "")
        # The cheap test first: most requests carry no forwarded header at all.
        if forwarded_for or proto:
            self._fix(environ, forwarded_for, proto)
        return self.app(environ, start_response)

    def _fix(self, environ: WSGIEnvironment, forwarded_for: str, proto: str) -> None:
        """Rewrite the environ for a request that carries forwarded headers."""
        peer = environ.get("REMOTE_ADDR") or ""
        address = parse_address(peer)
        if address is None or not is_trusted(address, self.trusted):
            return
        if forwarded_for:
            environ["REMOTE_ADDR"] = _named_client(peer, forwarded_for, self.trusted)
        scheme = proto.rsplit(",", 1)[-1].strip().lower()
        if scheme in _SCHEMES:
            environ["wsgi.url_scheme"] = scheme
