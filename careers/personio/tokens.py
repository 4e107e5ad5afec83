"""OAuth 2.0 client-credentials tokens for Personio's v2 API, kept in this process.

`ClientCredentials` is the in-process `TokenProvider` (careers/personio/recruiting.py): it
asks `POST /v2/auth/token` (form-encoded `grant_type=client_credentials`, docs/personio.md
§2.4) for a token, hands the same one to every request until shortly before `expires_in` runs
out, fetches a new one once after Personio refuses it (401), and never asks the token endpoint
more often than Personio allows (150 a minute, then one a second: §3). The deployment-wide
provider that keeps one sealed token in the database for every host and process plugs into
the same seam once the storage layer is there; until then each process holds its own token.

The client secret and the tokens never reach a log line, an exception message or a repr.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

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


class ClientCredentials:
    """One OAuth client's token for this process, shared by its threads."""

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
        self.api_url = api_url.rstrip("/")
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self.clock = clock
        self.budget = TokenBudget(clock)
        self.fetched = 0  # tokens Personio issued to us: tests count them
        self._lock = threading.Lock()
        self._token = ""
        self._renew_at = 0.0
        self._http = httpx.Client(
            base_url=self.api_url,
            headers={"Accept": "application/json", "X-Personio-App-ID": APP_ID},
            timeout=timeout or TOKEN_TIMEOUT,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"ClientCredentials(api_url={self.api_url!r})"

    def close(self) -> None:
        self._http.close()

    def token(self) -> str:
        """The current token, or a new one when it is due for renewal (one fetch at a time:
        the threads that wait for it get the same token)."""
        with self._lock:
            if not self._token or self.clock() >= self._renew_at:
                self._fetch()
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget `token` if it is still the current one (another thread may have renewed)."""
        with self._lock:
            if token == self._token:
                self._token, self._renew_at = "", 0.0

    def _fetch(self) -> None:
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
        self._token = token.strip()
        self._renew_at = self.clock() + lifetime - min(RENEW_MARGIN, lifetime / 10)


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
