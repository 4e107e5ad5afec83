"""Helpers for the shared-token tests (test_shared_token.py): the pieces of one "host" that
asks for the deployment's Personio v2 token, in this process or as a process of its own.

`python -m tests.token_hosts GO` is such a process: it reads its settings from the
environment (CAREERS_*), builds the Recruiting API client as delivery does (services.py:
the token shared through the database), waits until the file GO exists, so the processes
start asking together, then sends one v2 request with the token and prints what came of
it and a digest of the token (never the token itself).
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

from careers.config import load_settings
from careers.db.database import Database, open_database
from careers.db.tokens import SharedToken
from careers.personio.recruiting import PermanentError, RecruitingClient
from careers.personio.tokens import TokenEndpoint, client_key
from careers.sandbox.oauth import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from careers.services import recruiting_client


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def shared_token(
    database: Database, api_url: str, secret: str = SANDBOX_CLIENT_SECRET
) -> SharedToken:
    """The sandbox client's token as delivery keeps it, on `database`."""
    endpoint = TokenEndpoint(
        api_url,
        SANDBOX_CLIENT_ID,
        secret,
        budget=database.token_budget(client_key(api_url, SANDBOX_CLIENT_ID)),
    )
    return database.shared_token(endpoint)


def probe(client: RecruitingClient) -> int:
    """Send `{}` to the v2 applications endpoint: 400 means the token was accepted (the
    empty body is not), 401 twice would raise CredentialsRejected."""
    try:
        client.create_application({})
    except PermanentError as exc:
        return int(exc.status or 0)
    return 201


def main(go: Path) -> None:
    settings = load_settings()
    database = open_database(settings.database_url)
    with recruiting_client(settings, database=database) as client:
        deadline = time.monotonic() + 60
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        status = probe(client)
        token = client._tokens.token()
        print(f"{status} {digest(token)}", flush=True)
    database.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
