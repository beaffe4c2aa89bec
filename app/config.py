"""Settings, read once from the environment (and nothing else)."""

from __future__ import annotations

import os
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    documents_dir: Path | None = Field(default=None, validation_alias="DOCUMENTS_DIR")
    session_days: int = Field(default=14, validation_alias="SESSION_DAYS")
    login_max_failures: int = Field(default=5, validation_alias="LOGIN_MAX_FAILURES")
    login_window_seconds: int = Field(default=60, validation_alias="LOGIN_WINDOW_SECONDS")
    login_max_failures_per_address: int = Field(
        default=20, validation_alias="LOGIN_MAX_FAILURES_PER_ADDRESS"
    )

    # How often each worker opens and closes procedures whose published time has come.
    clock_seconds: float = Field(default=10, gt=0, le=3600, validation_alias="CLOCK_SECONDS")

    # Threads per worker for the score sheets' writes (autosave, review, submit); 0 means 1
    # on SQLite, which takes one writer at a time anyway, and 4 on PostgreSQL.
    sheet_threads: int = Field(default=0, ge=0, le=64, validation_alias="SHEET_THREADS")

    def model_post_init(self, __context: object) -> None:
        self.var_dir = Path(self.var_dir)
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'app.db'}"
        if not self.secret_key:
            self.secret_key = _stored_secret_key(self.var_dir)
        if self.documents_dir is None:
            self.documents_dir = self.var_dir / "documents"
        if not self.sheet_threads:
            self.sheet_threads = 1 if self.is_sqlite else 4

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


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
