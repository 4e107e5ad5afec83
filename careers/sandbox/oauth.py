"""The sandbox's v2 side: OAuth 2.0 client-credentials tokens and problem+json errors.

Personio's v2 endpoints take the v1 bodies and answer with the v1 data; only authentication
differs (docs/personio.md §2.4, §2.6). So the sandbox serves v2 with v1's handlers
(recruiting.py): `TokenIssuer` decides whether a request's bearer token is one it issued and
still valid, and `as_problem_json` rewrites v1's error bodies into v2's envelope.
Tokens expire after `lifetime` seconds of the sandbox's clock, which tests set short or
move on; the token endpoint keeps Personio's limit (150 a minute, then 1 a second: §3).
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"
DEFAULT_LIFETIME = 86400.0  # what a third-party client saw Personio issue (§2.6)
TOKEN_BURST, TOKEN_WINDOW, TOKEN_TRICKLE = 150, 60.0, 1.0
PROBLEM_TYPE = "application/problem+json"
# Where Personio's v2 error `type` URIs point (§2.4).
ERROR_DOCS = "https://developer.personio.de/v2.0/page/public-api-error-codes"


class TokenIssuer:
    """Issues, checks and expires the tokens of one OAuth client."""

    def __init__(
        self,
        *,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        lifetime: float = DEFAULT_LIFETIME,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id, self._secret = client_id, client_secret
        self.lifetime = lifetime
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # token -> expiry on `clock`
        self._sent: deque[float] = deque()
        self.requests = 0  # token requests answered, refused ones included: tests count them

    def __repr__(self) -> str:
        return f"TokenIssuer(client_id={self.client_id!r})"

    def set_lifetime(self, seconds: float) -> None:
        """How long tokens issued from now on are valid."""
        self.lifetime = seconds

    def expire_all(self) -> None:
        """Every token issued so far stops working (as at the end of its life)."""
        with self._lock:
            self._tokens.clear()

    def on_token(self, request: Request) -> Response:
        """POST /v2/auth/token: form-encoded client credentials (§2.4)."""
        with self._lock:
            self.requests += 1
            wait = self._admit()
        if wait is not None:
            refused = problem_json(429, "Too many token requests: 150 a minute, then 1 a second")
            refused.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return refused
        if request.mimetype != "application/x-www-form-urlencoded":
            return problem_json(400, "The token request must be form-encoded.")
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return problem_json(
                400, "grant_type must be client_credentials", "unsupported_grant_type"
            )
        known = hmac.compare_digest(
            form.get("client_id", "").encode(), self.client_id.encode()
        ) & hmac.compare_digest(form.get("client_secret", "").encode(), self._secret.encode())
        if not known:
            return problem_json(401, "The client credentials are not valid.", "invalid_client")
        token = "papi-" + secrets.token_urlsafe(32)  # the prefix a third party saw (§2.6)
        with self._lock:
            now = self.clock()
            self._tokens = {t: at for t, at in self._tokens.items() if at > now}
            self._tokens[token] = now + self.lifetime
        answer = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": math.ceil(self.lifetime),
            "scope": "personio:recruiting:write",
        }
        return Response(json.dumps(answer), content_type="application/json")

    def knows(self, token: str) -> bool:
        """A token this issuer gave out (expired or not): which account a request is for."""
        with self._lock:
            return token in self._tokens

    def refuse(self, request: Request) -> Response | None:
        """None when the request carries a valid token, else the 401 answer."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self._lock:
            expires = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            valid = expires is not None and self.clock() < expires
        if valid:
            return None
        return problem_json(401, "The access token is invalid or has expired.", "unauthorized")

    def _admit(self) -> float | None:
        """None when a token request may be answered now (and counts it), else the wait."""
        now = self.clock()
        while self._sent and self._sent[0] <= now - TOKEN_WINDOW:
            self._sent.popleft()
        if len(self._sent) >= TOKEN_BURST and now < self._sent[-1] + TOKEN_TRICKLE:
            return self._sent[-1] + TOKEN_TRICKLE - now
        self._sent.append(now)
        return None


def problem_json(status: int, detail: str, code: str = "") -> Response:
    """One v2 error (§2.4): trace id, timestamp and a list of {title, detail, type, _meta}."""
    return _envelope(status, [_item(status, detail, code or _slug(status))])


def as_problem_json(response: Response) -> Response:
    """A v1 error answer of recruiting.py rewritten into v2's envelope, the same codes kept:
    Personio says the v2 endpoints return the same data as v1 (§2.6), so each v1 reason
    code becomes an item whose `_meta` names its field and reason."""
    if response.status_code < 400 or response.mimetype != "application/json":
        return response
    try:
        data = json.loads(response.get_data())
    except ValueError:
        return response
    status = response.status_code
    items: list[dict[str, Any]] = []
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("reason"):  # {"error": {"reason"}} (§4.5)
        items.append(_item(status, str(error["reason"]), _slug(status)))
    for old in data.get("errors", []) if isinstance(data, dict) else ():
        if "field" in old:
            for sub in old.get("errors", []):
                reason = str(sub.get("reason", ""))
                items.append(_item(status, reason, reason, field=str(old["field"])))
        else:
            items.append(_item(status, str(old.get("detail", "")), _slug(status)))
    converted = _envelope(status, items or [_item(status, "", _slug(status))])
    for name in ("Retry-After", "X-Request-ID"):
        if name in response.headers:
            converted.headers[name] = response.headers[name]
    return converted


def _item(status: int, detail: str, code: str, field: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {"field": field, "reason": code} if field else {}
    title = HTTP_STATUS_CODES.get(status, "Error")
    return {
        "title": title,
        "detail": detail or title,
        "type": f"{ERROR_DOCS}#{code}",
        "_meta": meta,
    }


def _envelope(status: int, items: list[dict[str, Any]]) -> Response:
    body = {
        "personio_trace_id": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "errors": items,
    }
    return Response(json.dumps(body), status=status, content_type=PROBLEM_TYPE)


def _slug(status: int) -> str:
    """Personio's anchors look like `commonforbidden`, `apinot_found` (§2.4, §2.6)."""
    return "common" + HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_")
