"""`flask --app frontend_app users add|password|remove|list`: the accounts that may sign in.

Passwords are asked for twice without echo (or read from standard input, two lines, when
it is not a terminal), never taken as an argument where the shell history would keep them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup

from .accounts import MIN_PASSWORD, AccountError, Accounts

users = AppGroup("users", help="The accounts that may sign in to the dashboard.")


def _accounts() -> Accounts:
    accounts: Accounts = current_app.extensions["ert"].accounts
    return accounts


def _password() -> str:
    text: str = click.prompt(
        f"Password ({MIN_PASSWORD}+ characters)", hide_input=True, confirmation_prompt=True
    )
    return text


@contextmanager
def _plainly() -> Iterator[None]:
    """What the accounts refuse, as the command's message (status 1), not a traceback."""
    try:
        yield
    except AccountError as exc:
        raise click.ClickException(exc.message) from None


@users.command("add")
@click.argument("email")
def add(email: str) -> None:
    """Add an account."""
    with _plainly():
        account = _accounts().add(email, _password())
    click.echo(f"Added {account.email}")


@users.command("password")
@click.argument("email")
def password(email: str) -> None:
    """Set an account's password."""
    with _plainly():
        _accounts().set_password(email, _password())
    click.echo(f"Password set for {email.strip().lower()}")


@users.command("remove")
@click.argument("email")
def remove(email: str) -> None:
    """Remove an account (its sessions end at their next request)."""
    with _plainly():
        if not _accounts().remove(email):
            raise AccountError("unknown_account", f"There is no account {email}")
    click.echo(f"Removed {email.strip().lower()}")


@users.command("list")
def list_accounts() -> None:
    """List the accounts."""
    for account in _accounts().all():
        click.echo(account.email)
