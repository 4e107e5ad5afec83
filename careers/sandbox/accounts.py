"""Several Personio accounts in one sandbox (CAREERS_ACCOUNTS_FILE, docs/accounts.md).

Each account is a `Sandbox` of its own (its board, Recruiting API store, credentials, rate
budget, faults and request log). `SandboxAccounts` serves them side by side, the way
Personio does:

- each account's career site under `/<key>/`: its feed `/<key>/xml?language=…`, job pages,
  privacy policy, and its own `/_sandbox/…` pages (faults, request log);
- one Recruiting API at the root, like `api.personio.de`, which hands a request to the
  account its credentials name: `X-Company-ID` for v1, the OAuth client id for a v2 token
  request, the token it was issued for v2's other endpoints. Credentials no account knows
  answer 401, as Personio does; credentials of another account than the company id names
  are refused by that account (its token does not match).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from careers.personio.model import Position
from careers.sandbox import sample_data
from careers.sandbox.oauth import problem_json
from careers.sandbox.recruiting import problem
from careers.sandbox.server import Sandbox

# A token request is a short form; anything longer is not one.
TOKEN_BODY_LIMIT = 64 * 1024


class SandboxAccounts:
    """Several sandboxes as one WSGI app: feeds by path, the Recruiting API by credentials."""

    def __init__(self, accounts: dict[str, Sandbox]) -> None:
        self.accounts = dict(accounts)
        self.mail = None  # no mail catcher: SandboxServer asks

    def __getitem__(self, key: str) -> Sandbox:
        return self.accounts[key]

    # -- what SandboxServer calls --------------------------------------------------------------

    def rearm(self) -> None:
        for sandbox in self.accounts.values():
            sandbox.rearm()

    def release(self) -> None:
        for sandbox in self.accounts.values():
            sandbox.release()

    def discard_documents(self) -> None:
        for sandbox in self.accounts.values():
            sandbox.discard_documents()

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        key, _, rest = path.lstrip("/").partition("/")
        if key in self.accounts:
            inner = dict(environ)
            inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + "/" + key
            inner["PATH_INFO"] = "/" + rest
            answer: Iterable[bytes] = self.accounts[key](inner, start_response)
            return answer
        if path.startswith(("/v1/", "/v2/")):
            sandbox, refusal = self._recruiting_account(environ, path)
            if sandbox is not None:
                answered: Iterable[bytes] = sandbox(environ, start_response)
                return answered
            assert refusal is not None
            _drain(environ)
            return refusal(environ, start_response)
        return Response("no such account in this sandbox\n", 404)(environ, start_response)

    def _recruiting_account(
        self, environ: dict[str, Any], path: str
    ) -> tuple[Sandbox | None, Response | None]:
        """The account a Recruiting API request's credentials name, or the refusal."""
        request = Request(environ)
        if path.startswith("/v1/"):
            company = request.headers.get("X-Company-ID", "")
            for sandbox in self.accounts.values():
                if sandbox.recruiting.company_id == company:
                    return sandbox, None
            return None, problem(401, "The access token and/or company id are not recognised.")
        if path == "/v2/auth/token":
            body = _read_body(environ)
            client_id = parse_qs(body.decode("latin-1")).get("client_id", [""])[0]
            for sandbox in self.accounts.values():
                if sandbox.recruiting.issuer.client_id == client_id:
                    return sandbox, None
            return None, problem_json(
                401, "The client credentials are not valid.", "invalid_client"
            )
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        for sandbox in self.accounts.values():
            if scheme.lower() == "bearer" and sandbox.recruiting.issuer.knows(token.strip()):
                return sandbox, None
        return None, problem_json(
            401, "The access token is invalid or has expired.", "unauthorized"
        )


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read a small body and put it back, so the account's handler reads it again."""
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), TOKEN_BODY_LIMIT)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _drain(environ: dict[str, Any]) -> None:
    """Read a refused request's body away: unread input would turn the close into a reset."""
    stream = environ["wsgi.input"]
    try:
        remaining = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    while remaining > 0:
        chunk = stream.read(min(65536, remaining))
        if not chunk:
            return
        remaining -= len(chunk)


def account_feeds(offset: int) -> dict[str, list[Position]]:
    """The sample board as another account's: ids moved by `offset` (Personio numbers
    positions across its accounts, so two accounts never share one)."""
    return {
        language: [replace(position, id=position.id + offset) for position in positions]
        for language, positions in sample_data.sample_feeds().items()
    }


def sample_accounts(keys: Iterable[str]) -> SandboxAccounts:
    """Sandbox accounts for `careers sandbox --accounts`: the sample board in each, its ids
    moved by a million per account, and credentials of its own (`sample_file` lists them)."""
    return SandboxAccounts(
        {
            key: Sandbox(
                account_feeds(index * 1_000_000),
                company_id=str(100_001 + index),
                token=f"{key}-sandbox-token",
                client_id=f"{key}-client",
                client_secret=f"{key}-client-secret",
            )
            for index, key in enumerate(keys)
        }
    )


def sample_file(accounts: SandboxAccounts, base: str) -> str:
    """A CAREERS_ACCOUNTS_FILE for `accounts` served at `base`: the first account on API v2,
    the others on v1 (docs/accounts.md)."""
    tables = []
    for index, (key, sandbox) in enumerate(accounts.accounts.items()):
        api = sandbox.recruiting
        credentials = (
            f'client_id = "{api.issuer.client_id}"\nclient_secret = "{key}-client-secret"'
            if index == 0
            else f'company_id = "{api.company_id}"\nrecruiting_token = "{key}-sandbox-token"'
        )
        tables.append(
            f'[[account]]\nkey = "{key}"\nname = "{key.title()} (sandbox)"\n'
            f'feed_url = "{base}/{key}/xml"\napi_url = "{base}"\n{credentials}\n'
        )
    return "\n".join(tables)
