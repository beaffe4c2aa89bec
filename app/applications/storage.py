"""The document store's interface, and the bytes on local disk under random names.

`Storage` is what the application asks of a store: its writes belong to the caller's
database transaction (a saved document is kept only if the transaction that holds its row
commits, and a deleted one goes only then), and reading streams chunk by chunk. The stores
themselves, and the choice between them (`DOCUMENTS_URL`), are in app/applications/stores.py;
this module only holds the file operations they build on, free of any database.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from sqlmodel import Session

CHUNK = 64 * 1024


class TooLarge(Exception):
    """The stream holds more bytes than allowed; nothing was kept."""


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


def new_key() -> str:
    return secrets.token_hex(24)


class Storage(Protocol):
    def save(
        self, session: Session, stream: BinaryIO, *, max_bytes: int, key: str | None = None
    ) -> Stored:
        """Keep the stream's bytes under a new key (or `key`), as part of the session's
        transaction; raises TooLarge (keeping nothing) beyond `max_bytes`."""
        ...

    def chunks(self, key: str) -> Iterator[bytes]:
        """The committed bytes under `key`, in order; FileNotFoundError when there are none."""
        ...

    def delete(self, session: Session, key: str) -> None:
        """Remove the bytes under `key` when the session's transaction commits."""
        ...


class LocalFiles:
    """Files under `root`, two levels deep; each written to a temporary name, flushed to
    disk and renamed, so a file under its key is always whole."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if not key.isalnum():  # keys are ours; never a path from outside
            raise ValueError("bad storage key")
        return self.root / key[:2] / key

    def write(self, stream: BinaryIO, *, max_bytes: int, key: str | None = None) -> Stored:
        """Copy in chunks, hashing as it goes; never holds the whole file in memory."""
        key = key or new_key()
        path = self.path(key)
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

    def chunks(self, key: str) -> Iterator[bytes]:
        with self.path(key).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def unlink(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


class ChunkReader:
    """A read-only stream over an iterator of chunks (one store's bytes, read by another)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        result, self._buffer = self._buffer[:size], self._buffer[size:]
        return result
