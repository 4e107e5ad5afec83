"""The built-in Personio: XML feed and Recruiting API on loopback, with injectable faults.

Plain werkzeug WSGI (no Flask), like the rest of the package that imitates Personio. The feed
lives here; the Recruiting API v1 is `recruiting.RecruitingApi`, whose rules carry their
handlers as endpoints; faults (`faults.py`) address endpoints by path prefix. With a mail
catcher (`mailcatcher.py`) the sandbox is also the demo's inbox: `/_sandbox/mail`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from werkzeug.exceptions import BadRequest, HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from careers.personio.model import Position
from careers.sandbox import sample_data
from careers.sandbox.faults import (
    FAULT_PARAMS,
    TARGETS,
    XML_TYPE,
    Fault,
    FaultTable,
    apply_fault,
    drop_connection,
    make_fault,
    names_for,
    target_of,
)
from careers.sandbox.feedxml import render_feed
from careers.sandbox.oauth import (
    DEFAULT_LIFETIME,
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    TokenIssuer,
    as_problem_json,
)
from careers.sandbox.pages import mail_html_response, mail_response
from careers.sandbox.recruiting import (
    DEFAULT_RATE_LIMIT,
    SANDBOX_COMPANY_ID,
    SANDBOX_TOKEN,
    ReceivedDocument,
    RecruitingApi,
    UploadRequest,
)

if TYPE_CHECKING:
    from careers.sandbox.mailcatcher import MailCatcher

__all__ = [
    "FAULT_PARAMS",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_COMPANY_ID",
    "SANDBOX_TOKEN",
    "TARGETS",
    "Fault",
    "FaultTable",
    "Sandbox",
    "SandboxServer",
    "make_fault",
    "serve",
]

# Without ?language= Personio answers in German (docs/personio.md §1.1, "Default language").
DEFAULT_LANGUAGE = "de"
LOGGED_HEADERS = (
    "If-None-Match",
    "If-Modified-Since",
    "User-Agent",
    "Accept",
    "Accept-Language",
    "Content-Type",
    "X-Company-ID",
    "X-Personio-App-ID",
)  # never Authorization: the log is served over HTTP
ONE_CLICK_TIMEOUT = 10.0


@dataclass(frozen=True)
class _Rendered:
    """A language's feed bytes with the validators clients cache them by."""

    body: bytes
    etag: str
    last_modified: datetime


# Titles of jobs published from the start page, by department (anything else: "… Specialist").
PUBLISHED_TITLES = {
    "Engineering": "Perception Engineer (m/f/d)",
    "Sales": "Sales Development Representative (m/f/d)",
    "Product": "Product Designer (m/f/d)",
    "Marketing": "Performance Marketing Manager (m/f/d)",
    "Customer Success": "Customer Success Engineer (m/f/d)",
    "Operations": "Field Service Technician (m/f/d)",
    "People": "Talent Acquisition Partner (m/f/d)",
}


class Sandbox:
    """A fake Personio as a WSGI app: boards, Recruiting API, fault table and request log."""

    def __init__(
        self,
        feeds: dict[str, list[Position]] | None = None,
        *,
        company_id: str = SANDBOX_COMPANY_ID,
        token: str = SANDBOX_TOKEN,
        attributes: dict[str, dict[str, Any]] | None = None,
        rate_limit: tuple[int, float] | None = DEFAULT_RATE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        mail: MailCatcher | None = None,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        token_lifetime: float = DEFAULT_LIFETIME,
    ) -> None:
        self._lock = threading.RLock()
        self.mail = mail  # the inbox shown on /_sandbox/mail, if any
        self._unsubscribed: dict[int, str] = {}  # mail id -> what the one-click POST got
        self._feeds = {lang: list(ps) for lang, ps in (feeds or sample_data.sample_feeds()).items()}
        self._started = _whole_seconds(datetime.now(UTC))
        self._changed = dict.fromkeys(self._feeds, self._started)
        self._cache: dict[str, _Rendered] = {}
        self._requests: list[dict[str, Any]] = []
        self.faults = FaultTable()
        self._wake = threading.Event()  # set on server stop: slow/hang faults stop sleeping
        self.recruiting = RecruitingApi(
            self.find_position,
            company_id=company_id,
            token=token,
            attributes=attributes,
            rate_limit=rate_limit,
            clock=clock,
            # v2's OAuth client; tests shorten the tokens' life or move `clock` on.
            issuer=TokenIssuer(
                client_id=client_id,
                client_secret=client_secret,
                lifetime=token_lifetime,
                clock=clock,
            ),
        )
        self._url_map = Map(
            [
                Rule("/", endpoint="index", methods=["GET"]),
                Rule("/xml", endpoint="feed", methods=["GET"]),
                Rule("/job/<int:job_id>", endpoint="job", methods=["GET"]),
                Rule("/privacy-policy", endpoint="privacy", methods=["GET"]),
                Rule("/_sandbox/publish", endpoint="publish", methods=["POST"]),
                Rule("/_sandbox/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
                Rule("/_sandbox/requests", endpoint="requests", methods=["GET", "DELETE"]),
                Rule("/_sandbox/mail", endpoint="mail", methods=["GET", "DELETE"]),
                Rule("/_sandbox/mail.json", endpoint="mail_json", methods=["GET"]),
                Rule("/_sandbox/mail/<int:mail_id>/html", endpoint="mail_html", methods=["GET"]),
                Rule(
                    "/_sandbox/mail/<int:mail_id>/unsubscribe",
                    endpoint="one_click",
                    methods=["POST"],
                ),
                *self.recruiting.rules(),
            ]
        )

    # -- the board ---------------------------------------------------------------------------

    def languages(self) -> list[str]:
        """The languages that have a board."""
        with self._lock:
            return list(self._feeds)

    def drop_language(self, language: str) -> None:
        """Forget a language's board: its feed is empty again, its jobs unpublished."""
        with self._lock:
            self._feeds.pop(language, None)
            self._cache.pop(language, None)
            self._changed.pop(language, None)

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

    def publish(self, department: str) -> Position:
        """Personio publishes a new job in `department`, in every language of the board
        (what a job alert is for; `careers demo` has a button for it)."""
        with self._lock:
            boards = {lang: list(ps) for lang, ps in self._feeds.items()}
        every = [p for ps in boards.values() for p in ps]
        if not every:
            raise ValueError("the sandbox has no board to publish to")
        template = next((p for p in every if p.department == department), every[0])
        job_id = max(p.id for p in every) + 1
        name = PUBLISHED_TITLES.get(department, f"{department or 'Team'} Specialist (m/f/d)")
        published = datetime.now(UTC)
        for language, positions in boards.items():
            base = next((p for p in positions if p.department == department), template)
            new = dataclasses.replace(
                base, id=job_id, name=f"{name} #{job_id % 1000}", created_at=published
            )
            self.set_positions(language, [*positions, new])
        return self.find_position(job_id) or template

    def find_position(self, job_id: int) -> Position | None:
        """The job in any language's board (English first), i.e. published, else None."""
        with self._lock:
            boards = sorted(self._feeds.items(), key=lambda item: item[0] != "en")
            return next((p for _, ps in boards for p in ps if p.id == job_id), None)

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

    # -- the Recruiting API's records (recruiting.py) -----------------------------------

    @property
    def received_documents(self) -> dict[str, ReceivedDocument]:
        """Uploads by uuid: name, size, sha256, stored path, content type, time."""
        return self.recruiting.received_documents

    @property
    def received_applications(self) -> list[dict[str, Any]]:
        """Accepted application bodies with their time and request id, oldest first."""
        return self.recruiting.received_applications

    def clear_recruiting(self) -> None:
        """Forget applications and uploads and start a fresh rate-limit window."""
        self.recruiting.clear()

    def set_attributes(self, attributes: dict[str, dict[str, Any]]) -> None:
        """Configure the custom applicant attributes the API accepts."""
        self.recruiting.set_attributes(attributes)

    def set_rate_limit(self, rate_limit: tuple[int, float] | None) -> None:
        """(requests, seconds) per company over both recruiting endpoints; None = unlimited."""
        self.recruiting.set_rate_limit(rate_limit)

    def discard_documents(self) -> None:
        """Delete what the Recruiting API received (a stopping server's temp dir)."""
        self.recruiting.discard_documents()

    def release(self) -> None:
        """Wake sleeping slow/hang faults so a stopping server is not held up."""
        self._wake.set()

    def rearm(self) -> None:
        """Let slow/hang faults sleep again (a server starting)."""
        self._wake.clear()

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """WSGI entry point: log, apply a fault if one matches, else route normally."""
        with UploadRequest(environ) as request:  # its close() ends every spooled upload part
            return self._answer(request, environ, start_response)

    def _answer(self, request: Request, environ: dict[str, Any], start_response: Any) -> Any:
        """Route one request, faults first; the response is whole before the request closes."""
        target = target_of(request.path)
        language = (request.args.get("language") or DEFAULT_LANGUAGE) if target == "feed" else None
        fault = self.faults.take(names_for(target), language) if target else None
        if not request.path.startswith("/_sandbox/"):
            self._log(request, fault)
        try:
            response = apply_fault(fault, request, self._wake, self._feed_of) if fault else None
            if response is None:
                endpoint, values = self._url_map.bind_to_environ(environ).match()
                handler = endpoint if callable(endpoint) else getattr(self, f"_on_{endpoint}")
                response = handler(request, **values)
        except HTTPException as exc:
            response = exc.get_response(environ)
        if request.path.startswith("/v2/"):
            response = as_problem_json(response)  # v2 answers errors as problem+json (§2.4)
        if fault is not None and fault.kind == "drop_after":
            drop_connection(request)  # processed (and maybe stored), but the answer is lost
        return response(environ, start_response)

    def _feed_of(self, request: Request) -> bytes:
        """The feed bytes a request would get (for the malformed fault)."""
        return self.rendered(request.args.get("language") or DEFAULT_LANGUAGE).body

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

    def _on_privacy(self, request: Request) -> Response:
        """A stand-in for the account's privacy policy, which the consent checkbox links."""
        return _page(
            "Privacy policy (sandbox)",
            "<h1>Privacy policy</h1><p>This is the Personio sandbox's stand-in for the company's"
            " privacy policy for applicants. A real account publishes its own text here.</p>",
        )

    def _on_publish(self, request: Request) -> Response:
        """The start page's button: publish a job, then show the start page again."""
        department = request.form.get("department", "Engineering").strip()[:80]
        try:
            self.publish(department)
        except ValueError as exc:
            return _json({"error": str(exc)}, status=409)
        return redirect("/", code=303)

    def _on_index(self, request: Request) -> Response:
        """A tiny start page linking every feed."""
        with self._lock:
            counts = {lang: len(ps) for lang, ps in self._feeds.items()}
        items = "".join(
            f'<li><a href="/xml?language={html.escape(lang)}">/xml?language='
            f"{html.escape(lang)}</a> ({count} positions)</li>"
            for lang, count in counts.items()
        )
        body = (
            f"<h1>Personio sandbox</h1><p>XML job feeds:</p><ul>{items}</ul>"
            "<p>Recruiting API v1 under /v1/recruiting/ (company id "
            f"{html.escape(self.recruiting.company_id)}) and v2 under /v2/recruiting/ (token"
            f" from /v2/auth/token for client {html.escape(self.recruiting.issuer.client_id)}): "
            '<a href="/_sandbox/applications">received applications</a></p>'
        )
        with self._lock:
            departments = sorted({p.department for ps in self._feeds.values() for p in ps} - {""})
        options = "".join(
            f"<option{' selected' if d == 'Engineering' else ''}>{html.escape(d)}</option>"
            for d in departments
        )
        body += (
            '<form method="post" action="/_sandbox/publish"><p>Publish a new job in '
            f'<select name="department" aria-label="Department">{options}</select> '
            "<button>Publish</button> (the site sees it at its next feed refresh; job "
            "alerts for it go out with the next digest)</p></form>"
        )
        if self.mail is not None:
            body += (
                f"<p>Mail server at <code>{html.escape(self.mail.smtp_url)}</code>: "
                '<a href="/_sandbox/mail">caught mail</a></p>'
            )
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

    # -- the inbox (mailcatcher.py) ----------------------------------------------------

    def _catcher(self) -> MailCatcher:
        if self.mail is None:
            raise NotFound("this sandbox catches no mail")
        return self.mail

    def _on_mail(self, request: Request) -> Response:
        """Caught mails, newest first, for people (DELETE forgets them all)."""
        catcher = self._catcher()
        if request.method == "DELETE":
            catcher.clear()
            with self._lock:
                self._unsubscribed.clear()
            return Response(status=204)
        with self._lock:
            notes = dict(self._unsubscribed)
        return mail_response(catcher.messages(), catcher.smtp_url, notes)

    def _on_mail_json(self, request: Request) -> Response:
        """Caught mails, newest first, for tests in another process."""
        catcher = self._catcher()
        mails = [m.as_dict() for m in reversed(catcher.messages())]
        return _json({"smtp_url": catcher.smtp_url, "mails": mails})

    def _on_mail_html(self, request: Request, mail_id: int) -> Response:
        """One mail's HTML part, shown as a mail client would: no script, nothing loaded."""
        mail = self._catcher().get(mail_id)
        if mail is None or not mail.html:
            raise NotFound()
        return mail_html_response(mail)

    def _on_one_click(self, request: Request, mail_id: int) -> Response:
        """Do what a mail provider does for RFC 8058 one-click unsubscribe: POST
        `List-Unsubscribe=One-Click` to the List-Unsubscribe URL from its own server, without
        cookies or a browser, and never follow a redirect; then show the answer."""
        mail = self._catcher().get(mail_id)
        if mail is None or not mail.one_click:
            raise NotFound()
        try:
            answer = httpx.post(
                mail.unsubscribe_url,
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=ONE_CLICK_TIMEOUT,
                follow_redirects=False,
            )
            note = f"one-click POST answered {answer.status_code} {answer.reason_phrase}"
        except httpx.HTTPError as exc:
            note = f"one-click POST failed: {type(exc).__name__}"
        with self._lock:
            self._unsubscribed[mail_id] = f"{note} ({datetime.now():%H:%M:%S})"
        return Response(status=303, headers={"Location": f"/_sandbox/mail#mail-{mail_id}"})


class _QuietHandler(WSGIRequestHandler):
    """Request handler without werkzeug's per-request access log line."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Tests make hundreds of requests; an access log would only bury failures."""


def _local(host: str) -> str:
    """The address a client on this machine dials for a server bound to `host`: a wildcard
    bind (`careers demo` in a container) is reached on loopback."""
    return "127.0.0.1" if host == "0.0.0.0" else host


class Served(Protocol):
    """What SandboxServer runs: a Sandbox, or several (sandbox/accounts.py's SandboxAccounts)."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]: ...

    def rearm(self) -> None: ...

    def release(self) -> None: ...

    def discard_documents(self) -> None: ...


class SandboxServer:
    """Runs a Sandbox on loopback in a background thread; use as a context manager.

    With `catch_mail` it also runs a mail catcher (on `smtp_port`, 0 = any free port) that
    starts and stops with it: send to `server.mail.smtp_url`, read on `/_sandbox/mail`. The
    catcher stays on loopback when the sandbox listens on every interface (`0.0.0.0`)."""

    def __init__(
        self,
        sandbox: Sandbox | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        catch_mail: bool = False,
        smtp_port: int = 0,
        accounts: Served | None = None,
    ) -> None:
        """`accounts`: serve several accounts (sandbox/accounts.py) instead of one sandbox."""
        self.sandbox = sandbox if sandbox is not None else Sandbox()
        self.app: Served = accounts if accounts is not None else self.sandbox
        self.host, self.port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._own_catcher: MailCatcher | None = None
        if catch_mail:
            from careers.sandbox.mailcatcher import MailCatcher

            self._own_catcher = MailCatcher(_local(host), smtp_port)
            self.sandbox.mail = self._own_catcher

    @property
    def mail(self) -> MailCatcher:
        """The sandbox's mail catcher (SandboxServer(catch_mail=True) or Sandbox(mail=…))."""
        if self.sandbox.mail is None:
            raise RuntimeError("this sandbox catches no mail: SandboxServer(catch_mail=True)")
        return self.sandbox.mail

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. http://127.0.0.1:54321."""
        if self._server is None:
            raise RuntimeError("SandboxServer is not running")
        return f"http://{_local(self.host)}:{self._server.port}"

    def start(self) -> SandboxServer:
        """Bind (port 0 = any free port) and serve in a daemon thread."""
        self.app.rearm()
        if self._own_catcher is not None:
            self._own_catcher.start()
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler
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
        self.app.release()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
        self.app.discard_documents()  # uploads live in a temp dir
        if self._own_catcher is not None:
            self._own_catcher.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(
    host: str, port: int, smtp_port: int | None = None, *, token_lifetime: float = DEFAULT_LIFETIME
) -> None:
    """Run the sandbox in the foreground until Ctrl+C (the `careers sandbox` command), with
    a mail catcher on `smtp_port` unless it is None; v2 tokens live `token_lifetime` s."""
    from careers.sandbox.mailcatcher import MailCatcher

    catcher = MailCatcher(host, smtp_port).start() if smtp_port is not None else None
    sandbox = Sandbox(mail=catcher, token_lifetime=token_lifetime)
    server = make_server(host, port, sandbox, threaded=True)
    base = f"http://{host}:{server.port}"
    print(f"Personio sandbox on {base}/ - feeds at {base}/xml?language=de and ?language=en")
    print(
        f"Recruiting API v1 at {base}/v1/recruiting/ (sandbox credentials: company id "
        f"{SANDBOX_COMPANY_ID}, token {SANDBOX_TOKEN}); received: {base}/_sandbox/applications"
    )
    print(
        f"Recruiting API v2 at {base}/v2/recruiting/ (OAuth client {SANDBOX_CLIENT_ID},"
        f" secret {SANDBOX_CLIENT_SECRET}, tokens from {base}/v2/auth/token)"
    )
    if catcher is not None:
        print(f"Mail server: CAREERS_SMTP_URL={catcher.smtp_url} - caught: {base}/_sandbox/mail")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.release()
        server.server_close()
        sandbox.recruiting.discard_documents()
        if catcher is not None:
            catcher.stop()


def _whole_seconds(moment: datetime) -> datetime:
    """HTTP dates carry whole seconds; compare like with like."""
    return moment.replace(microsecond=0)


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
