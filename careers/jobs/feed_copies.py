"""The last good feed in PostgreSQL, for hosts that share one database (jobs/store.py's
SharedFeedStore reads it when the disk has no copy)."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from .store import StoredFeed


class PostgresFeedCopies:
    """One row per language in `feed_copies` (created by the PostgreSQL outbox schema)."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def save_copy(self, feed: StoredFeed) -> None:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO feed_copies (language, body, etag, last_modified, fetched_at,"
                " version) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (language) DO UPDATE"
                " SET body = EXCLUDED.body, etag = EXCLUDED.etag,"
                " last_modified = EXCLUDED.last_modified, fetched_at = EXCLUDED.fetched_at,"
                " version = EXCLUDED.version WHERE feed_copies.fetched_at <= EXCLUDED.fetched_at",
                (
                    feed.language,
                    feed.body,
                    feed.etag,
                    feed.last_modified,
                    feed.fetched_at,
                    feed.version,
                ),
            )

    def touch_copy(self, language: str, fetched_at: float, version: str) -> None:
        """Personio confirmed our copy (304): only the same version gets the newer time."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                "UPDATE feed_copies SET fetched_at = GREATEST(fetched_at, %s)"
                " WHERE language = %s AND version = %s",
                (fetched_at, language, version),
            )

    def load_copy(self, language: str) -> StoredFeed | None:
        with self.pool.connection() as conn:
            row = (
                conn.cursor(row_factory=dict_row)
                .execute("SELECT * FROM feed_copies WHERE language = %s", (language,))
                .fetchone()
            )
        if row is None:
            return None
        return StoredFeed(
            language=language,
            body=bytes(row["body"]),
            etag=row["etag"] or "",
            last_modified=row["last_modified"] or "",
            fetched_at=float(row["fetched_at"]),
            version=row["version"] or "",
        )
