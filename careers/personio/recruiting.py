"""Client for Personio's Recruiting API, v1 or v2: upload documents, then create the application.

v1 and v2 take the same bodies and answer the same way; only the path and the bearer token
differ (docs/personio.md §2.4). The token comes from a `TokenProvider`: the Recruiting API key
for v1 (`StaticToken`), an OAuth 2.0 client-credentials token for v2 (careers/personio/tokens.py).
Failures come back as exceptions that tell the delivery worker what to do: `TransientError`
(retry later, honouring `retry_after`), `PermanentError` (park with Personio's reasons) and
`DuplicateApplicant` (after a retry: Personio already has it); which error is which is one
table, `OUTCOMES` (errors.py). See docs/personio.md §2.2–§3. `check_credentials` asks
Personio whether it knows the credentials, without creating anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

import httpx

# The errors are part of this client's interface: callers import them from here.
from .errors import (
    DUPLICATE_REASONS,
    OUTCOMES,
    CredentialsRejected,
    DuplicateApplicant,
    ErrorBody,
    PermanentError,
    RecruitingError,
    TransientError,
    error_for,
    parse_error_body,
    parse_retry_after,
)

__all__ = [
    "APPLICATIONS_PATH",
    "DOCUMENTS_PATH",
    "DUPLICATE_REASONS",
    "OUTCOMES",
    "CredentialCheck",
    "CredentialsRejected",
    "DuplicateApplicant",
    "ErrorBody",
    "PermanentError",
    "RecruitingClient",
    "RecruitingError",
    "StaticToken",
    "TokenProvider",
    "TransientError",
    "UploadedDocument",
    "error_for",
    "parse_error_body",
    "parse_retry_after",
]

# The two endpoints per API version; v2 accepts and answers the v1 bodies (§2.4).
PATHS: dict[int, tuple[str, str]] = {
    1: ("/v1/recruiting/applications/documents", "/v1/recruiting/applications"),
    2: ("/v2/recruiting/applications/documents", "/v2/recruiting/applications"),
}
DOCUMENTS_PATH, APPLICATIONS_PATH = PATHS[1]
APP_ID = "careers"  # X-Personio-App-ID, which Personio "strongly recommends" (§2.3)
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0, pool=5.0)


@dataclass(frozen=True, slots=True)
class UploadedDocument:
    """Personio's answer to an upload (`uploaded_document`, §2.2)."""

    uuid: str
    size: int
    mimetype: str
    original_filename: str
    extension: str


@dataclass(frozen=True, slots=True)
class CredentialCheck:
    """What Personio said to the key: `ok`, `rejected` (fix the settings) or `unreachable`
    (no verdict now); `detail` is one line for operators and never quotes the token."""

    outcome: Literal["ok", "rejected", "unreachable"]
    detail: str

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class TokenProvider(Protocol):
    """Where a client's bearer token comes from: the seam between the HTTP client and
    whoever keeps the token (this process, or the database for every host)."""

    renewable: bool  # False: a 401 is final (v1's key); True: fetch a new token once

    def token(self) -> str:
        """A token valid now; raises CredentialsRejected or TransientError (never sent)."""
        ...

    def invalidate(self, token: str) -> None:
        """Personio answered 401 to `token`: never hand it out again."""
        ...


class StaticToken:
    """v1's Recruiting API key: the same token always; a 401 means the key is wrong."""

    renewable = False

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(***)"

    def token(self) -> str:
        return self._token

    def invalidate(self, token: str) -> None:
        """Nothing to renew: the operator must fix the key (delivery pauses)."""


class RecruitingClient:
    """One pooled connection to the Recruiting API for one company's credentials."""

    def __init__(
        self,
        api_url: str,
        company_id: str,
        token: str | TokenProvider,
        *,
        version: Literal[1, 2] = 1,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.company_id = company_id
        self.version = version
        self._documents_path, self._applications_path = PATHS[version]
        self._tokens = StaticToken(token) if isinstance(token, str) else token
        headers = {"Accept": "application/json", "X-Personio-App-ID": APP_ID}
        if company_id:  # v1 needs it; v2's token names the company, the header is harmless
            headers["X-Company-ID"] = company_id
        # The token is added per request (it may be renewed) and is never kept in a header
        # of the client; httpx masks Authorization in the repr of a request's headers.
        self._http = httpx.Client(
            base_url=self.api_url,
            headers=headers,
            timeout=timeout or DEFAULT_TIMEOUT,
            transport=transport,
        )

    def __repr__(self) -> str:
        return (
            f"RecruitingClient(api_url={self.api_url!r}, company_id={self.company_id!r},"
            f" version={self.version})"
        )

    def close(self) -> None:
        """Close pooled connections, the token provider's too (each client owns its own)."""
        self._http.close()
        close_tokens = getattr(self._tokens, "close", None)
        if close_tokens is not None:
            close_tokens()

    def __enter__(self) -> RecruitingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def upload_document(self, source: Path | BinaryIO, filename: str) -> UploadedDocument:
        """Upload one file as multipart part `file`, streamed from disk or from a seekable
        stream (§2.2); OSError if unreadable."""
        if isinstance(source, Path):
            with source.open("rb") as stream:
                return self.upload_document(stream, filename)
        # httpx reads file objects in chunks as it sends; a resend after a renewed token
        # starts the file again from where it started.
        start = source.tell()
        response = self._send(
            "POST",
            self._documents_path,
            rewind=lambda: source.seek(start),
            files={"file": (filename, source)},
        )
        try:
            data = response.json()
            return UploadedDocument(
                uuid=str(data["uuid"]),
                size=int(data["size"]),
                mimetype=str(data.get("mimetype") or ""),
                original_filename=str(data.get("original_filename") or filename),
                extension=str(data.get("extension") or ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            # Stored or not, we cannot tell which uuid it got: upload again later.
            raise TransientError(
                "invalid_response", status=response.status_code, detail="upload answer unreadable"
            ) from exc

    def create_application(self, body: dict[str, Any]) -> None:
        """Submit the application JSON; any 2xx (Personio sends 201) means created (§2.3)."""
        self._send("POST", self._applications_path, json=body)

    def check_credentials(self) -> CredentialCheck:
        """Ask Personio whether it knows the credentials, creating nothing: v2 asks for a
        token, v1 sends the probe below."""
        if self.version == 2:
            return self._check_client_credentials()
        return self._check_key()

    def _check_client_credentials(self) -> CredentialCheck:
        """v2: Personio issues a token for the client id and secret, or refuses them."""
        try:
            self._tokens.token()
        except TransientError as exc:
            return CredentialCheck("unreachable", str(exc))
        except PermanentError as exc:
            return CredentialCheck(
                "rejected",
                f"Personio refused the OAuth client ({exc.reason}, HTTP {exc.status}): use the"
                " client id and secret of a custom integration with the scope"
                " personio:recruiting:write",
            )
        return CredentialCheck("ok", "Personio issued a token to the OAuth client (API v2)")

    def _check_key(self) -> CredentialCheck:
        """Ask Personio whether it knows the token and company id, creating nothing.

        The probe is a create-application request with the empty JSON object `{}`. Personio
        answers 401 when the token and/or company id are not recognised and validates the body
        otherwise, answering 400 with its error_response (docs/personio.md §2.3, "Checking the
        key"). `{}` names no candidate and no position, so there is nothing Personio could
        create from it. We chose it over an upload without a file part: a 400 for a failed
        validation is documented in Personio's OpenAPI file, the upload's answer only in forum
        reports (§4.4), and this endpoint is the one that says 403 when the account has no
        recruiting. It costs one request of the company's budget of 20 per minute (§3).
        """
        try:
            self._send("POST", self._applications_path, json={})
        except TransientError as exc:  # no connection, a timeout, 429 or 5xx: no verdict
            return CredentialCheck("unreachable", str(exc))
        except PermanentError as exc:
            if exc.status in (400, 422):
                return CredentialCheck("ok", f"the key is accepted (company {self.company_id})")
            if exc.status == 401:
                return CredentialCheck(
                    "rejected",
                    "token and/or company id not recognised (HTTP 401): use the Recruiting API"
                    " key and the numeric company id from Personio's API credentials page",
                )
            if exc.status == 403:  # feature.public-api.disabled, feature.recruiting.disabled
                return CredentialCheck("rejected", f"the account may not do this: {exc}")
            # A 404 or a redirect: CAREERS_PERSONIO_API_URL is not Personio's API.
            return CredentialCheck("rejected", f"{exc}; is CAREERS_PERSONIO_API_URL right?")
        # Nothing can come of `{}`; a server that takes it is not Personio's Recruiting API.
        return CredentialCheck(
            "rejected", "an empty application was accepted: is CAREERS_PERSONIO_API_URL right?"
        )

    def _send(
        self, method: str, path: str, rewind: Callable[[], object] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One request, sent a second time only when a renewable token was refused (a 401
        means Personio processed nothing); failures become RecruitingErrors."""
        token = self._tokens.token()
        response = self._request(method, path, token, **kwargs)
        if response.status_code == 401 and self._tokens.renewable:
            # Expired early or revoked: a fresh token once; a second 401 is the credentials.
            response.close()
            self._tokens.invalidate(token)
            token = self._tokens.token()
            if rewind is not None:
                rewind()
            response = self._request(method, path, token, **kwargs)
        if response.is_success:
            return response
        raise error_for(response.status_code, response.content, response.headers)

    def _request(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        """The HTTP exchange; transport failures become RecruitingErrors."""
        headers = {"Authorization": f"Bearer {token}"}
        try:
            return self._http.request(method, path, headers=headers, **kwargs)
        # httpx messages carry no headers, so quoting them cannot leak the token.
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # No connection was made (or none was free): the request never left us.
            reason = "connect" if isinstance(exc, httpx.ConnectError) else "timeout"
            raise TransientError(reason, detail=_describe(exc), maybe_delivered=False) from exc
        except httpx.TimeoutException as exc:
            # Read or write timeout: Personio may have the request, even all of it.
            raise TransientError("timeout", detail=_describe(exc)) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
            # The connection broke mid-request or before the answer: outcome unknown.
            raise TransientError("connection_lost", detail=_describe(exc)) from exc
        except httpx.TransportError as exc:  # unsupported protocol and the like: configuration
            raise PermanentError("transport", detail=_describe(exc)) from exc


def _describe(exc: Exception) -> str:
    """The exception's class only: a local protocol error's message can quote our own
    request headers, token included, and this text is stored and shown to operators."""
    return type(exc).__name__
