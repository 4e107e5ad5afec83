"""What the contracts need from a database: named statements run in short transactions.

Both connectors (sqlite.py, postgresql.py) hand out `Tx` objects that run the statements of
queries.py by name with keyword parameters and give rows back as dicts, so outbox.py and
mail.py are written once. Where the databases really differ (claiming, document bytes, key
stores, the clock of rate windows) the contracts ask the connector's dialect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

Row = dict[str, Any]
Dialect = Literal["sqlite", "postgresql"]


class Tx(Protocol):
    """Named statements on one connection (inside a transaction, or one autocommit read)."""

    def one(self, name: str, /, **params: Any) -> Row | None:
        """The first row, or None (SQLite: the statement is run to its end)."""

    def all(self, name: str, /, **params: Any) -> list[Row]: ...

    def run(self, name: str, /, **params: Any) -> int:
        """Run it; how many rows it changed."""

    def many(self, name: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Run it once per parameter set."""


class Connector(Protocol):
    """Connections to one database for every thread of a process."""

    dialect: Dialect

    def transaction(self, *, pipeline: bool = False) -> AbstractContextManager[Tx]:
        """One short write transaction (SQLite takes its write lock at once); an
        unreachable database raises StoreUnavailable. `pipeline`: PostgreSQL sends the
        statements without waiting for each answer until a result is read (on a busy
        machine every wait for the server costs a scheduling turn of its backend)."""

    def reading(self) -> AbstractContextManager[Tx]:
        """A connection for reads without a transaction around them."""

    def lock(self, tx: Tx, name: str) -> None:
        """Until `tx` ends, one holder of `name` at a time on every host (SQLite's write
        transaction holds the whole database already)."""

    def release(self) -> None:
        """A thread is done: close its connection (SQLite; PostgreSQL's go back to the pool
        after each use)."""

    def close(self) -> None:
        """Close this thread's connection (SQLite) or every connection (PostgreSQL)."""
