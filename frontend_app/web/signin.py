"""Sign-in: who may use the dashboard, checked where requests enter.

Sign-in is required whenever other machines can reach the dashboard (on Render, or
listening on any address but loopback) or any account exists; then every page, API
call and Socket.IO connection (and each event on it) needs a signed-in account, except
the sign-in page, /health and the static files. A dashboard that will serve and is
reachable refuses to start without an account. Bound to loopback with no account it
runs open, and says so at start.

Flask-Login keeps who is signed in (in Flask's signed session cookie); Flask-WTF's
CSRFProtect checks every state-changing request while sign-in is on (forms carry the
token, scripts send it as X-CSRFToken). Signing out also disconnects that browser's
Socket.IO connections, whose session was copied when they connected.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_socketio import ConnectionRefusedError, SocketIO, join_room
from flask_wtf import CSRFProtect, FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from ..errors import ErtError, TryLater
from ..settings import ConfigError, Settings
from .accounts import MAX_PASSWORD, AccountError, Accounts
from .dashboard import dashboard
from .errors import error_body, error_response

log = logging.getLogger(__name__)

# What a visitor who is not signed in may still reach (the icon is a static file too).
OPEN_ENDPOINTS = frozenset({"signin.login", "static", "api.health", "pages.favicon"})
SIGN_IN_FIRST = ErtError("sign_in_required", "Sign in first")
ADD_AN_ACCOUNT = (
    "add one with `flask --app frontend_app users add EMAIL`, or set ERT_ADMIN_EMAIL and "
    "ERT_ADMIN_PASSWORD"
)

bp = Blueprint("signin", __name__)
F = TypeVar("F", bound=Callable[..., Any])


def prepare(settings: Settings, accounts: Accounts, *, serving: bool) -> bool:
    """Make the ERT_ADMIN_EMAIL account if asked, then say whether sign-in is required;
    ConfigError when the dashboard would serve other machines without anyone able to sign
    in. A server that did not say where it listens (gunicorn without gunicorn.conf.py)
    counts as reachable."""
    if settings.ert_admin_email and settings.ert_admin_password:
        try:
            accounts.ensure(
                settings.ert_admin_email, settings.ert_admin_password.get_secret_value()
            )
        except AccountError as exc:
            raise ConfigError(f"ERT_ADMIN_EMAIL/ERT_ADMIN_PASSWORD: {exc.message}") from None
    reachable = settings.reachable or (serving and not settings.ert_bind)
    if accounts.count():
        return True
    if not reachable:
        if serving:
            log.warning(
                "Sign-in is OFF: no account, and the dashboard listens on loopback only, so "
                "anyone who can use this machine can use it. To require sign-in, %s.",
                ADD_AN_ACCOUNT,
            )
        return False
    if serving:
        listening = ", ".join(settings.ert_bind) or "an address gunicorn.conf.py did not name"
        where = "on Render" if settings.render else f"listening on {listening}"
        raise ConfigError(
            f"sign-in is required ({where}, so other machines can reach the dashboard) and "
            f"there is no account: {ADD_AN_ACCOUNT}"
        )
    return True


def allowed() -> bool:
    """May this request or Socket.IO event go on?"""
    return not dashboard().sign_in_required or bool(current_user.is_authenticated)


def asker() -> tuple[str | None, str]:
    """(the signed-in account's key or None, the address the request comes from)."""
    account = current_user.key if current_user.is_authenticated else None
    return account, request.remote_addr or "unknown"


def signed_in(handler: F) -> F:
    """A Socket.IO event handler that answers "sign in first" to a session that has
    signed out or whose account was removed since it connected."""

    @wraps(handler)
    def checked(*args: Any) -> Any:
        if not allowed():
            return error_body(SIGN_IN_FIRST)
        return handler(*args)

    return cast(F, checked)


class SignInForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type hints
    email = StringField("E-mail", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=MAX_PASSWORD)])


def _next_page() -> str:
    """Where to go after signing in: a path on this site only. Browsers read a backslash
    as a slash and drop tabs and newlines, so "/\\x" and "/<tab>/x" would be //x elsewhere."""
    target = request.args.get("next", "")
    parts = urlsplit(target)
    local = not parts.scheme and not parts.netloc and target.startswith("/")
    if local and target.isprintable() and "\\" not in target and not target.startswith("//"):
        return target
    return url_for("pages.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if not dashboard().sign_in_required or current_user.is_authenticated:
        return redirect(_next_page())
    form = SignInForm()
    problem, status = None, 200
    if form.validate_on_submit():
        try:
            dashboard().limits.sign_in(request.remote_addr or "unknown", form.email.data)
            account = dashboard().accounts.verify(form.email.data, form.password.data)
        except TryLater as exc:
            problem, status = exc.message, 429
        else:
            if account is not None:
                session.clear()  # nothing from before the sign-in carries over
                login_user(account)
                session["signin"] = secrets.token_urlsafe(16)
                return redirect(_next_page())
            problem, status = "Wrong e-mail or password", 401
    elif form.is_submitted():
        problem, status = "Give your e-mail and password", 400
    signed_out = request.args.get("signed_out") is not None
    return render_template("login.html", form=form, problem=problem, signed_out=signed_out), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    token = session.get("signin")
    if token:
        _disconnect(current_app.extensions["socketio"], _room(token))
    logout_user()
    session.clear()
    return redirect(url_for("signin.login", signed_out=1))


def _room(token: str) -> str:
    return f"signin:{token}"


def _disconnect(socketio: SocketIO, room: str) -> None:
    """Close every Socket.IO connection of one sign-in (this process's)."""
    for sid, _ in list(socketio.server.manager.get_participants("/", room)):
        socketio.server.disconnect(sid, namespace="/")


def _guard() -> ResponseReturnValue | None:
    if request.endpoint in OPEN_ENDPOINTS or allowed():
        return None
    if request.path.startswith("/api/") or request.path.endswith(".json"):
        return error_response(401, SIGN_IN_FIRST)
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("signin.login", next=target))


def install(app: Flask, socketio: SocketIO, accounts: Accounts, *, sign_in_required: bool) -> None:
    """Sign-in, CSRF and the Socket.IO connect check on `app`."""
    manager = LoginManager(app)
    manager.user_loader(accounts.get)
    app.config.update(
        WTF_CSRF_ENABLED=sign_in_required,
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session: a page left open still works
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.before_request(_guard)  # before CSRFProtect's check: anonymous is 401, not 400
    CSRFProtect(app)
    app.register_blueprint(bp)

    @app.errorhandler(CSRFError)
    def on_csrf_error(exc: CSRFError) -> ResponseReturnValue:
        return error_response(
            400,
            ErtError(
                "csrf_failed",
                "This page is out of date or the request came from another site: reload the "
                "page and try again",
            ),
        )

    @socketio.on("connect")
    def on_connect(auth: Any = None) -> None:
        if not allowed():
            raise ConnectionRefusedError(SIGN_IN_FIRST.message, SIGN_IN_FIRST.fields())
        if "signin" in session:
            join_room(_room(session["signin"]))
