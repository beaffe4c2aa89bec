"""The document store: bytes streamed to disk under random names, outside any static folder.

`Storage` is the interface; `LocalStorage` keeps files under var/documents. A deployment on
several machines implements the same four methods on an S3-compatible store.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 64 * 1024


class TooLarge(Exception):
    """The stream holds more bytes than allowed; nothing was kept."""


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    def save(self, stream: BinaryIO, *, max_bytes: int) -> Stored: ...

    def open(self, key: str) -> BinaryIO: ...

    def chunks(self, key: str) -> Iterator[bytes]: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not key.isalnum():  # keys are ours; never a path from outside
            raise ValueError("bad storage key")
        return self.root / key[:2] / key

    def save(self, stream: BinaryIO, *, max_bytes: int) -> Stored:
        """Copy in chunks, hashing as it goes; never holds the whole file in memory."""
        key = secrets.token_hex(24)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        digest = hashlib.sha256()
        size = 0
        try:
            with temporary.open("wb") as target:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge
                    digest.update(chunk)
                    target.write(chunk)
                target.flush()
                os.fsync(target.fileno())
            temporary.rename(path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return Stored(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def chunks(self, key: str) -> Iterator[bytes]:
        with self.open(key) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
