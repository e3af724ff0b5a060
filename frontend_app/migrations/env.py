"""Alembic's entry: runs the revisions on the engine `frontend_app.migrations.upgrade`
hands over (the models' metadata is there for comparing, never for creating tables)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from frontend_app.database import Base

engine: Engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    context.run_migrations()
