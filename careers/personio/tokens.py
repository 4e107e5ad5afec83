"""OAuth 2.0 client-credentials tokens for Personio's v2 API.

`TokenEndpoint` asks `POST /v2/auth/token` (form-encoded `grant_type=client_credentials`,
docs/personio.md §2.4) for a token, never more often than Personio allows (150 a minute, then
one a second: §3) as counted by the `Budget` it is given. Who keeps the token is a
`TokenProvider` (careers/personio/recruiting.py): `ClientCredentials` here keeps it in this
process (`careers check`, which must ask Personio itself); the deployment's delivery workers
share one token kept sealed in the database (careers/db/tokens.py), wired in services.py.
Either hands the same token out until shortly before `expires_in` runs out (`renew_at`), and
fetches a new one once after Personio refuses it (401). `client_key` names one OAuth client
of one API without its secret, for whoever stores tokens per client.

The client secret and the tokens never reach a log line, an exception message or a repr.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from .errors import CredentialsRejected, PermanentError, TransientError, error_for
from .recruiting import APP_ID

TOKEN_PATH = "/v2/auth/token"
TOKEN_TIMEOUT = httpx.Timeout(15.0, connect=5.0, pool=5.0)
# Personio's limit for the token endpoint (§3): 150 requests a minute, beyond that one a second.
TOKEN_BURST, TOKEN_WINDOW, TOKEN_TRICKLE = 150, 60.0, 1.0
# Renew this long before the token expires (at most a tenth of its life, so a sandbox's
# two-second token is still used): a request started just before expiry must not fail.
RENEW_MARGIN = 60.0
# An answer without `expires_in` is taken to last this long (Personio's own is a day: §2.6).
ASSUMED_LIFETIME = 300.0


def client_key(api_url: str, client_id: str) -> str:
    """One OAuth client of one API, as a hex SHA-256 of the API's URL and the client id:
    what a shared store keys its token by (several clients may coexist; no secret in it)."""
    named = f"{api_url.rstrip('/')}\n{client_id}".encode()
    return hashlib.sha256(named).hexdigest()


def renew_at(issued_at: float, lifetime: float) -> float:
    """When a token issued at `issued_at` for `lifetime` seconds is due for renewal."""
    return issued_at + lifetime - min(RENEW_MARGIN, lifetime / 10)


class Budget(Protocol):
    """The token endpoint's limit, however it is kept (this process, or every host)."""

    def wait(self) -> float:
        """Seconds until the next request may go; 0 means now (and counts it)."""
        ...


class TokenBudget:
    """Personio's limit for the token endpoint, kept by this process: 150 requests in any
    minute, and while that many were made, one a second."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._sent: deque[float] = deque()

    def wait(self) -> float:
        """Seconds until the next request may go; 0 means now (and counts it)."""
        now = self.clock()
        while self._sent and self._sent[0] <= now - TOKEN_WINDOW:
            self._sent.popleft()
        if len(self._sent) >= TOKEN_BURST:
            due = self._sent[-1] + TOKEN_TRICKLE
            if now < due:
                return due - now
        self._sent.append(now)
        return 0.0


@dataclass(frozen=True)
class IssuedToken:
    """A token Personio issued, and how many seconds it is valid (its repr hides it)."""

    token: str = field(repr=False)
    lifetime: float


class TokenEndpoint:
    """`POST /v2/auth/token` for one OAuth client: one request per `request()`, within the
    budget; the answer is an `IssuedToken` or a RecruitingError (nothing was sent for the
    request the token was wanted for, so every error says `maybe_delivered=False`)."""

    def __init__(
        self,
        api_url: str,
        client_id: str,
        client_secret: str,
        *,
        budget: Budget | None = None,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.client = client_key(self.api_url, client_id)
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self.budget: Budget = budget or TokenBudget()
        self.fetched = 0  # tokens Personio issued to us: tests count them
        self._http = httpx.Client(
            base_url=self.api_url,
            headers={"Accept": "application/json", "X-Personio-App-ID": APP_ID},
            timeout=timeout or TOKEN_TIMEOUT,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"TokenEndpoint(api_url={self.api_url!r})"

    def close(self) -> None:
        self._http.close()

    def request(self) -> IssuedToken:
        """A new token from Personio."""
        wait = self.budget.wait()
        if wait > 0:
            raise TransientError(
                "token_rate_limited",
                detail="Personio's token endpoint allows 150 requests a minute, then 1 a second",
                retry_after=wait,
                maybe_delivered=False,
            )
        try:
            response = self._http.post(TOKEN_PATH, data=self._form)
        except httpx.TransportError as exc:
            # Whatever happened, the recruiting request it was for has not been sent.
            raise TransientError(
                "token_unreachable", detail=type(exc).__name__, maybe_delivered=False
            ) from exc
        if not response.is_success:
            raise _token_error(response)
        try:
            data = response.json()
            token = data["access_token"]
            lifetime = float(data.get("expires_in") or ASSUMED_LIFETIME)
            if not isinstance(token, str) or not token.isprintable() or not token.strip():
                raise ValueError("no token")
            if not math.isfinite(lifetime) or lifetime <= 0:
                raise ValueError("bad lifetime")
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientError(
                "token_invalid_response",
                status=response.status_code,
                detail="the token answer is unreadable",
                maybe_delivered=False,
            ) from exc
        self.fetched += 1
        return IssuedToken(token.strip(), lifetime)


class ClientCredentials:
    """One OAuth client's token kept by this process, shared by its threads."""

    renewable = True

    def __init__(
        self,
        api_url: str,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = TokenEndpoint(
            api_url,
            client_id,
            client_secret,
            budget=TokenBudget(clock),
            timeout=timeout,
            transport=transport,
        )
        self.api_url = self.endpoint.api_url
        self.clock = clock
        self._lock = threading.Lock()
        self._token = ""
        self._renew_at = 0.0

    def __repr__(self) -> str:
        return f"ClientCredentials(api_url={self.api_url!r})"

    @property
    def fetched(self) -> int:
        return self.endpoint.fetched

    def close(self) -> None:
        self.endpoint.close()

    def token(self) -> str:
        """The current token, or a new one when it is due for renewal (one fetch at a time:
        the threads that wait for it get the same token)."""
        with self._lock:
            if not self._token or self.clock() >= self._renew_at:
                issued = self.endpoint.request()
                self._token = issued.token
                self._renew_at = renew_at(self.clock(), issued.lifetime)
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` if it is still the current one (another thread may have renewed)."""
        with self._lock:
            if token == self._token:
                self._token, self._renew_at = "", 0.0


def _token_error(response: httpx.Response) -> TransientError | PermanentError:
    """The token endpoint's refusal: 400/401/403 mean the client id or secret (or its
    scopes) are wrong, which pauses delivery like a rejected v1 key; 429 and 5xx pass.
    Only Personio's reason codes are kept: its text might quote what we sent."""
    error = error_for(response.status_code, response.content, response.headers)
    found = {"status": response.status_code, "detail": error.operator_detail}
    if isinstance(error, TransientError):
        return TransientError(
            "token_" + error.reason,
            retry_after=error.retry_after,
            maybe_delivered=False,
            reasons=error.reasons,
            **found,  # type: ignore[arg-type]
        )
    if response.status_code in (400, 401, 403):
        return CredentialsRejected("client_credentials_rejected", reasons=error.reasons, **found)  # type: ignore[arg-type]
    return PermanentError("token_" + error.reason, reasons=error.reasons, **found)  # type: ignore[arg-type]
