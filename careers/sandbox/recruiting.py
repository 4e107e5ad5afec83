"""The sandbox's Recruiting API: documents, applications, Personio's checks and rate limit.

Mounted by `Sandbox` (sandbox.py), which owns routing, faults and the request log; this module
owns what Personio would store and how it answers (docs/personio.md §2.2, §2.3, §3). The v2
endpoints are the same handlers behind an OAuth token (oauth.py), one store and one budget
for both versions, as at Personio (§2.6).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import math
import mimetypes
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from werkzeug.exceptions import NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from careers.personio.model import Position
from careers.sandbox import checks
from careers.sandbox.channels import DEFAULT_CHANNELS
from careers.sandbox.oauth import TokenIssuer
from careers.sandbox.pages import applications_response, download_response

SANDBOX_COMPANY_ID = "100000"
SANDBOX_TOKEN = "sandbox-recruiting-token"
# Custom applicant attributes the sandbox knows, as HR would configure them in Personio
# (§2.3: there is no API to list them). Types: text, option (needs `options`), date, number.
DEFAULT_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "custom_attribute_1001": {"type": "text", "label": "Portfolio or profile URL"},
    "custom_attribute_1002": {
        "type": "option",
        "label": "How did you hear about us?",
        "options": ["linkedin", "friend", "job_board"],
    },
    "custom_attribute_1003": {"type": "date", "label": "Privacy consent given on"},
    "custom_attribute_1004": {"type": "number", "label": "Notice period (weeks)"},
}
# Personio's documented company budget: 20 requests per 60 s over both endpoints (§3).
DEFAULT_RATE_LIMIT = (20, 60.0)
# §2.2 says "20 MB" without saying which; we read it as MiB, the larger of the two.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# The v1 list of §2.2 (OAS HEAD, with videos), enforced as written: `jpeg` and `tiff` are not
# in it. Whether Personio refuses them is uncertain, so the sandbox takes the strict reading and
# careers sends such files as `.jpg` / `.tif` (careers/applications/wire.py).
ALLOWED_EXTENSIONS = frozenset(
    "pdf pptx xlsx docx doc xls ppt ods odt 7z gz rar zip bmp gif jpg png tif csv txt rtf "
    "mp4 3gp mov avi wmv".split()
)
BAD_MULTIPART = "Invalid multipart request body and/or headers supplied."  # §4.4 (a)
BAD_BODY = "Invalid request body supplied"  # §4.6


class UploadRequest(Request):
    """A werkzeug Request whose close() also closes the part a broken-off body was sending.

    werkzeug spools each file part to a temporary file but hands only finished parts to
    `request.files`, which is all Request.close() closes: a client that dies mid-upload (a
    host killed by SIGKILL) left its last part open until the garbage collector found it.
    Every spool made for this request is remembered and closed with it."""

    def __init__(self, environ: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(environ, *args, **kwargs)
        self._spools: list[IO[bytes]] = []

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        spool = super()._get_file_stream(
            total_content_length, content_type, filename, content_length
        )
        self._spools.append(spool)
        return spool

    def close(self) -> None:
        super().close()
        for spool in self._spools:
            spool.close()


@dataclass(frozen=True, slots=True)
class ReceivedDocument:
    """One upload as stored on disk, so tests can compare bytes and humans can download it."""

    uuid: str
    filename: str
    size: int
    sha256: str
    path: Path
    content_type: str  # what the client declared for the part
    mimetype: str  # what we answered ("detected"; the sandbox guesses from the name)
    extension: str
    time: float
    # The names of every form field and file part the request carried ("file" alone, §2.2):
    # tests check them against Personio's published request schema.
    parts: tuple[str, ...] = ()

    def read_bytes(self) -> bytes:
        """The stored file (tests only: uploads can be 20 MB)."""
        return self.path.read_bytes()


class SlidingWindow:
    """Requests per key in the last `seconds`; only admitted requests are counted.

    Personio says "20 per 60 s, then wait 60 s" (§3) without saying whether refused
    requests extend the wait; we do not count them, so a client that honours Retry-After
    gets in as soon as the oldest counted request leaves the window.
    """

    def __init__(
        self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.seconds = limit, seconds
        self.clock = clock  # tests pass a fake one, so the window passes without waiting
        self._hits: dict[str, deque[float]] = {}

    def admit(self, key: str) -> float | None:
        """None if admitted (and counted), else the seconds until a slot frees."""
        now = self.clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.seconds - now
        hits.append(now)
        return None


class RecruitingApi:
    """What the sandbox's Personio stores for recruiting, and the two v1 endpoints."""

    def __init__(
        self,
        find_position: Callable[[int], Position | None],
        *,
        company_id: str = SANDBOX_COMPANY_ID,
        token: str = SANDBOX_TOKEN,
        attributes: dict[str, dict[str, Any]] | None = None,
        rate_limit: tuple[int, float] | None = DEFAULT_RATE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        issuer: TokenIssuer | None = None,
    ) -> None:
        self.issuer = issuer or TokenIssuer(clock=clock)
        # When each admitted recruiting request arrived, and how many were refused with 429:
        # tests judge a deployment's pacing by them.
        self.admitted: list[float] = []
        self.refused_for_rate = 0
        self._find_position = find_position
        self.company_id, self._token = company_id, token
        self._lock = threading.RLock()
        self._attributes = copy.deepcopy(DEFAULT_ATTRIBUTES if attributes is None else attributes)
        self._clock = clock  # what the rate window measures its seconds with
        self._window = SlidingWindow(*rate_limit, clock) if rate_limit else None
        self._documents: dict[str, ReceivedDocument] = {}
        self._applications: list[dict[str, Any]] = []
        self._dir: Path | None = None

    def __repr__(self) -> str:
        return f"RecruitingApi(company_id={self.company_id!r})"

    def rules(self) -> list[Rule]:
        """URL rules whose endpoints are this object's handlers."""
        return [
            Rule(
                "/v1/recruiting/applications/documents",
                endpoint=self.on_documents,
                methods=["POST"],
            ),
            Rule("/v1/recruiting/applications", endpoint=self.on_applications, methods=["POST"]),
            Rule("/v2/auth/token", endpoint=self.issuer.on_token, methods=["POST"]),
            Rule(
                "/v2/recruiting/applications/documents",
                endpoint=self.on_documents,
                methods=["POST"],
            ),
            Rule("/v2/recruiting/applications", endpoint=self.on_applications, methods=["POST"]),
            Rule("/_sandbox/applications", endpoint=self.on_page, methods=["GET", "DELETE"]),
            Rule("/_sandbox/applications.json", endpoint=self.on_json, methods=["GET"]),
            Rule("/_sandbox/documents/<uuid>", endpoint=self.on_download, methods=["GET"]),
        ]

    # -- configuration and records -----------------------------------------------------------

    def set_attributes(self, attributes: dict[str, dict[str, Any]]) -> None:
        """Replace the configured custom attributes (ids → {type, options?, label?})."""
        with self._lock:
            self._attributes = copy.deepcopy(attributes)

    def set_rate_limit(self, rate_limit: tuple[int, float] | None) -> None:
        """(requests, seconds) per company, or None for no limit; starts a fresh window."""
        with self._lock:
            self._window = SlidingWindow(*rate_limit, self._clock) if rate_limit else None

    @property
    def received_documents(self) -> dict[str, ReceivedDocument]:
        """Uploads by uuid, in upload order."""
        with self._lock:
            return dict(self._documents)

    @property
    def received_applications(self) -> list[dict[str, Any]]:
        """Deep copies of accepted applications: {id, time, body}, oldest first."""
        with self._lock:
            return copy.deepcopy(self._applications)

    def clear(self) -> None:
        """Forget applications and uploads (deleting their bytes) and reset the rate window."""
        with self._lock:
            self._applications.clear()
            self.admitted.clear()
            self.refused_for_rate = 0
            for document in self._documents.values():
                document.path.unlink(missing_ok=True)
            self._documents.clear()
            if self._window is not None:
                window = self._window
                self._window = SlidingWindow(window.limit, window.seconds, self._clock)

    def discard_documents(self) -> None:
        """Remove the upload directory and what it held (the server stopping)."""
        with self._lock:
            self._documents.clear()
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    def _storage(self) -> Path:
        """The upload directory, created on first use; removed at exit if nobody stops us."""
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="personio-sandbox-documents-"))
                weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
            return self._dir

    # -- the v1 endpoints --------------------------------------------------------------------

    def _gate(self, request: Request) -> Response | None:
        """Credentials first, then the company's rate budget; a refusal reads the body away."""
        denied = None
        if request.path.startswith("/v2/"):
            # v2: an OAuth token this sandbox issued and that has not expired; the token
            # names the company, X-Company-ID is not needed (§2.6).
            denied = self.issuer.refuse(request)
        else:
            bearer = request.headers.get("Authorization", "").encode()
            known = hmac.compare_digest(bearer, f"Bearer {self._token}".encode())
            if not known or request.headers.get("X-Company-ID") != self.company_id:
                # §2.3: 401 = token and/or company id not recognised; body not documented.
                denied = problem(401, "The access token and/or company id are not recognised.")
        if denied is None:
            with self._lock:
                window = self._window
                wait = window.admit(self.company_id) if window else None
                if wait is None:
                    self.admitted.append(time.time())
                else:
                    self.refused_for_rate += 1
            if window is not None and wait is not None:
                denied = problem(
                    429, f"Too many requests: {window.limit} per {window.seconds:g} s per company."
                )
                # Real Personio documents no Retry-After (§3); the sandbox sends one so the
                # client's handling of it can be tested. Whole seconds, rounded up.
                denied.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        if denied is not None:
            while request.stream.read(65536):  # unread input would make the close a reset
                pass
        return denied

    def on_documents(self, request: Request) -> Response:
        """POST /v1/recruiting/applications/documents: one multipart part `file` (§2.2)."""
        denied = self._gate(request)
        if denied is not None:
            return denied
        upload = request.files.get("file") if request.mimetype == "multipart/form-data" else None
        if upload is None or not upload.filename:
            return problem(400, BAD_MULTIPART)
        stream = upload.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        if size > MAX_DOCUMENT_BYTES:  # §2.2: 413 with error_response JSON
            return field_errors({"file": ["errors.file-too-big"]}, status=413)
        extension = Path(upload.filename).suffix.lower().lstrip(".")
        if extension not in ALLOWED_EXTENSIONS:
            # §2.2 documents 422 "could not be processed" for uploads (it lists no 400).
            return field_errors({"file": ["errors.invalid-file-type"]}, status=422)
        document_id = str(uuid.uuid4())
        path = self._storage() / document_id  # our name on disk: never the client's
        digest = hashlib.sha256()
        with path.open("wb") as out:
            while chunk := stream.read(65536):
                digest.update(chunk)
                out.write(chunk)
        mimetype = mimetypes.guess_type(f"x.{extension}")[0] or "application/octet-stream"
        document = ReceivedDocument(
            document_id,
            upload.filename,
            size,
            digest.hexdigest(),
            path,
            upload.content_type or "",
            mimetype,
            extension,
            time.time(),
            tuple([*request.form, *request.files]),
        )
        with self._lock:
            self._documents[document_id] = document
        answer = {
            "uuid": document_id,
            "size": size,
            "mimetype": mimetype,
            "original_filename": upload.filename,
            "extension": extension,
        }
        return _json(answer)

    def on_applications(self, request: Request) -> Response:
        """POST /v1/recruiting/applications: Personio's documented checks, then store (§2.3)."""
        denied = self._gate(request)
        if denied is not None:
            return denied
        body: Any  # parsed JSON; check_application() refuses any other shape than an object
        try:
            body = (
                json.loads(request.get_data()) if request.mimetype == "application/json" else None
            )
        except ValueError:
            body = None
        with self._lock:
            attributes = copy.deepcopy(self._attributes)
            uploaded = set(self._documents)
        try:
            errors = checks.check_application(
                body,
                attributes=attributes,
                is_published=lambda job_id: self._find_position(job_id) is not None,
                is_uploaded=uploaded.__contains__,
                channels=frozenset(DEFAULT_CHANNELS),
            )
        except checks.BadBody:
            return problem(400, BAD_BODY)
        except checks.BadPhase as exc:
            return _json({"error": {"reason": str(exc)}}, status=400)  # §4.5
        if errors:
            return field_errors(errors)
        key = (body["email"].strip().casefold(), body["job_position_id"])
        with self._lock:  # check and store together: two racing submissions make one duplicate
            if any(
                (a["body"]["email"].strip().casefold(), a["body"]["job_position_id"]) == key
                for a in self._applications
            ):
                # Status not documented (§2.3, UNCERTAIN); 400 like the other validation codes.
                return field_errors({"email": ["errors.applicant-already-exists"]})
            record = {
                "id": str(uuid.uuid4()),
                "time": time.time(),
                "body": body,
                "api": "v2" if request.path.startswith("/v2/") else "v1",
            }
            self._applications.append(record)
        # The 201 body is undocumented (§2.3, UNCERTAIN); clients must not rely on it.
        response = _json({"success": True}, status=201)
        response.headers["X-Request-ID"] = record["id"]
        return response

    # -- pages for humans and tests ----------------------------------------------------------

    def on_page(self, request: Request) -> Response:
        """Every received application, newest first (DELETE forgets them all)."""
        if request.method == "DELETE":
            self.clear()
            return Response(status=204)
        return applications_response(
            list(reversed(self.received_applications)),
            self.received_documents,
            lambda job_id: p.name if (p := self._find_position(job_id)) else None,
        )

    def on_json(self, request: Request) -> Response:
        """Applications (oldest first) and upload metadata, for tests in another process."""
        documents = {
            key: {k: v for k, v in asdict(doc).items() if k != "path"}
            for key, doc in self.received_documents.items()
        }
        return _json({"applications": self.received_applications, "documents": documents})

    def on_download(self, request: Request, uuid: str) -> Response:
        """A stored upload as an attachment under its original name."""
        document = self.received_documents.get(uuid)
        if document is None or not document.path.exists():
            raise NotFound()
        return download_response(document.path, document.filename, document.mimetype, request)


def problem(status: int, detail: str) -> Response:
    """Personio's second error_response item shape: {id, status, title, detail} (§2.3)."""
    return _json(problem_body(status, detail), status=status)


def problem_body(status: int, detail: str = "") -> dict[str, Any]:
    """The JSON of `problem`, also used as the default body of injected status faults."""
    title = HTTP_STATUS_CODES.get(status, "Unknown")
    item = {
        "id": str(uuid.uuid4()),
        "status": str(status),
        "title": title,
        "detail": detail or title,
    }
    return {"errors": [item]}


def field_errors(errors: dict[str, list[str]], status: int = 400) -> Response:
    """Personio's first error_response item shape: one item per field with its reasons (§2.3)."""
    items = [
        {"field": f, "errors": [{"reason": r} for r in reasons]} for f, reasons in errors.items()
    ]
    return _json({"errors": items}, status=status)


def _json(data: Any, status: int = 200) -> Response:
    """A JSON answer."""
    return Response(json.dumps(data), status=status, content_type="application/json")
