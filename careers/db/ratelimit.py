"""Rate limits shared by every process and host, over the database's `rate_log`.

A `RateLimiter` is one limit (at most `limit` hits per `window` seconds) for any number of
keys, in the shape of warehouse's IRateLimiter: `test` looks, `hit` takes a slot, and both
answer how long until one is free (0 when now). A slot is only taken while there is room,
so a window never holds more than `limit`; a refusal takes no room. SQLite counts on the
process's clock under its write lock; PostgreSQL on the database's clock under an advisory
lock per key, so hosts with skewed clocks share one window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .connector import Connector, Row


@dataclass(frozen=True)
class RateLimiter:
    """`limit` hits per `window` seconds per key, on `db`."""

    db: Connector
    limit: int
    window: float
    clock: Callable[[], float] = time.time

    def test(self, key: str) -> float:
        """0 when a hit would be allowed now, else seconds until one is; takes nothing."""
        with self.db.reading() as tx:
            row = tx.one("rate_window", key=key, window=float(self.window), now=self.clock())
        assert row is not None
        return self._wait(row)

    def hit(self, key: str) -> float:
        """Take a slot: 0 when taken, else seconds until one is free (nothing taken)."""
        params = {"key": key, "window": float(self.window), "limit": self.limit}
        with self.db.transaction(pipeline=True) as tx:
            self.db.lock(tx, key)
            if self.db.dialect == "postgresql":
                # One statement, on the database's clock read after the lock: its snapshot
                # sees what the previous holder committed.
                row = tx.one("rate_take", **params)
            else:
                now = self.clock()
                tx.run("rates_forget", key=key, window=float(self.window), now=now)
                row = tx.one("rate_window", **params, now=now)
                assert row is not None
                if row["n"] < self.limit:
                    tx.run("rate_log_insert", key=key, now=now)
        assert row is not None
        return self._wait(row)

    resets_in = test  # warehouse's name for the same question

    def of(self, key: str) -> KeyLimit:
        """This limit for one key (one client, one API)."""
        return KeyLimit(self, key)

    def _wait(self, row: Row) -> float:
        """0 when the window had room, else until its oldest entry leaves it."""
        if row["n"] < self.limit:
            return 0.0
        return float(max(0.001, row["oldest"] + self.window - row["now"]))


@dataclass(frozen=True)
class KeyLimit:
    """A RateLimiter bound to one key."""

    limiter: RateLimiter
    key: str

    def test(self) -> float:
        return self.limiter.test(self.key)

    def hit(self) -> float:
        return self.limiter.hit(self.key)
