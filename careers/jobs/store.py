"""The last good feed per language, and every position id ever seen, kept on disk."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredFeed:
    """A raw feed body as Personio sent it, with the validators and time we got it."""

    language: str
    body: bytes
    etag: str
    last_modified: str
    fetched_at: float  # when Personio last confirmed this content (200 or 304)
    version: str  # content hash; changes exactly when the board changes


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file and rename, so a crash or a second worker never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FeedStore:
    """Files under `<data_dir>/feeds/`: `<lang>.xml` + `<lang>.json`, and `seen.json`."""

    def __init__(self, data_dir: Path, account: str = "") -> None:
        """`account`: a key of CAREERS_ACCOUNTS_FILE, whose copies live in `feeds/<key>/`."""
        self.directory = Path(data_dir) / "feeds"
        if account:
            self.directory = self.directory / account

    def save(self, feed: StoredFeed) -> None:
        """Body first, then metadata: metadata only ever describes a complete body."""
        _atomic_write(self.directory / f"{feed.language}.xml", feed.body)
        meta = asdict(feed)
        del meta["body"]
        _atomic_write(self.directory / f"{feed.language}.json", json.dumps(meta).encode())

    def touch(self, language: str, fetched_at: float) -> str | None:
        """Record that Personio confirmed the stored copy is still current (HTTP 304);
        returns that copy's version (None when there is no copy)."""
        meta_path = self.directory / f"{language}.json"
        try:
            meta = json.loads(meta_path.read_bytes())
        except (OSError, ValueError):
            return None
        meta["fetched_at"] = fetched_at
        _atomic_write(meta_path, json.dumps(meta).encode())
        return str(meta.get("version", ""))

    def load(self, language: str) -> StoredFeed | None:
        """The stored copy, or None when there is none or it cannot be read."""
        try:
            meta = json.loads((self.directory / f"{language}.json").read_bytes())
            body = (self.directory / f"{language}.xml").read_bytes()
            return StoredFeed(
                language=language,
                body=body,
                etag=str(meta.get("etag", "")),
                last_modified=str(meta.get("last_modified", "")),
                fetched_at=float(meta["fetched_at"]),
                version=str(meta["version"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("stored feed unreadable", extra={"reason": "store_corrupt"})
            return None

    def stored_at(self, language: str) -> float | None:
        """When the stored copy was last confirmed, without reading the body."""
        try:
            return float(
                json.loads((self.directory / f"{language}.json").read_bytes())["fetched_at"]
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def load_seen(self) -> dict[int, dict[str, str]]:
        """Every position id that was ever in a feed, with its last title per language."""
        try:
            raw = json.loads((self.directory / "seen.json").read_bytes())
            return {int(k): dict(v) for k, v in raw.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, AttributeError):
            log.warning("seen-ids file unreadable", extra={"reason": "store_corrupt"})
            return {}

    def save_seen(self, seen: dict[int, dict[str, str]]) -> None:
        """Persist the seen ids so a restart still answers 410, not 404, for closed jobs."""
        _atomic_write(
            self.directory / "seen.json",
            json.dumps({str(k): v for k, v in seen.items()}, ensure_ascii=False).encode(),
        )

    def writable(self) -> str | None:
        """None when files can be written here, else the reason (for /readyz)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".probe."):
                pass
        except OSError as exc:
            return f"data directory not writable: {exc.strerror or exc}"
        return None


class FeedCopies(Protocol):
    """Somewhere every host can read the last good feed (PostgreSQL's `feed_copies`)."""

    def save_copy(self, feed: StoredFeed) -> None: ...

    def load_copy(self, language: str) -> StoredFeed | None: ...

    def touch_copy(self, language: str, fetched_at: float, version: str) -> None: ...


class SharedFeedStore(FeedStore):
    """The disk copy first, the shared one behind it: a host that starts with an empty disk
    while Personio fails still serves the jobs another host fetched. The shared copy is best
    effort: when the database is away the disk copy carries on alone."""

    def __init__(self, data_dir: Path, shared: FeedCopies, account: str = "") -> None:
        super().__init__(data_dir, account)
        self.shared = shared if not account else AccountCopies(shared, account)

    def save(self, feed: StoredFeed) -> None:
        super().save(feed)
        self._quietly(lambda: self.shared.save_copy(feed))

    def touch(self, language: str, fetched_at: float) -> str | None:
        version = super().touch(language, fetched_at)
        if version:  # only the version Personio just confirmed gets the newer time
            self._quietly(lambda: self.shared.touch_copy(language, fetched_at, version))
        return version

    def load(self, language: str) -> StoredFeed | None:
        local = super().load(language)
        if local is not None:
            return local
        shared = self._quietly(lambda: self.shared.load_copy(language))
        if shared is not None:
            log.info("feed copy taken from the database", extra={"language": language})
            FeedStore.save(self, shared)  # this host has its own copy from now on
        return shared

    def stored_at(self, language: str) -> float | None:
        local = super().stored_at(language)
        if local is not None:
            return local
        copy = self.load(language)
        return copy.fetched_at if copy else None

    @staticmethod
    def _quietly(action: Callable[[], T]) -> T | None:
        try:
            return action()
        except Exception:
            log.warning("shared feed copy unavailable", extra={"reason": "store_down"})
            return None


class AccountCopies:
    """One account's copies among the shared ones: its languages stored as `<key>/<lang>`,
    so accounts never read each other's board."""

    def __init__(self, shared: FeedCopies, account: str) -> None:
        self.shared, self.prefix = shared, f"{account}/"

    def save_copy(self, feed: StoredFeed) -> None:
        self.shared.save_copy(replace(feed, language=self.prefix + feed.language))

    def load_copy(self, language: str) -> StoredFeed | None:
        found = self.shared.load_copy(self.prefix + language)
        return None if found is None else replace(found, language=language)

    def touch_copy(self, language: str, fetched_at: float, version: str) -> None:
        self.shared.touch_copy(self.prefix + language, fetched_at, version)
