"""The people who may sign in: e-mail and a password hash (scrypt, Werkzeug's default), in
the reports' database. Managed from the command line (`flask --app frontend_app users`,
web/users_cli.py) or, on Render, made at start from ERT_ADMIN_EMAIL/ERT_ADMIN_PASSWORD.

Hashing costs about 0.1 s of CPU on purpose; it runs in a real thread (green.run_blocking)
so a sign-in never stalls the eventlet worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from flask_login import UserMixin
from sqlalchemy import DateTime, Engine, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import Base
from ..errors import ErtError
from ..green import run_blocking

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing a megabyte "password" would cost the worker for nothing


class AccountRow(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Account(UserMixin):  # type: ignore[misc]  # Flask-Login ships no type hints
    id: int
    email: str

    def get_id(self) -> str:
        return str(self.id)

    @property
    def key(self) -> str:
        """Who asked for a job, for the per-account limits."""
        return f"account:{self.id}"


class AccountError(ErtError):
    """An e-mail or password the accounts cannot take; the message says why."""


def _email(text: str) -> str:
    email = text.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError("invalid_email", "Give an e-mail address such as you@example.com")
    return email


def _hash(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(
            "weak_password", f"A password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )
    return run_blocking(generate_password_hash, password)


@cache
def _nobody() -> str:
    """Checked when the e-mail is unknown: a wrong e-mail costs as long as a wrong password."""
    return generate_password_hash("an account that does not exist")


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def add(self, email: str, password: str) -> Account:
        email = _email(email)
        row = AccountRow(email=email, password_hash=_hash(password), created_at=datetime.now(UTC))
        with self._sessions.begin() as session:
            if session.scalar(select(AccountRow.id).where(AccountRow.email == email)):
                raise AccountError("account_exists", f"There is already an account {email}")
            session.add(row)
        return Account(row.id, row.email)

    def set_password(self, email: str, password: str) -> None:
        email, password_hash = _email(email), _hash(password)
        with self._sessions.begin() as session:
            row = session.scalar(select(AccountRow).where(AccountRow.email == email))
            if row is None:
                raise AccountError("unknown_account", f"There is no account {email}")
            row.password_hash = password_hash

    def ensure(self, email: str, password: str) -> None:
        """The account exists with this password (ERT_ADMIN_EMAIL/ERT_ADMIN_PASSWORD)."""
        if self.verify(email, password) is not None:
            return
        try:
            self.add(email, password)
        except AccountError as exc:
            if exc.code != "account_exists":
                raise
            self.set_password(email, password)

    def remove(self, email: str) -> bool:
        with self._sessions.begin() as session:
            row = session.scalar(select(AccountRow).where(AccountRow.email == _email(email)))
            if row is None:
                return False
            session.delete(row)
        return True

    def all(self) -> list[Account]:
        with self._sessions() as session:
            rows = session.scalars(select(AccountRow).order_by(AccountRow.email))
            return [Account(row.id, row.email) for row in rows]

    def count(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(func.count(AccountRow.id))) or 0

    def get(self, account_id: str) -> Account | None:
        """The account a session names (Flask-Login's user loader); None once removed."""
        if not account_id.isdigit():
            return None
        with self._sessions() as session:
            row = session.get(AccountRow, int(account_id))
            return Account(row.id, row.email) if row is not None else None

    def verify(self, email: str, password: str) -> Account | None:
        """The account if the password is its own, else None (unknown e-mail alike)."""
        try:
            email = _email(email)
        except AccountError:
            return None
        with self._sessions() as session:
            row = session.scalar(select(AccountRow).where(AccountRow.email == email))
        stored = row.password_hash if row is not None else _nobody()
        matches = len(password) <= MAX_PASSWORD and run_blocking(
            check_password_hash, stored, password
        )
        return Account(row.id, row.email) if row is not None and matches else None
