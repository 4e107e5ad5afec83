"""The Personio v2 token every host and process of a deployment shares, sealed in the database.

One row of `personio_tokens` per OAuth client, keyed by `client_key` (a hash of the API URL
and the client id: no secret is stored, and several clients can live side by side). The
token in it is sealed (AES-256-GCM, careers/applications/sealing.py) with a key of its own
in the deployment's key store (careers/db/keys.py: the `token_keys` table on PostgreSQL,
`careers-token-keys.db` beside SQLite's file), named in the row (`key_id`); the old token's
key is deleted when a new token is stored or when Personio refuses the token.

`SharedToken` is the `TokenProvider` (careers/personio/recruiting.py) over that row:

- A process keeps the token it read until its `renew_at` (a little before `expires_in` runs
  out, personio/tokens.py) and then reads the row again.
- When the row holds no usable token, one process fetches: under the client's lock
  (PostgreSQL's advisory lock, SQLite's write transaction) it looks again and, when nobody
  has stored a new one meanwhile and nobody is fetching, takes a lease (`renewing_by`,
  `renewing_until`) and lets the lock go; the token request runs outside any transaction, so
  no database lock is held while Personio answers. The others poll the row until the new
  token is there, or take over once the lease has run out (a crashed fetcher).
- After a 401 the refused token is forgotten only if it is still the stored one, so two
  processes refused the same token cause one fetch.

The token endpoint's own limit is kept for every host by the database's rate limiter
(`SharedBudget`). The token never appears in a repr, a log line or an error.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidTag

from ..applications.sealing import seal, unseal
from ..personio.tokens import TOKEN_BURST, TOKEN_TRICKLE, TOKEN_WINDOW, IssuedToken, renew_at
from .connector import Connector, Row, Tx
from .keys import KeyRing
from .ratelimit import KeyLimit, RateLimiter

# How long a fetcher holds the lease: longer than a token request may take (connect, send
# and read timeouts of personio/tokens.py's TOKEN_TIMEOUT), so a live one is never overtaken.
LEASE = 45.0
# How often a process waiting for another's fetch looks at the row again (doubling to MAX).
POLL, POLL_MAX = 0.02, 0.5


class Endpoint(Protocol):
    """Where new tokens come from (personio/tokens.py's TokenEndpoint)."""

    client: str  # client_key: the row this client's token lives in

    def request(self) -> IssuedToken: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class _Held:
    """The token this process hands out, and the key it is stored under (None: not
    stored, another process's token is)."""

    token: str = field(repr=False)
    key_id: str | None
    renew_at: float


def _context(key_id: str) -> str:
    """What binds a sealed token to its key and row (the key id names the client)."""
    return f"personio-token:{key_id}"


class SharedToken:
    """One OAuth client's token for every host and process on one database."""

    renewable = True

    def __init__(
        self,
        db: Connector,
        keys: KeyRing,
        endpoint: Endpoint,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.keys = keys
        self.endpoint = endpoint
        self.client = endpoint.client
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()  # this process's threads ask the database one at a time
        self._held: _Held | None = None

    def __repr__(self) -> str:
        return f"SharedToken(client={self.client[:12]}…)"

    def close(self) -> None:
        self.endpoint.close()

    def token(self) -> str:
        """The deployment's current token: kept by this process until it is due, then read
        from the database, fetched by one process when none there is usable."""
        with self._lock:
            held = self._held
            if held is None or self.clock() >= held.renew_at:
                held = self._held = self._current()
            return held.token

    def invalidate(self, token: str) -> None:
        """Personio refused `token` (401): forget it here and, unless another process has
        stored a newer one already, in the database, with its key."""
        with self._lock:
            held = self._held
            if held is None or held.token != token:
                return  # another thread of ours has dealt with it
            self._held = None
        refused = held.key_id
        if refused is None:
            return
        with self.db.transaction() as tx:
            forgotten = tx.run(
                "personio_token_refused", client=self.client, key_id=refused, now=self.clock()
            )
            if forgotten:
                self.keys.shred(tx, [refused])
        if forgotten:
            self.keys.shredded([refused])

    # -- reading the row -----------------------------------------------------------------

    def _current(self) -> _Held:
        with self.db.reading() as tx:
            held = self._usable(tx, tx.one("personio_token", client=self.client))
        return held or self._renew()

    def _usable(self, tx: Tx, row: Row | None) -> _Held | None:
        """The row's token if it is there, not due for renewal and opens with its key."""
        if row is None or row["token"] is None or row["key_id"] is None:
            return None
        if row["renew_at"] is None or self.clock() >= row["renew_at"]:
            return None
        key = self.keys.get(tx, row["key_id"])
        if key is None:
            return None  # its key is gone (a key store restored from a backup): fetch anew
        try:
            plain = unseal(key, bytes(row["token"]), _context(row["key_id"]))
        except (InvalidTag, ValueError):
            return None
        return _Held(plain.decode(), row["key_id"], float(row["renew_at"]))

    # -- fetching a new one ----------------------------------------------------------------

    def _renew(self) -> _Held:
        """Wait for another process's fetch, or fetch and store a token ourselves."""
        delay = POLL
        while True:
            claim = self._claim()
            if isinstance(claim, _Held):
                return claim
            if claim is not None:
                owner, generation = claim
                return self._fetch(owner, generation)
            self.sleep(delay)
            delay = min(delay * 2, POLL_MAX)

    def _claim(self) -> _Held | tuple[str, int] | None:
        """Under the client's lock: a token stored meanwhile, or the lease (our owner name
        and the generation to store), or None while another process is fetching."""
        with self.db.transaction() as tx:
            self.db.lock(tx, f"personio-token:{self.client}")
            now = self.clock()
            tx.run("personio_token_ensure", client=self.client, now=now)
            row = tx.one("personio_token", client=self.client)
            assert row is not None
            held = self._usable(tx, row)
            if held is not None:
                return held
            if row["renewing_until"] is not None and row["renewing_until"] > now:
                return None
            owner = secrets.token_hex(8)
            tx.run(
                "personio_token_lease", client=self.client, owner=owner, until=now + LEASE, now=now
            )
            return owner, int(row["generation"]) + 1

    def _fetch(self, owner: str, generation: int) -> _Held:
        """Ask Personio, then store the token sealed with a new key and delete the old key.
        A refusal lets the lease go, so the next attempt (of any process) asks again."""
        try:
            issued = self.endpoint.request()
        except BaseException:
            self._unlease(owner)
            raise
        try:
            return self._store(owner, generation, issued)
        except BaseException:
            self._unlease(owner)  # best effort: the database may be what failed
            raise

    def _unlease(self, owner: str) -> None:
        try:
            with self.db.transaction() as tx:
                tx.run("personio_token_unlease", client=self.client, owner=owner, now=self.clock())
        except Exception:
            pass  # the lease runs out by itself

    def _store(self, owner: str, generation: int, issued: IssuedToken) -> _Held:
        """Seal and store `issued` while the lease is still ours; delete the old key."""
        now = self.clock()
        due = renew_at(now, issued.lifetime)
        # Named after the fetch as well: a process that took over after our lease ran out
        # fetches the same generation.
        new_id = f"{self.client}:{generation}:{owner}"
        key = self.keys.make(new_id)  # SQLite: committed to the key file before the token
        sealed = seal(key, issued.token.encode(), _context(new_id))
        with self.db.transaction() as tx:
            self.keys.keep(tx, new_id, key)
            row = tx.one("personio_token", client=self.client)
            stored = tx.run(
                "personio_token_store",
                client=self.client,
                owner=owner,
                key_id=new_id,
                generation=generation,
                token=sealed,
                expires_at=now + issued.lifetime,
                renew_at=due,
                now=now,
            )
            # The key of the token this one replaces (or, when another process stored its
            # own after our lease ran out, our new key: ours is used by this process only).
            old = row["key_id"] if row is not None else None
            done = ([old] if old else []) if stored else [new_id]
            self.keys.shred(tx, done)
            if stored:  # and keys a crash left behind (SQLite: made, their token never stored)
                self.keys.prune(tx, 2 * LEASE)
        if done:
            self.keys.shredded(done)
        return _Held(issued.token, new_id if stored else None, due)


@dataclass(frozen=True)
class SharedBudget:
    """Personio's limit for one client's token requests (150 a minute, then one a second),
    kept for every host by the database's rate limiter: a request takes a slot of the
    minute's 150; with those gone, the slot of the current second."""

    burst: KeyLimit
    trickle: KeyLimit

    @classmethod
    def of(cls, limiter: Callable[[int, float], RateLimiter], client: str) -> SharedBudget:
        """The budget of `client` (its client_key) on the database's rate limits."""
        return cls(
            limiter(TOKEN_BURST, TOKEN_WINDOW).of(f"personio-token:{client}"),
            limiter(1, TOKEN_TRICKLE).of(f"personio-token-trickle:{client}"),
        )

    def wait(self) -> float:
        """0 when a token request may go now (its slot taken), else seconds to wait."""
        wait = self.burst.hit()
        if wait <= 0:
            return 0.0
        return min(wait, self.trickle.hit())
