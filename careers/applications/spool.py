"""Uploaded files on disk: random names, private permissions, durable before we say "received"."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """`incoming/` while a request streams in; `stored/` once the outbox owns the files."""

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

    def keep(self, paths: Sequence[Path]) -> list[Path]:
        """Flush each file to disk and move it under `stored/`; returns the new paths. On any
        failure the files already moved go back where they were (`give_back`) before the
        error is raised, so the caller still holds every file under its old path."""
        kept: list[Path] = []
        try:
            for path in paths:
                with open(path, "rb+") as handle:
                    os.fsync(handle.fileno())
                destination = self.stored / path.name  # already random, unique and ours
                os.replace(path, destination)
                kept.append(destination)
            if kept:
                _fsync_dir(self.stored)  # the renames themselves survive a crash
        except BaseException:
            self.give_back(kept, paths)
            raise
        return kept

    @staticmethod
    def give_back(kept: Sequence[Path], originals: Sequence[Path]) -> None:
        """Undo `keep`: each moved file back under its old path (`kept` may be a prefix of
        `originals`); one that cannot go back is deleted, never left in `stored/`."""
        for moved, original in zip(kept, originals, strict=False):
            try:
                os.replace(moved, original)
            except OSError:
                moved.unlink(missing_ok=True)

    @staticmethod
    def discard(paths: Iterable[Path | str]) -> None:
        """Delete files: rejected uploads, delivered or purged applications."""
        for path in map(Path, paths):
            path.unlink(missing_ok=True)

    def sweep(self, referenced: set[str], older_than: float = 3600) -> int:
        """Remove leftovers of crashed requests and files no application refers to (the
        outbox's `sweep` says which are referenced); files younger than `older_than` seconds
        may belong to a request still running and stay."""
        limit = time.time() - older_than
        removed = 0
        for path in list(self.incoming.iterdir()) + list(self.stored.iterdir()):
            if str(path) in referenced:
                continue
            try:
                if path.stat().st_mtime < limit:
                    self.discard([path])
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
