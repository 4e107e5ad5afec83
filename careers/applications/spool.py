"""Uploaded files on disk: random names, private permissions, durable before we say "received"."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

COPY_CHUNK = 1024 * 1024


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """`incoming/` while a request streams in; `stored/` once the outbox owns the files;
    `kept/` for the checked files of a refused post, kept an hour for its resubmission
    (careers/db/kept.py, SQLite only)."""

    def __init__(self, root: Path) -> None:
        self.incoming = Path(root) / "incoming"
        self.stored = Path(root) / "stored"
        self.kept = Path(root) / "kept"
        for directory in (self.incoming, self.stored, self.kept):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def new_file(self) -> tuple[Path, BinaryIO]:
        """A fresh file under a random name: nothing the candidate sent names anything on disk."""
        path = self.incoming / secrets.token_hex(16)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return path, os.fdopen(fd, "wb")

    def copy_in(self, source: BinaryIO) -> tuple[Path, int, str]:
        """A new `incoming/` file with the bytes of `source`, read a chunk at a time: its
        path, size and SHA-256 (as `upload.receive` notes them for an uploaded file)."""
        path, handle = self.new_file()
        digest, size = hashlib.sha256(), 0
        try:
            with handle:
                while chunk := source.read(COPY_CHUNK):
                    handle.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path, size, digest.hexdigest()

    def move_to_kept(self, paths: Sequence[Path]) -> list[Path]:
        """Flush each file and move it under `kept/`; on failure the ones moved go back."""
        moved: list[Path] = []
        try:
            for path in paths:
                with open(path, "rb+") as handle:
                    os.fsync(handle.fileno())
                destination = self.kept / path.name
                os.replace(path, destination)
                moved.append(destination)
            if moved:
                _fsync_dir(self.kept)
        except BaseException:
            self.give_back(moved, paths)
            raise
        return moved

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
