"""Run the Alembic migrations: the only way the schema is made, in the app and in the tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from app.config import ROOT
from app.db import normalise_url


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def is_ours(name: str | None, type_: str, _parents: object = None) -> bool:
    """The schema that the models describe: not procrastinate's own tables (migration
    0014 makes them from procrastinate's schema; their upgrades are procrastinate's)."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")
