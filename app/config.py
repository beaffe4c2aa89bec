"""Settings, read once from the environment (and nothing else)."""

from __future__ import annotations

import ipaddress
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    var_dir: Path = Field(default=ROOT / "var", validation_alias="VAR_DIR")
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    secret_key: str = Field(default="", validation_alias="SECRET_KEY")
    base_url: str = Field(default="http://127.0.0.1:8000", validation_alias="BASE_URL")
    default_language: Literal["nl", "en"] = Field(default="nl", validation_alias="DEFAULT_LANGUAGE")

    smtp_host: str = Field(default="", validation_alias="SMTP_HOST")
    smtp_port: int = Field(default=587, validation_alias="SMTP_PORT")
    smtp_user: str = Field(default="", validation_alias="SMTP_USER")
    smtp_password: str = Field(default="", validation_alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=True, validation_alias="SMTP_STARTTLS")
    mail_from: str = Field(default="selectie@localhost", validation_alias="MAIL_FROM")

    max_document_mb: int = Field(default=10, validation_alias="MAX_DOCUMENT_MB")
    # An upload is parsed in a child process with this CPU time (the wall clock gets twice
    # that and a second more) and refused with more pages than this.
    pdf_max_pages: int = Field(default=500, ge=1, le=100_000, validation_alias="PDF_MAX_PAGES")
    pdf_check_seconds: int = Field(default=3, ge=1, le=60, validation_alias="PDF_CHECK_SECONDS")
    documents_dir: Path | None = Field(default=None, validation_alias="DOCUMENTS_DIR")
    # Where documents are kept: "database" (or "postgresql") for the database's own
    # document_blob table, "file:///path" for local disk. Empty: the database on
    # PostgreSQL, DOCUMENTS_DIR (default var/documents) on SQLite or when DOCUMENTS_DIR
    # is set. See documents_store() and app/applications/stores.py.
    documents_url: str = Field(default="", validation_alias="DOCUMENTS_URL")
    session_days: int = Field(default=14, validation_alias="SESSION_DAYS")
    # Failures per account from one address, per address (any account), and per account
    # from all addresses together (the looser ceiling against guessing from many places).
    login_max_failures: int = Field(default=5, ge=1, validation_alias="LOGIN_MAX_FAILURES")
    login_window_seconds: int = Field(default=60, ge=1, validation_alias="LOGIN_WINDOW_SECONDS")
    login_max_failures_per_address: int = Field(
        default=20, ge=1, validation_alias="LOGIN_MAX_FAILURES_PER_ADDRESS"
    )
    login_max_failures_per_account: int = Field(
        default=50, ge=1, validation_alias="LOGIN_MAX_FAILURES_PER_ACCOUNT"
    )
    # Mails that anyone can ask for (registration, password reset, confirmation link).
    mail_max_per_mailbox: int = Field(default=3, ge=1, validation_alias="MAIL_MAX_PER_MAILBOX")
    mail_max_per_address: int = Field(default=20, ge=1, validation_alias="MAIL_MAX_PER_ADDRESS")
    mail_window_seconds: int = Field(default=3600, ge=1, validation_alias="MAIL_WINDOW_SECONDS")
    # The reverse proxies whose X-Forwarded-For is believed: IPs or CIDR networks separated
    # by commas. Empty: the address of the connection is the client's, whatever it sends.
    trusted_proxies: Annotated[
        tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], NoDecode
    ] = Field(default=(), validation_alias="TRUSTED_PROXIES")

    # The key that signs the audit checkpoints, outside the database: a directory where it
    # is made on first start (default var/signing-keys), or its 32-byte seed (hex or base64)
    # for several machines that sign with one key.
    signing_key_dir: Path | None = Field(default=None, validation_alias="SIGNING_KEY_DIR")
    signing_key_seed: SecretStr = Field(default=SecretStr(""), validation_alias="SIGNING_KEY_SEED")
    # The key the platform's secret in each draw is derived from (HMAC), kept beside the
    # signing key (made on first use) or given here (hex, 32 bytes) for several machines:
    # whoever reads the database before a reveal learns nothing of the platform's secret.
    draw_secret_key: SecretStr = Field(default=SecretStr(""), validation_alias="DRAW_SECRET_KEY")

    # The cost of new password hashes: OWASP's argon2id baseline; "tests" only for the test
    # suite (app/accounts/passwords.py), never for real accounts.
    password_hash_cost: Literal["owasp", "tests"] = Field(
        default="owasp", validation_alias="PASSWORD_HASH_COST"
    )

    # How often the clock job opens and closes procedures whose published time has come
    # (whole seconds, at least 1; once per cluster, by the job worker).
    clock_seconds: float = Field(default=10, gt=0, le=3600, validation_alias="CLOCK_SECONDS")
    # Where the jobs run (app/jobs): "auto" runs a worker inside the web server on SQLite
    # and leaves them to `python -m app worker` on PostgreSQL; "yes" or "no" to choose.
    jobs_in_web: Literal["auto", "yes", "no"] = Field(
        default="auto", validation_alias="JOBS_IN_WEB"
    )
    # Seconds before a failed job's first retry (doubled for each next one); 0: the task's
    # own (30 s for a mail).
    job_retry_seconds: float = Field(default=0, ge=0, le=3600, validation_alias="JOB_RETRY_SECONDS")

    # Threads per worker for the score sheets' writes (autosave, review, submit); 0 means 1
    # on SQLite, which takes one writer at a time anyway, and 4 on PostgreSQL.
    sheet_threads: int = Field(default=0, ge=0, le=64, validation_alias="SHEET_THREADS")

    @property
    def runs_jobs_in_web(self) -> bool:
        if self.jobs_in_web == "auto":
            return self.is_sqlite
        return self.jobs_in_web == "yes"

    @field_validator("signing_key_seed")
    @classmethod
    def _check_seed(cls, value: SecretStr) -> SecretStr:
        """A mistyped seed is an error at start, not a key nobody configured."""
        if value.get_secret_value():
            from app.audit.keys import SigningKeyError, parse_seed

            try:
                parse_seed(value.get_secret_value())
            except SigningKeyError as error:
                raise ValueError(str(error)) from None
        return value

    @field_validator("documents_url")
    @classmethod
    def _check_documents_url(cls, value: str) -> str:
        """A mistyped store is an error at start, never documents kept where nobody looks."""
        if value.strip():
            parse_documents_url(value)
        return value.strip()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_networks(cls, value: object) -> object:
        """A comma-separated list; a typo is an error at start, never a silent "trust none"
        (or worse, "trust all")."""
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",") if item.strip()]
            try:
                return tuple(ipaddress.ip_network(item, strict=False) for item in items)
            except ValueError as error:
                raise ValueError(f"TRUSTED_PROXIES: {error}") from None
        return value

    def model_post_init(self, __context: object) -> None:
        self.var_dir = Path(self.var_dir)
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'app.db'}"
        if not self.secret_key:
            self.secret_key = _stored_secret_key(self.var_dir)
        documents_dir_given = self.documents_dir is not None
        if self.documents_dir is None:
            self.documents_dir = self.var_dir / "documents"
        if not self.documents_url:
            # An installation that named DOCUMENTS_DIR keeps reading its files from there.
            in_database = not self.is_sqlite and not documents_dir_given
            self.documents_url = (
                "database" if in_database else self.documents_dir.absolute().as_uri()
            )
        if self.signing_key_dir is None:
            self.signing_key_dir = self.var_dir / "signing-keys"
        if not self.sheet_threads:
            self.sheet_threads = 1 if self.is_sqlite else 4

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def documents_store(self) -> DocumentsStore:
        """The document store DOCUMENTS_URL names (resolved to its default at start)."""
        return parse_documents_url(self.documents_url)


@dataclass(frozen=True)
class DocumentsStore:
    kind: Literal["database", "file"]
    path: Path | None = None  # for "file": the directory


def parse_documents_url(url: str) -> DocumentsStore:
    """`database` or `postgresql` (the database's own table), or `file:///absolute/path`."""
    url = url.strip()
    if url.lower() in {"database", "postgresql", "postgres"}:
        return DocumentsStore("database")
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.netloc in {"", "localhost"} and parts.path.startswith("/"):
        return DocumentsStore("file", Path(unquote(parts.path)))
    raise ValueError(f"DOCUMENTS_URL: {url!r} is neither 'database' nor 'file:///an/absolute/path'")


def _stored_secret_key(var_dir: Path) -> str:
    """A key generated on first start and kept in var/, so restarts keep sessions valid.

    Several workers may start at once: O_EXCL lets exactly one of them write the file.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key

            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
