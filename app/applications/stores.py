"""The document stores, both bound to the caller's database transaction, and the choice
between them (`DOCUMENTS_URL`, resolved in app/config.py).

`DatabaseStorage` keeps a document's bytes in the database itself, as rows of 64 KiB in the
`document_blob` table (key, seq, data), written with the request's own session: the chunks
and the Document row commit together or not at all, so there is never a file without its row
or a row without its file, and a backup of the database holds the documents too. Rows of
bytea rather than PostgreSQL large objects, because rows are ordinary data: they take part in
the transaction like any other row and are deleted with a DELETE in it (a large object needs
lo_unlink, and one whose reference is lost stays behind until vacuumlo runs), pg_dump and
replication carry them with no options, no grants on large objects are needed, and the same
table works on SQLite, so the store is tested on both databases. On PostgreSQL a chunk is
stored out of line by TOAST without an attempt to compress it (STORAGE EXTERNAL, migration
0013: a PDF is compressed already); writing and reading go one chunk at a time, so a
document is never whole in memory.

`LocalStorage` keeps files on local disk (var/documents by default). A file is written
before the commit (it has to be on disk before its row says so) and removed again when the
transaction ends without committing; a deleted document's file is removed after the commit.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal, cast

from sqlalchemy import Engine, delete, event, exists, insert, select
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col

from app.applications.models import Document, DocumentBlob
from app.applications.storage import (
    CHUNK,
    ChunkReader,
    LocalFiles,
    Storage,
    Stored,
    TooLarge,
    new_key,
)
from app.config import DocumentsStore, Settings, parse_documents_url
from app.db import Database

log = logging.getLogger(__name__)

BLOB = DocumentBlob.__table__  # type: ignore[attr-defined]


def open_storage(settings: Settings, engine: Engine) -> Storage:
    """The store the settings choose, reading from `engine` (the application's database)."""
    return storage_for(settings.documents_store(), engine)


def documents_not_in(session: Session, storage: Storage, *, limit: int = 1000) -> list[str]:
    """The storage keys of documents whose bytes `storage` does not hold (at most `limit`):
    after an upgrade that switched the store without moving the documents, every one."""
    if not isinstance(storage, DatabaseStorage):
        return []
    blob = DocumentBlob.__table__  # type: ignore[attr-defined]
    document = Document.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        select(document.c.storage_key)
        .where(~exists().where(blob.c.key == document.c.storage_key))
        .limit(limit)
    )
    return [str(key) for key in rows.scalars()]


def check_store(settings: Settings, session: Session, storage: Storage) -> None:
    """Refuse to start on the database store while documents it lacks are on local disk
    (an upgrade on PostgreSQL that set neither DOCUMENTS_URL nor DOCUMENTS_DIR): every
    download would fail. The message says how to move them."""
    missing = documents_not_in(session, storage, limit=20)
    assert settings.documents_dir is not None
    files = LocalFiles(settings.documents_dir)
    on_disk = [key for key in missing if files.path(key).is_file()]
    if on_disk:
        raise RuntimeError(
            f"DOCUMENTS_URL is the database, but documents are still in "
            f"{settings.documents_dir} (e.g. {on_disk[0]}). Move them first: "
            f"DOCUMENTS_URL={settings.documents_dir.absolute().as_uri()} python -m app "
            f"move-documents --to database; or set DOCUMENTS_URL to that file:// address to "
            f"keep them there."
        )


def storage_from_url(url: str, engine: Engine) -> Storage:
    return storage_for(parse_documents_url(url), engine)


def storage_for(where: DocumentsStore, engine: Engine) -> Storage:
    if where.kind == "database":
        return DatabaseStorage(engine)
    assert where.path is not None
    return LocalStorage(where.path)


def describe(storage: Storage) -> str:
    if isinstance(storage, LocalStorage):
        return storage.files.root.absolute().as_uri()
    return "database"


class DatabaseStorage:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(
        self, session: Session, stream: BinaryIO, *, max_bytes: int, key: str | None = None
    ) -> Stored:
        key = key or new_key()
        digest = hashlib.sha256()
        size = seq = 0
        # A savepoint, so that a refused upload (too large) leaves no chunk behind in a
        # transaction that goes on to commit the rest of the form.
        with session.begin_nested():
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge
                digest.update(chunk)
                session.execute(insert(BLOB), {"key": key, "seq": seq, "data": chunk})
                seq += 1
            if seq == 0:  # an empty document still has its (empty) first chunk
                session.execute(insert(BLOB), {"key": key, "seq": 0, "data": b""})
        return Stored(key=key, size=size, sha256=digest.hexdigest())

    def chunks(self, key: str) -> Iterator[bytes]:
        """One connection of its own for the whole stream (a download outlives the request's
        session), fetching a few chunks at a time from a server-side cursor."""
        query = select(BLOB.c.data).where(BLOB.c.key == key).order_by(BLOB.c.seq)
        with self.engine.connect() as connection:
            rows = connection.execution_options(yield_per=4).execute(query)
            found = False
            for (data,) in rows:
                found = True
                yield bytes(data)
            if not found:
                raise FileNotFoundError(f"no document {key} in the database store")

    def delete(self, session: Session, key: str) -> None:
        session.execute(delete(BLOB).where(BLOB.c.key == key))

    def keys(self, session: Session) -> list[str]:
        """Every key that has chunks (for checks and tests)."""
        return list(session.execute(select(col(DocumentBlob.key)).distinct()).scalars())


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.files = LocalFiles(root)

    def save(
        self, session: Session, stream: BinaryIO, *, max_bytes: int, key: str | None = None
    ) -> Stored:
        session.connection()  # the transaction the file belongs to has begun
        stored = self.files.write(stream, max_bytes=max_bytes, key=key)
        when_over(session, rolled_back=lambda: self.files.unlink(stored.key))
        return stored

    def chunks(self, key: str) -> Iterator[bytes]:
        return self.files.chunks(key)

    def delete(self, session: Session, key: str) -> None:
        self.files.path(key)  # a bad key fails now, not after the commit
        session.connection()
        when_over(session, committed=lambda: self.files.unlink(key))


# Moving the documents to another store ----------------------------------------------------


@dataclass
class MoveReport:
    total: int = 0
    copied: int = 0
    present: int = 0  # there already, and verified (an earlier run)
    failed: list[str] = field(default_factory=list)


def move_documents(database: Database, source: Storage, target: Storage) -> MoveReport:
    """Copy every document from `source` to `target` under the same key, one transaction per
    document, and check each copy's SHA-256 (read back from `target`) against its Document
    row. Nothing is removed from `source` and no setting changes: the caller switches
    DOCUMENTS_URL once every document is there. Safe to run again: a verified copy is left
    alone, a wrong one replaced."""
    report = MoveReport()
    with database.session() as session:
        rows = session.execute(
            select(col(Document.storage_key), col(Document.sha256), col(Document.size)).order_by(
                col(Document.id)
            )
        ).all()
    report.total = len(rows)
    for key, sha256, size in rows:
        state = _state(target, key, sha256)
        if state == "same":
            report.present += 1
            continue
        if state == "differs":  # a copy from before that is not the document: replace it
            with database.session(write=True) as session:
                target.delete(session, key)
                session.commit()
        problem = _copy(database, source, target, key, sha256, size)
        if problem is None and _state(target, key, sha256) != "same":
            problem = "its copy does not match its SHA-256"
        if problem:
            report.failed.append(f"{key}: {problem}")
        else:
            report.copied += 1
    return report


def _copy(
    database: Database, source: Storage, target: Storage, key: str, sha256: str, size: int
) -> str | None:
    """Copy one document in a transaction of its own; why not, or None."""
    with database.session(write=True) as session:
        stream = cast(BinaryIO, ChunkReader(source.chunks(key)))
        try:
            stored = target.save(session, stream, max_bytes=size, key=key)
        except FileNotFoundError:
            return "it is missing in the store it is copied from"
        except TooLarge:
            return "it is larger in the store it is copied from than its row says"
        if stored.sha256 != sha256 or stored.size != size:
            session.rollback()
            return "in the store it is copied from it does not match its SHA-256"
        session.commit()
    return None


def _state(storage: Storage, key: str, sha256: str) -> Literal["same", "differs", "absent"]:
    digest = hashlib.sha256()
    try:
        for chunk in storage.chunks(key):
            digest.update(chunk)
    except FileNotFoundError:
        return "absent"
    return "same" if digest.hexdigest() == sha256 else "differs"


# What to do with files when the session's transaction ends ---------------------------------

_PENDING = "document_store.pending"


def when_over(
    session: Session,
    *,
    committed: Callable[[], None] | None = None,
    rolled_back: Callable[[], None] | None = None,
) -> None:
    """Run `committed` after the session's current transaction commits, or `rolled_back`
    when it ends otherwise (rollback, close, an error)."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_transaction_end", _after_transaction_end)
    pending.append((committed, rolled_back))


def _take(session: Session) -> list[tuple[Callable[[], None] | None, Callable[[], None] | None]]:
    pending = session.info.get(_PENDING) or []
    session.info[_PENDING] = []
    return pending


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released; the transaction goes on
        return
    for committed, _rolled_back in _take(session):
        if committed is not None:
            _quietly(committed)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    for _committed, rolled_back in _take(session):  # what a commit did not take
        if rolled_back is not None:
            _quietly(rolled_back)


def _quietly(action: Callable[[], None]) -> None:
    """A file left behind is an orphan, not an error of the request that committed."""
    try:
        action()
    except OSError:
        log.exception("could not remove a document file")
