"""Client addresses: which peers may name the client (CAREERS_TRUSTED_PROXIES), and what a
per-client limit counts as one client.

Plain Python, no Flask: the setting is parsed in config.py, the forwarded chain is walked
in web/proxy.py, per-client limits are keyed here (`client_key`), and `careers serve` hands the
same list to gunicorn (docs/deployment.md "Behind a load balancer").
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The default, and what the word `loopback` stands for in the setting: a proxy on this host.
LOOPBACK: tuple[Network, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)
# An IPv6 site gets a /64 (RFC 6177) and picks host addresses in it at will (privacy
# addresses, RFC 8981): counted per address, one household would have 2**64 limits.
IPV6_CLIENT_PREFIX = 64
_SEPARATORS = re.compile(r"[\s,]+")
_EXAMPLES = "e.g. 10.0.0.5, 10.0.0.0/24, 2001:db8::/48 or loopback"


def _network(entry: str) -> Network:
    """One entry of the setting; ValueError with what is wrong with it."""
    try:
        network = ipaddress.ip_network(entry)
    except ValueError:
        try:
            loose = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        # 10.0.0.5/8 is a typo for an address or for 10.0.0.0/8: say which was meant.
        raise ValueError(f"{entry!r} has host bits set (the network is {loose})") from None
    if network.prefixlen == 0:
        raise ValueError(
            f"{entry!r} would trust every address, so any client could name itself: list the"
            " proxies' addresses or their network"
        )
    return network


def parse_trusted_proxies(value: str) -> tuple[Network, ...]:
    """CAREERS_TRUSTED_PROXIES: addresses and CIDR networks, separated by commas or spaces;
    `loopback` stands for 127.0.0.0/8 and ::1. Every bad entry is named at once."""
    networks: list[Network] = []
    problems: list[str] = []
    for entry in _SEPARATORS.split(value.strip()):
        if not entry:
            continue
        if entry.lower() == "loopback":
            networks.extend(LOOPBACK)
            continue
        try:
            networks.append(_network(entry))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems) + f" ({_EXAMPLES})")
    if not networks:
        raise ValueError(f"names no address ({_EXAMPLES})")
    return tuple(dict.fromkeys(networks))


def parse_address(text: str) -> Address | None:
    """An IP address as written, or None; an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`,
    what a socket bound to `::` reports for IPv4 peers) is the IPv4 address it maps."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: Address, networks: Iterable[Network]) -> bool:
    """Whether `address` is one of the proxies whose forwarded headers we believe."""
    return any(address in network for network in networks)


def client_subject(address: str) -> str:
    """What a per-client limit counts as one client: the IPv4 address, or the /64 network
    of an IPv6 address. Anything else (a Unix socket's empty peer) counts as written."""
    parsed = parse_address(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        host_bits = 128 - IPV6_CLIENT_PREFIX
        network = ipaddress.IPv6Network((int(parsed) >> host_bits << host_bits, IPV6_CLIENT_PREFIX))
        return str(network)
    return str(parsed)


def client_key(secret_key: str, address: str) -> str:
    """A per-client rate-limit key that is not the IP address itself (no personal data stored):
    an IPv6 client is its /64, since one household can pick any address in it."""
    subject = client_subject(address)
    return hmac.new(secret_key.encode(), subject.encode(), hashlib.sha256).hexdigest()[:32]


def gunicorn_allow_list(networks: Iterable[Network]) -> str:
    """gunicorn's `forwarded_allow_ips` for the same proxies. gunicorn compares the peer as
    the socket reports it, so each IPv4 network is listed again as IPv4-mapped IPv6: a
    server bound to `::` sees its IPv4 proxies as `::ffff:a.b.c.d`."""
    entries: list[str] = []
    for network in networks:
        entries.append(str(network))
        if isinstance(network, ipaddress.IPv4Network):
            mapped = ipaddress.IPv6Address(f"::ffff:{network.network_address}")
            entries.append(f"{mapped}/{96 + network.prefixlen}")
    return ",".join(dict.fromkeys(entries))
