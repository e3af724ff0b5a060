"""Everything that speaks HTTP or Socket.IO: pages and exports, the JSON API, the
Socket.IO events, what a person sends (checked once, here), and error payloads; and
who may ask: sign-in and CSRF (`signin`), accounts and their command line (`accounts`,
`users_cli`), rate limits (`limits`). `register` puts them on an app built by
frontend_app.create_app."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, url_for
from flask_socketio import SocketIO
from werkzeug.middleware.proxy_fix import ProxyFix

from . import api, errors, pages, signin, socket_events
from .dashboard import Dashboard
from .users_cli import users

# Proxies in front of a service on Render (Cloudflare, then Render's own), each adding to
# X-Forwarded-For: the client's address is the one before them, for the per-address limits.
RENDER_PROXIES = 2

# Everything comes from the app itself; report text is sanitised, and this is the second fence.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def register(app: Flask, socketio: SocketIO, dashboard: Dashboard) -> None:
    app.extensions["ert"] = dashboard
    if dashboard.settings.render:
        proxied = ProxyFix(app.wsgi_app, x_for=RENDER_PROXIES, x_proto=1)
        app.wsgi_app = proxied  # type: ignore[method-assign]
        app.config["SESSION_COOKIE_SECURE"] = True
    signin.install(app, socketio, dashboard.accounts, sign_in_required=dashboard.sign_in_required)
    app.cli.add_command(users)
    app.after_request(_security_headers)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
    socket_events.register(socketio, dashboard)


def report_url(app: Flask) -> Callable[[str], str]:
    """A report page's URL, for code that runs outside a request (a job that finished)."""

    def url(report_id: str) -> str:
        with app.test_request_context():
            return url_for("pages.report", report_id=report_id)

    return url
