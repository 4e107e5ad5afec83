"""Uploaded files on disk: random names, private permissions, durable before we say "received"."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import BinaryIO


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """`incoming/` while a request streams in; `stored/<dir>/` once the outbox owns the files."""

    def __init__(self, root: Path) -> None:
        self.incoming = Path(root) / "incoming"
        self.stored = Path(root) / "stored"
        for directory in (self.incoming, self.stored):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def new_file(self) -> tuple[Path, BinaryIO]:
        """A fresh file under a random name: nothing the candidate sent names anything on disk."""
        path = self.incoming / secrets.token_hex(16)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return path, os.fdopen(fd, "wb")

    def keep(self, paths: list[Path]) -> list[Path]:
        """Flush to disk and move into a directory of their own; returns the new paths."""
        target = self.stored / secrets.token_hex(12)
        target.mkdir(mode=0o700)
        kept = []
        for path in paths:
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())
            destination = target / path.name
            os.replace(path, destination)
            kept.append(destination)
        _fsync_dir(target)
        _fsync_dir(self.stored)
        return kept

    @staticmethod
    def discard(paths) -> None:
        """Delete files (rejected uploads, delivered applications) and their emptied directory."""
        for path in map(Path, paths):
            path.unlink(missing_ok=True)
            parent = path.parent
            if parent.name not in {"incoming", "stored"}:
                try:
                    parent.rmdir()
                except OSError:
                    pass  # not empty yet, or already gone

    def sweep(self, referenced: set[str], older_than: float = 3600) -> int:
        """Remove leftovers of crashed requests and files no application refers to."""
        limit = time.time() - older_than
        removed = 0
        for path in list(self.incoming.iterdir()) + list(self.stored.glob("*/*")):
            if str(path) in referenced:
                continue
            try:
                if path.stat().st_mtime < limit:
                    self.discard([path])
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
