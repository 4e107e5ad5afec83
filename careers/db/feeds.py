"""The last good feed in PostgreSQL, for hosts that share one database (jobs/store.py's
SharedFeedStore reads it when the disk has no copy). SQLite needs none: one host, one disk."""

from __future__ import annotations

from ..jobs.store import StoredFeed
from .postgresql import PostgresConnector


class FeedCopies:
    """One row per language in `feed_copies` (jobs.store.FeedCopies)."""

    def __init__(self, db: PostgresConnector) -> None:
        self.db = db

    def save_copy(self, feed: StoredFeed) -> None:
        with self.db.transaction() as tx:
            tx.run(
                "feed_copy_save",
                language=feed.language,
                body=feed.body,
                etag=feed.etag,
                last_modified=feed.last_modified,
                fetched_at=feed.fetched_at,
                version=feed.version,
            )

    def touch_copy(self, language: str, fetched_at: float, version: str) -> None:
        """Personio confirmed our copy (304): only the same version gets the newer time."""
        with self.db.transaction() as tx:
            tx.run("feed_copy_touch", language=language, fetched_at=fetched_at, version=version)

    def load_copy(self, language: str) -> StoredFeed | None:
        with self.db.reading() as tx:
            row = tx.one("feed_copy", language=language)
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
