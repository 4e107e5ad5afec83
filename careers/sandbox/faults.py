"""The sandbox's fault table: scripted misbehaviour that tests and demos inject by target."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from careers.sandbox.feedxml import XML_DECLARATION, render_feed
from careers.sandbox.recruiting import problem_body

XML_TYPE = "text/xml; charset=utf-8"  # what the live feed sends (docs/personio.md §1.1)

# Fault targets by path prefix; a request under a prefix can be faulted even if it would 404.
# A request belongs to the longest matching prefix, so the documents endpoint is "documents",
# not "applications"; GROUPS let one fault address several targets. The v2 endpoints are the
# same targets as their v1 twins (target_of), so a fault tests both versions alike.
TARGETS = {
    "feed": "/xml",
    "documents": "/v1/recruiting/applications/documents",
    "applications": "/v1/recruiting/applications",
    "token": "/v2/auth/token",
}
GROUPS = {"recruiting": frozenset({"documents", "applications"})}
RECRUITING_TARGETS = frozenset({"documents", "applications", "recruiting", "token"})
# Each fault kind and the parameters it accepts (anything else is a typo and is refused).
FAULT_PARAMS: dict[str, frozenset[str]] = {
    "status": frozenset({"status", "body", "content_type", "retry_after"}),
    "slow": frozenset({"delay"}),
    "hang": frozenset({"delay"}),
    "html": frozenset(),
    "malformed": frozenset(),
    "empty": frozenset(),
    "redirect": frozenset({"location", "status"}),
    "body": frozenset({"body", "content_type", "status"}),
    "drop": frozenset(),
    "drop_after": frozenset(),
    # Personio's own feed conditions, as careers/personio/diagnosis.py tells them apart.
    "unknown_account": frozenset(),
    "feed_off": frozenset(),
    "moved": frozenset({"to", "status"}),
    "maintenance": frozenset({"retry_after"}),
}
# Kinds that only make sense for one side: feed documents, or "processed, answer lost".
FEED_ONLY_KINDS = frozenset(
    {"html", "malformed", "empty", "unknown_account", "feed_off", "moved", "maintenance"}
)
# Where "moved" sends the feed unless told: the sandbox's account on Personio's .com host.
MOVED_TO = "https://sandbox.jobs.personio.com"
RECRUITING_ONLY_KINDS = frozenset({"drop_after"})
HANG_SECONDS = 30.0
MAX_HANG_SECONDS = 300.0

_HOMEPAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Personio | HR software for growing teams</title>
</head><body><header><nav><a href="/">Personio</a> <a href="/pricing">Pricing</a></nav></header>
<main><h1>One HR platform for hiring, onboarding and payroll</h1>
<p>Bring every people process into one place.</p><a href="/demo">Book a demo</a></main>
</body></html>
"""
# An account's career page, which Personio shows when the XML feed is switched off (§1.1).
_CAREER_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Jobs at Sandbox GmbH</title></head>
<body><main><h1>Open positions</h1><p>Join our team.</p></main></body></html>
"""
_NOT_FOUND = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Page not found | Personio</title></head>
<body><h1>Page not found</h1><p>The page you are looking for does not exist.</p></body></html>
"""
_MAINTENANCE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Scheduled maintenance | Personio</title>
</head><body><h1>We'll be back soon</h1><p>Personio is undergoing scheduled maintenance.</p>
</body></html>
"""


@dataclass
class Fault:
    """One injected misbehaviour; `times` counts down to removal (None = until cleared)."""

    target: str
    kind: str
    times: int | None = None
    language: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view for the HTTP fault API."""
        params = {
            k: v.decode("utf-8", "replace") if isinstance(v, bytes) else v
            for k, v in self.params.items()
        }
        return {
            "target": self.target,
            "kind": self.kind,
            "times": self.times,
            "language": self.language,
            **params,
        }


def target_of(path: str) -> str | None:
    """The most specific target whose prefix covers a request path."""
    if path.startswith("/v2/recruiting/"):
        path = "/v1/recruiting/" + path.removeprefix("/v2/recruiting/")
    matches = [
        name for name, prefix in TARGETS.items() if path == prefix or path.startswith(prefix + "/")
    ]
    return max(matches, key=lambda name: len(TARGETS[name]), default=None)


def names_for(target: str) -> frozenset[str]:
    """A target plus every group that contains it: the names a fault may be filed under."""
    return frozenset({target, *(group for group, members in GROUPS.items() if target in members)})


def make_fault(
    target: str = "feed",
    kind: str = "status",
    *,
    times: int | None = None,
    language: str | None = None,
    **params: Any,
) -> Fault:
    """Check a fault description up front so a typo fails the test that made it."""
    known = sorted({*TARGETS, *GROUPS})
    if target not in known:
        raise ValueError(f"unknown fault target {target!r}; known: {known}")
    if kind not in FAULT_PARAMS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_PARAMS)}")
    recruiting = target in RECRUITING_TARGETS
    if (kind in FEED_ONLY_KINDS and recruiting) or (
        kind in RECRUITING_ONLY_KINDS and not recruiting
    ):
        raise ValueError(f"fault {kind!r} does not apply to target {target!r}")
    unknown = set(params) - FAULT_PARAMS[kind]
    if unknown:
        raise ValueError(f"fault {kind!r} takes no {sorted(unknown)}")
    if times is not None and (type(times) is not int or times < 1):
        raise ValueError("times must be a positive integer or None")
    if "status" in params and (
        type(params["status"]) is not int or not 100 <= params["status"] <= 599
    ):
        raise ValueError("status must be an HTTP status code")
    if "delay" in params and (not isinstance(params["delay"], int | float) or params["delay"] < 0):
        raise ValueError("delay must be a non-negative number of seconds")
    retry_after = params.get("retry_after")
    if "retry_after" in params and not (
        isinstance(retry_after, str)
        or (isinstance(retry_after, int | float) and not isinstance(retry_after, bool))
    ):
        raise ValueError("retry_after must be seconds (a number) or an HTTP date (a string)")
    if kind == "body" and not isinstance(params.get("body"), str | bytes):
        raise ValueError("fault 'body' needs a body (str or bytes)")
    return Fault(target, kind, times, language, params)


class FaultTable:
    """Thread-safe list of faults; the oldest matching fault answers first, so tests can script."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault behind those already injected."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Back to a well-behaved Personio."""
        with self._lock:
            self._faults.clear()

    def snapshot(self) -> list[Fault]:
        """Copies of the active faults, for listing."""
        with self._lock:
            return [
                Fault(f.target, f.kind, f.times, f.language, dict(f.params)) for f in self._faults
            ]

    def take(self, target: str | Iterable[str], language: str | None) -> Fault | None:
        """Claim the fault for one request, counting down its remaining `times`."""
        names = {target} if isinstance(target, str) else set(target)
        with self._lock:
            for fault in self._faults:
                if fault.target in names and fault.language in (None, language):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


def apply_fault(
    fault: Fault, request: Request, wake: threading.Event, feed_of: Callable[[Request], bytes]
) -> Response | None:
    """Answer as the fault says; None means "carry on normally" (slow, drop_after).

    `wake` cuts sleeps short when the server stops; `feed_of` gives the feed a request
    would have got, for the malformed fault to break.
    """
    params = fault.params
    match fault.kind:
        case "status":
            code = params.get("status", 503)
            if fault.target in RECRUITING_TARGETS and "body" not in params:
                # The OAS gives 5xx an error_response body (§2.3); the feed gets a page.
                body, kind = json.dumps(problem_body(code)), "application/json"
            else:
                body, kind = params.get("body", _status_page(code)), "text/html; charset=utf-8"
            response = Response(body, status=code, content_type=params.get("content_type", kind))
            if "retry_after" in params:
                response.headers["Retry-After"] = str(params["retry_after"])
            return response
        case "slow":
            wake.wait(params.get("delay", 1.0))
            return None
        case "drop_after":
            return None  # the caller drops the connection once the request is processed
        case "hang":
            # Holds the connection, then closes it unanswered: the client's timeout fires.
            wake.wait(min(params.get("delay", HANG_SECONDS), MAX_HANG_SECONDS))
            drop_connection(request)
        case "html":
            return Response(_HOMEPAGE, content_type="text/html; charset=utf-8")
        case "malformed":
            feed = feed_of(request)
            broken = feed[: len(feed) // 2] if b"<position>" in feed else b""
            return Response(
                broken or XML_DECLARATION + b"<workzag-jobs>\n\t<position>\n\t\t<id>",
                content_type=XML_TYPE,
            )
        case "empty":
            return Response(render_feed([]), content_type=XML_TYPE)
        case "redirect":
            return redirect(params.get("location", "/"), code=params.get("status", 302))
        case "body":
            return Response(
                params["body"],
                status=params.get("status", 200),
                content_type=params.get("content_type", XML_TYPE),
            )
        case "drop":
            drop_connection(request)
        case "unknown_account":
            return Response(_NOT_FOUND, status=404, content_type="text/html; charset=utf-8")
        case "feed_off":
            return Response(_CAREER_PAGE, content_type="text/html; charset=utf-8")
        case "moved":
            query = request.query_string.decode("ascii", "replace")
            target = (
                params.get("to", MOVED_TO).rstrip("/") + "/xml" + (f"?{query}" if query else "")
            )
            return redirect(target, code=params.get("status", 301))
        case "maintenance":
            response = Response(_MAINTENANCE, status=503, content_type="text/html; charset=utf-8")
            response.headers["Retry-After"] = str(params.get("retry_after", 3600))
            return response
    raise AssertionError(f"unhandled fault kind {fault.kind}")  # make_fault() prevents this


def drop_connection(request: Request) -> NoReturn:
    """Close the TCP connection without a byte of answer (werkzeug's server only)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        raise RuntimeError("the 'drop' fault needs werkzeug's development server")
    # Read the request body first: closing with unread input makes the kernel send RST,
    # and the client would see a reset instead of the clean close this fault promises.
    while request.stream.read(65536):
        pass
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the client is already gone
    # A ConnectionError is werkzeug's "client went away": it writes nothing and logs nothing.
    raise ConnectionAbortedError("sandbox fault: connection dropped")


def _status_page(code: int) -> str:
    """A small HTML error page like a proxy or Personio's edge would send."""
    title = f"{code} {HTTP_STATUS_CODES.get(code, 'Unknown')}"
    head = f"<!DOCTYPE html><html><head><title>{title}</title></head>"
    return f"{head}<body><h1>{title}</h1></body></html>\n"
