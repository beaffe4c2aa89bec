"""The document stores (app/applications/stores.py): the database store on both databases,
local disk, their share in the caller's transaction, the choice by DOCUMENTS_URL, and
`python -m app move-documents`."""

from __future__ import annotations

import hashlib
import io
import random
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts.models import User
from app.applications import submission
from app.applications.documents import Upload
from app.applications.models import Document, DocumentBlob
from app.applications.storage import CHUNK, Storage, TooLarge
from app.applications.stores import (
    DatabaseStorage,
    LocalStorage,
    move_documents,
    open_storage,
)
from app.config import Settings
from app.db import Database
from app.main import create_app
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory, stored_keys
from tests.app.test_applications import form, make_pdf, pdfs
from tests.app.test_demo_and_cli import run_cli
from tests.conftest import ON_POSTGRES


@pytest.fixture(params=["database", "file"])
def store(request: pytest.FixtureRequest, database: Database, tmp_path: Path) -> Storage:
    if request.param == "database":
        return DatabaseStorage(database.engine)
    return LocalStorage(tmp_path / "elsewhere")


def content(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


class CountingStream(io.BytesIO):
    """Records the size of every read, to show the store never asks for the whole file."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(-1 if size is None else size)
        return super().read(size)


def test_the_database_store_round_trips_a_multi_chunk_document_with_its_sha256(
    database: Database, session: Session
) -> None:
    storage = DatabaseStorage(database.engine)
    data = content(3 * CHUNK + 1234)
    stream = CountingStream(data)
    stored = storage.save(session, stream, max_bytes=len(data))
    session.commit()
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert set(stream.reads) == {CHUNK}  # chunk by chunk, never read(-1)
    rows = session.execute(
        select(col(DocumentBlob.seq), col(DocumentBlob.data))
        .where(col(DocumentBlob.key) == stored.key)
        .order_by(col(DocumentBlob.seq))
    ).all()
    assert [seq for seq, _ in rows] == [0, 1, 2, 3]
    assert [len(chunk) for _, chunk in rows] == [CHUNK, CHUNK, CHUNK, 1234]
    chunks = list(storage.chunks(stored.key))
    assert [len(chunk) for chunk in chunks] == [CHUNK, CHUNK, CHUNK, 1234]
    assert hashlib.sha256(b"".join(chunks)).hexdigest() == stored.sha256
    with pytest.raises(FileNotFoundError):
        list(storage.chunks("0" * 48))


def test_neither_saving_nor_reading_holds_the_document_in_memory(
    store: Storage, database: Database
) -> None:
    """8 MiB in and out, with at most a few chunks' worth of Python memory at any moment
    (measured: about 250 KiB to save and 450 KiB to read in the database store)."""
    size = 8 * 1024 * 1024
    source = io.BytesIO(content(size))
    tracemalloc.start()
    try:
        with database.session(write=True) as session:
            stored = store.save(session, source, max_bytes=size)
            session.commit()
        _now, saving = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        for chunk in store.chunks(stored.key):
            digest.update(chunk)
        _now, reading = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == stored.sha256 == hashlib.sha256(source.getvalue()).hexdigest()
    assert saving < size / 8 and reading < size / 8, (saving, reading)


def test_an_empty_document_is_kept_and_read_back_empty(store: Storage, session: Session) -> None:
    stored = store.save(session, io.BytesIO(b""), max_bytes=10)
    session.commit()
    assert b"".join(store.chunks(stored.key)) == b""
    assert stored.sha256 == hashlib.sha256(b"").hexdigest()


def test_the_app_stores_in_the_database_on_postgresql_and_on_disk_on_sqlite(
    app: Any, settings: Settings
) -> None:
    storage = app.state.storage
    if ON_POSTGRES:
        assert isinstance(storage, DatabaseStorage) and settings.documents_url == "database"
    else:
        assert isinstance(storage, LocalStorage)
        assert storage.files.root == settings.var_dir / "documents"


def test_documents_url_chooses_and_documents_dir_still_works(
    tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DATABASE_URL", "DOCUMENTS_URL", "DOCUMENTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    base = {"VAR_DIR": tmp_path, "SECRET_KEY": "x"}
    postgres = {**base, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/nothing"}
    assert Settings(**postgres).documents_store().kind == "database"  # type: ignore[arg-type]
    on_disk = Settings(**postgres, DOCUMENTS_DIR=tmp_path / "pdfs")  # type: ignore[arg-type]
    assert on_disk.documents_store().path == tmp_path / "pdfs"  # a DOCUMENTS_DIR is kept
    sqlite = Settings(**base)  # type: ignore[arg-type]
    assert sqlite.documents_store().path == tmp_path / "documents"
    chosen = Settings(**base, DOCUMENTS_URL="database")  # type: ignore[arg-type]
    assert isinstance(open_storage(chosen, database.engine), DatabaseStorage)
    local = Settings(**postgres, DOCUMENTS_URL=f"file://{tmp_path}/a%20b")  # type: ignore[arg-type]
    storage = open_storage(local, database.engine)
    assert isinstance(storage, LocalStorage) and storage.files.root == tmp_path / "a b"
    for wrong in ("s3://bucket", "file://relative/path", "var/documents", "sqlite"):
        with pytest.raises(ValidationError, match="DOCUMENTS_URL"):
            Settings(**base, DOCUMENTS_URL=wrong)  # type: ignore[arg-type]


def test_a_refused_upload_keeps_nothing_while_the_rest_of_the_transaction_commits(
    store: Storage, session: Session
) -> None:
    kept = store.save(session, io.BytesIO(content(CHUNK + 1)), max_bytes=CHUNK + 1)
    with pytest.raises(TooLarge):
        store.save(session, io.BytesIO(content(2 * CHUNK + 1, seed=8)), max_bytes=2 * CHUNK)
    session.commit()
    assert stored_keys(store, session) == {kept.key}


def test_delete_removes_the_bytes_when_the_transaction_commits(
    store: Storage, session: Session
) -> None:
    stored = store.save(session, io.BytesIO(content(2 * CHUNK)), max_bytes=2 * CHUNK)
    session.commit()
    store.delete(session, stored.key)
    session.rollback()  # a deletion that did not commit deleted nothing
    assert stored_keys(store, session) == {stored.key}
    store.delete(session, stored.key)
    session.commit()
    assert stored_keys(store, session) == set()
    with pytest.raises(FileNotFoundError):
        list(store.chunks(stored.key))


def _draft(factory: Factory, session: Session) -> tuple[Procedure, User, Any]:
    procedure = factory.procedure(phase=Phase.OPEN)
    user = factory.user()
    application = submission.start(session, procedure=procedure, applicant=user)
    return procedure, user, application


def _save(
    session: Session, store: Storage, settings: Settings, procedure: Procedure, application: Any
) -> list[Any]:
    return submission.save_draft(
        session, store, settings, application=application, procedure=procedure, phone=None,
        big_number=None, answers={}, retention_consent=False, acquaintances={},
        uploads=[
            Upload("cv", "cv.pdf", io.BytesIO(make_pdf(title="CV"))),
            Upload("motivation", "brief.pdf", io.BytesIO(make_pdf(padding=3 * CHUNK))),
        ],
    )  # fmt: skip


def test_a_failed_transaction_leaves_neither_row_nor_bytes(
    store: Storage,
    session: Session,
    factory: Factory,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    procedure, _user, application = _draft(factory, session)

    def fails(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(submission, "_keep", fails)
    with pytest.raises(RuntimeError):
        _save(session, store, settings, procedure, application)
    session.rollback()
    assert session.execute(select(Document)).first() is None
    assert stored_keys(store, session) == set()
    monkeypatch.undo()
    assert _save(session, store, settings, procedure, application) == []
    rows = session.execute(select(Document)).scalars().all()
    assert stored_keys(store, session) == {d.storage_key for d in rows} and len(rows) == 2
    for document in rows:
        data = b"".join(store.chunks(document.storage_key))
        assert hashlib.sha256(data).hexdigest() == document.sha256 and len(data) == document.size
    # A newer CV takes the old one's place; the old bytes go with the old row.
    old_cv = next(d.storage_key for d in rows if d.kind == "cv")
    _save(session, store, settings, procedure, application)
    rows = session.execute(select(Document)).scalars().all()
    assert len(rows) == 2 and old_cv not in {d.storage_key for d in rows}
    assert stored_keys(store, session) == {d.storage_key for d in rows}


def test_a_second_instance_serves_a_document_uploaded_through_the_first(
    factory: Factory, session: Session, settings: Settings, tmp_path: Path
) -> None:
    """Two instances, each with its own local disk, one database that holds the bytes."""
    first = settings.model_copy(update={"documents_url": "database"})
    second = first.model_copy(update={"var_dir": tmp_path / "other-machine"})
    procedure = factory.procedure(phase=Phase.OPEN)
    user = factory.user()
    one, two = create_app(first), create_app(second)
    try:
        browser = Browser(one, first)
        browser.login(user.email)
        cv = make_pdf(padding=2 * CHUNK, title="CV")
        url = f"/procedures/{procedure.reference}/apply"
        saved = browser.post(url, {**form(session, procedure), "action": "save"}, files=pdfs(cv=cv))
        assert saved.status_code == 303, saved.text
        session.rollback()
        document = session.execute(select(Document).where(col(Document.kind) == "cv")).scalar_one()
        other = Browser(two, second)
        other.login(user.email)
        download = other.get(f"/applications/{procedure.reference}-0001/documents/{document.id}")
        assert download.status_code == 200 and download.content == cv
    finally:
        one.state.database.dispose()
        two.state.database.dispose()


def test_move_documents_copies_local_to_database_and_back_and_verifies(
    factory: Factory,
    session: Session,
    settings: Settings,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    disk = LocalStorage(tmp_path / "disk")
    in_database = DatabaseStorage(database.engine)
    procedure, _user, application = _draft(factory, session)
    assert _save(session, disk, settings, procedure, application) == []
    documents = session.execute(select(Document)).scalars().all()
    keys = {d.storage_key for d in documents}
    assert stored_keys(disk, session) == keys and stored_keys(in_database, session) == set()

    monkeypatch.setenv("DOCUMENTS_URL", (tmp_path / "disk").as_uri())
    code, out, err = run_cli(monkeypatch, settings, "move-documents", "--to", "database")
    assert code == 0, err
    assert "2 documents: 2 copied, 0 there already, 0 failed." in out
    assert "Set DOCUMENTS_URL=database" in out
    assert stored_keys(in_database, session) == keys and stored_keys(disk, session) == keys
    for document in documents:
        data = b"".join(in_database.chunks(document.storage_key))
        assert hashlib.sha256(data).hexdigest() == document.sha256
    code, out, _err = run_cli(monkeypatch, settings, "move-documents", "--to", "database")
    assert code == 0 and "2 copied" not in out and "0 copied, 2 there already" in out

    # A damaged copy at the target is replaced; a document missing at the source fails the
    # run, which then says to keep the store it has.
    back = tmp_path / "back"
    monkeypatch.setenv("DOCUMENTS_URL", "database")
    first, second = sorted(keys)
    damaged = LocalStorage(back).files.path(first)
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not the document")
    session.rollback()
    in_database.delete(session, second)
    session.commit()
    code, out, err = run_cli(monkeypatch, settings, "move-documents", "--to", back.as_uri())
    assert code == 1 and "2 documents: 1 copied, 0 there already, 1 failed." in out
    assert f"{second}: it is missing in the store it is copied from" in err
    assert "Keep DOCUMENTS_URL=database" in err
    restore = next(d for d in documents if d.storage_key == second)
    copied = in_database.save(
        session,
        io.BytesIO(b"".join(disk.chunks(second))),
        max_bytes=restore.size,
        key=second,
    )
    session.commit()
    assert copied.sha256 == restore.sha256
    code, out, err = run_cli(monkeypatch, settings, "move-documents", "--to", back.as_uri())
    assert code == 0, err
    assert "2 documents: 1 copied, 1 there already, 0 failed." in out
    local = LocalStorage(back)
    for document in documents:
        data = b"".join(local.chunks(document.storage_key))
        assert hashlib.sha256(data).hexdigest() == document.sha256

    # A copy whose bytes differ from the row's SHA-256 at the source is never counted as moved.
    corrupt = disk.files.path(first)
    corrupt.write_bytes(b"changed on disk")
    monkeypatch.setenv("DOCUMENTS_URL", (tmp_path / "disk").as_uri())
    session.rollback()
    in_database.delete(session, first)
    session.commit()
    code, out, err = run_cli(monkeypatch, settings, "move-documents", "--to", "database")
    assert code == 1 and "does not match its SHA-256" in err
    assert first not in stored_keys(in_database, session)
    assert run_cli(monkeypatch, settings, "move-documents", "--to", "s3://bucket")[0] == 2
    code, _out, err = run_cli(
        monkeypatch, settings, "move-documents", "--to", (tmp_path / "disk").as_uri()
    )
    assert code == 2 and "already" in err


def test_the_app_refuses_to_start_on_the_database_store_while_its_documents_are_on_disk(
    factory: Factory, session: Session, settings: Settings, database: Database, tmp_path: Path
) -> None:
    """An upgrade that switched to the database store without moving the files: every
    download would fail, so the start stops and says how to move them."""
    disk = tmp_path / "var" / "documents"
    procedure, _user, application = _draft(factory, session)
    assert _save(session, LocalStorage(disk), settings, procedure, application) == []
    upgraded = settings.model_copy(update={"documents_url": "database", "documents_dir": disk})
    with pytest.raises(RuntimeError, match="move-documents --to database"):
        create_app(upgraded)
    report = move_documents(database, LocalStorage(disk), DatabaseStorage(database.engine))
    assert not report.failed
    create_app(upgraded).state.database.dispose()
