"""The built-in Personio: serves the XML feed on loopback, with faults tests and demos can inject.

Plain werkzeug WSGI (no Flask), so `careers/personio/` stays free of the web layer. Later
Personio endpoints (the Recruiting API) are added as `Rule`s in `_url_map`, an `_on_<endpoint>`
method, and a `TARGETS` entry so faults can address them by path prefix.
"""

from __future__ import annotations

import hashlib
import html
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from werkzeug.exceptions import BadRequest, HTTPException, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from careers.personio import sample_data
from careers.personio.feedxml import XML_DECLARATION, render_feed
from careers.personio.model import Position

# Without ?language= Personio answers in German (personio-api.md §1.1, "Default language").
DEFAULT_LANGUAGE = "de"
XML_TYPE = "text/xml; charset=utf-8"  # what the live feed sends (§1.1, "Content type")
# Fault targets by path prefix; a request under a prefix can be faulted even if it would 404.
TARGETS = {"feed": "/xml"}
# Each fault kind and the parameters it accepts (anything else is a typo and is refused).
FAULT_PARAMS: dict[str, frozenset[str]] = {
    "status": frozenset({"status", "body", "content_type"}),
    "slow": frozenset({"delay"}),
    "hang": frozenset({"delay"}),
    "html": frozenset(),
    "malformed": frozenset(),
    "empty": frozenset(),
    "redirect": frozenset({"location", "status"}),
    "body": frozenset({"body", "content_type", "status"}),
    "drop": frozenset(),
}
HANG_SECONDS = 30.0
MAX_HANG_SECONDS = 300.0
LOGGED_HEADERS = ("If-None-Match", "If-Modified-Since", "User-Agent", "Accept", "Accept-Language")

_HOMEPAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Personio | HR software for growing teams</title>
</head><body><header><nav><a href="/">Personio</a> <a href="/pricing">Pricing</a></nav></header>
<main><h1>One HR platform for hiring, onboarding and payroll</h1>
<p>Bring every people process into one place.</p><a href="/demo">Book a demo</a></main>
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


def make_fault(
    target: str = "feed",
    kind: str = "status",
    *,
    times: int | None = None,
    language: str | None = None,
    **params: Any,
) -> Fault:
    """Check a fault description up front so a typo fails the test that made it."""
    if target not in TARGETS:
        raise ValueError(f"unknown fault target {target!r}; known: {sorted(TARGETS)}")
    if kind not in FAULT_PARAMS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_PARAMS)}")
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

    def take(self, target: str, language: str | None) -> Fault | None:
        """Claim the fault for one request, counting down its remaining `times`."""
        with self._lock:
            for fault in self._faults:
                if fault.target == target and fault.language in (None, language):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


@dataclass(frozen=True)
class _Rendered:
    """A language's feed bytes with the validators clients cache them by."""

    body: bytes
    etag: str
    last_modified: datetime


class Sandbox:
    """A fake Personio as a WSGI app: per-language boards, fault table and request log."""

    def __init__(self, feeds: dict[str, list[Position]] | None = None) -> None:
        self._lock = threading.RLock()
        self._feeds = {lang: list(ps) for lang, ps in (feeds or sample_data.sample_feeds()).items()}
        self._started = _whole_seconds(datetime.now(UTC))
        self._changed = dict.fromkeys(self._feeds, self._started)
        self._cache: dict[str, _Rendered] = {}
        self._requests: list[dict[str, Any]] = []
        self.faults = FaultTable()
        self._wake = threading.Event()  # set on server stop: slow/hang faults stop sleeping
        self._url_map = Map(
            [
                Rule("/", endpoint="index", methods=["GET"]),
                Rule("/xml", endpoint="feed", methods=["GET"]),
                Rule("/job/<int:job_id>", endpoint="job", methods=["GET"]),
                Rule("/_sandbox/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
                Rule("/_sandbox/requests", endpoint="requests", methods=["GET", "DELETE"]),
            ]
        )

    # -- the board ---------------------------------------------------------------------------

    def positions(self, language: str) -> list[Position]:
        """A copy of one language's board."""
        with self._lock:
            return list(self._feeds.get(language, ()))

    def set_positions(self, language: str, positions: list[Position]) -> None:
        """Replace a board; the next feed has a new ETag and a later Last-Modified."""
        with self._lock:
            self._feeds[language] = list(positions)
            self._cache.pop(language, None)
            # HTTP dates have one-second resolution: always move forward at least a second so
            # an If-Modified-Since from the previous version can never match the new one.
            previous = self._changed.get(language, self._started)
            now = _whole_seconds(datetime.now(UTC))
            self._changed[language] = max(now, previous + timedelta(seconds=1))

    def rendered(self, language: str) -> _Rendered:
        """The feed for a language, rendered once per change; unknown languages are empty."""
        with self._lock:
            if language not in self._feeds:
                language = ""  # one shared empty board, so odd ?language= values cost nothing
            cached = self._cache.get(language)
            if cached is None:
                body = render_feed(self._feeds.get(language, ()))
                etag = hashlib.sha256(body).hexdigest()[:32]
                cached = _Rendered(body, etag, self._changed.get(language, self._started))
                self._cache[language] = cached
            return cached

    # -- faults and the request log ----------------------------------------------------------

    def inject(
        self,
        target: str = "feed",
        kind: str = "status",
        *,
        times: int | None = None,
        language: str | None = None,
        **params: Any,
    ) -> Fault:
        """Make matching requests misbehave; see FAULT_PARAMS for kinds and their options."""
        fault = make_fault(target, kind, times=times, language=language, **params)
        self.faults.add(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.faults.clear()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Copies of logged requests (control paths under /_sandbox/ are not logged)."""
        with self._lock:
            return [dict(entry) for entry in self._requests]

    def clear_requests(self) -> None:
        """Forget logged requests, e.g. between test phases."""
        with self._lock:
            self._requests.clear()

    def release(self) -> None:
        """Wake sleeping slow/hang faults so a stopping server is not held up."""
        self._wake.set()

    def rearm(self) -> None:
        """Let slow/hang faults sleep again (a server starting)."""
        self._wake.clear()

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """WSGI entry point: log, apply a fault if one matches, else route normally."""
        request = Request(environ)
        target = next(
            (
                name
                for name, prefix in TARGETS.items()
                if request.path == prefix or request.path.startswith(prefix + "/")
            ),
            None,
        )
        language = (request.args.get("language") or DEFAULT_LANGUAGE) if target == "feed" else None
        fault = self.faults.take(target, language) if target else None
        if not request.path.startswith("/_sandbox/"):
            self._log(request, fault)
        try:
            response = self._apply(fault, request) if fault else None
            if response is None:
                endpoint, values = self._url_map.bind_to_environ(environ).match()
                response = getattr(self, f"_on_{endpoint}")(request, **values)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    def _log(self, request: Request, fault: Fault | None) -> None:
        """Record what a client sent, so tests can assert on conditional requests and retries."""
        entry = {
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(),
            "headers": {
                name: request.headers[name] for name in LOGGED_HEADERS if name in request.headers
            },
            "time": time.time(),
            "fault": fault.kind if fault else None,
        }
        with self._lock:
            self._requests.append(entry)

    def _apply(self, fault: Fault, request: Request) -> Response | None:
        """Answer as the fault says; None means "carry on normally" (after a slow fault)."""
        params = fault.params
        match fault.kind:
            case "status":
                code = params.get("status", 503)
                body = params.get("body", _status_page(code))
                return Response(
                    body,
                    status=code,
                    content_type=params.get("content_type", "text/html; charset=utf-8"),
                )
            case "slow":
                self._wake.wait(params.get("delay", 1.0))
                return None
            case "hang":
                # Holds the connection, then closes it unanswered: the client's timeout fires.
                self._wake.wait(min(params.get("delay", HANG_SECONDS), MAX_HANG_SECONDS))
                self._drop(request)
            case "html":
                return Response(_HOMEPAGE, content_type="text/html; charset=utf-8")
            case "malformed":
                body = self.rendered(request.args.get("language") or DEFAULT_LANGUAGE).body
                broken = body[: len(body) // 2] if b"<position>" in body else b""
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
                self._drop(request)
        raise AssertionError(f"unhandled fault kind {fault.kind}")  # make_fault() prevents this

    @staticmethod
    def _drop(request: Request) -> NoReturn:
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

    # -- endpoints ---------------------------------------------------------------------------

    def _on_feed(self, request: Request) -> Response:
        """GET /xml?language=xx; unknown languages get an empty board, no language gets German."""
        feed = self.rendered(request.args.get("language") or DEFAULT_LANGUAGE)
        response = Response(feed.body, content_type=XML_TYPE)
        if request.if_none_match:
            fresh = request.if_none_match.contains_weak(feed.etag)
        else:
            since = request.if_modified_since
            fresh = since is not None and feed.last_modified <= since
        if fresh:
            response = Response(status=304)
        response.set_etag(feed.etag)
        response.last_modified = feed.last_modified
        return response

    def _on_job(self, request: Request, job_id: int) -> Response:
        """A stand-in for Personio's hosted job page, so read-only apply links lead somewhere."""
        wanted = request.args.get("language") or request.args.get("display")
        with self._lock:
            languages = [wanted] if wanted in self._feeds else list(self._feeds)
            found = [p for lang in languages for p in self._feeds[lang] if p.id == job_id]
        if not found:
            raise NotFound()
        job = found[0]
        body = (
            f"<h1>{html.escape(job.name)}</h1><p>{html.escape(', '.join(job.offices))}</p>"
            "<p>This is the Personio sandbox's stand-in for the hosted job page.</p>"
            '<p id="apply">On Personio, the application form would be here.</p>'
        )
        return _page(job.name, body)

    def _on_index(self, request: Request) -> Response:
        """A tiny start page linking every feed."""
        with self._lock:
            counts = {lang: len(ps) for lang, ps in self._feeds.items()}
        items = "".join(
            f'<li><a href="/xml?language={html.escape(lang)}">/xml?language='
            f"{html.escape(lang)}</a> ({count} positions)</li>"
            for lang, count in counts.items()
        )
        body = f"<h1>Personio sandbox</h1><p>XML job feeds:</p><ul>{items}</ul>"
        return _page("Personio sandbox", body)

    def _on_faults(self, request: Request) -> Response:
        """HTTP fault API, so a test can drive a sandbox running in another process."""
        if request.method == "DELETE":
            self.clear_faults()
            return Response(status=204)
        if request.method == "GET":
            return _json({"faults": [f.as_dict() for f in self.faults.snapshot()]})
        spec = request.get_json(silent=True)
        if not isinstance(spec, dict):
            raise BadRequest("expected a JSON object")
        try:
            fault = self.inject(**spec)
        except (TypeError, ValueError) as exc:
            return _json({"error": str(exc)}, status=400)
        return _json({"fault": fault.as_dict()}, status=201)

    def _on_requests(self, request: Request) -> Response:
        """HTTP view of the request log, the out-of-process twin of `requests`."""
        if request.method == "DELETE":
            self.clear_requests()
            return Response(status=204)
        return _json({"requests": self.requests})


class _QuietHandler(WSGIRequestHandler):
    """Request handler without werkzeug's per-request access log line."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Tests make hundreds of requests; an access log would only bury failures."""


class SandboxServer:
    """Runs a Sandbox on loopback in a background thread; use as a context manager."""

    def __init__(
        self, sandbox: Sandbox | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.sandbox = sandbox if sandbox is not None else Sandbox()
        self.host, self.port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. http://127.0.0.1:54321."""
        if self._server is None:
            raise RuntimeError("SandboxServer is not running")
        return f"http://{self.host}:{self._server.port}"

    def start(self) -> SandboxServer:
        """Bind (port 0 = any free port) and serve in a daemon thread."""
        self.sandbox.rearm()
        self._server = make_server(
            self.host, self.port, self.sandbox, threaded=True, request_handler=_QuietHandler
        )
        # A short poll interval keeps stop() prompt (the default waits up to half a second).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="personio-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop promptly, even with a hang fault asleep: it is woken and drops its connection."""
        if self._server is None:
            return
        self.sandbox.release()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(host: str, port: int) -> None:
    """Run the sandbox in the foreground until Ctrl+C (the `careers sandbox` command)."""
    sandbox = Sandbox()
    server = make_server(host, port, sandbox, threaded=True)
    base = f"http://{host}:{server.port}"
    print(f"Personio sandbox on {base}/ - feeds at {base}/xml?language=de and ?language=en")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.release()
        server.server_close()


def _whole_seconds(moment: datetime) -> datetime:
    """HTTP dates carry whole seconds; compare like with like."""
    return moment.replace(microsecond=0)


def _status_page(code: int) -> str:
    """A small HTML error page like a proxy or Personio's edge would send."""
    title = f"{code} {HTTP_STATUS_CODES.get(code, 'Unknown')}"
    head = f"<!DOCTYPE html><html><head><title>{title}</title></head>"
    return f"{head}<body><h1>{title}</h1></body></html>\n"


def _page(title: str, body: str) -> Response:
    """Wrap a fragment in a minimal HTML document."""
    document = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
        f"{html.escape(title)}</title></head><body>{body}</body></html>\n"
    )
    return Response(document, content_type="text/html; charset=utf-8")


def _json(data: Any, status: int = 200) -> Response:
    """A JSON response for the control API."""
    return Response(json.dumps(data), status=status, content_type="application/json")
