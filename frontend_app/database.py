"""The dashboard's one database (reports, accounts, jobs): a SQLite file by default, any
DATABASE_URL else. Its tables are declared on `Base` by the modules that use them; their
schema is made and changed only by the migrations (frontend_app/migrations)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase

from .settings import Settings


class Base(DeclarativeBase):
    pass


def instance_path() -> Path:
    """Flask's instance folder of the dashboard (where the default SQLite file lives)."""
    return Path(Flask("frontend_app", instance_relative_config=True).instance_path)


def connect(settings: Settings) -> Engine:
    """An engine on DATABASE_URL, or on the SQLite file instance/ert.sqlite3."""
    url = settings.database_url
    if url is None:
        folder = instance_path()
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'ert.sqlite3'}"
    sqlite = url.startswith("sqlite")
    connect_args = {"check_same_thread": False} if sqlite else {}
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)
