"""Sign-in: when it is required, what a visitor who is not signed in gets (HTTP and
Socket.IO), signing in and out, CSRF, removed accounts, the ERT_ADMIN_* bootstrap."""

from __future__ import annotations

import logging

import pytest

from frontend_app import create_app
from frontend_app.settings import ConfigError
from tests.fakes.reports import store_hostile_report
from tests.frontend_app.conftest import EXPOSED, PASSWORD, sign_in


@pytest.fixture
def exposed(make_app):
    return make_app(**EXPOSED)


def try_sign_in(http, email: str, password: str, path: str = "/login"):
    """Fill in and send the sign-in form as a browser does."""
    form = http.get(path).get_data(as_text=True)
    token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return http.post(path, data={"email": email, "password": password, "csrf_token": token})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/reports"),
        ("get", "/api/reports/{id}"),
        ("get", "/reports/{id}.json"),
        ("get", "/api/jobs/some-job"),
        ("get", "/api/models"),
        ("get", "/api/tickers/check?q=AAPL"),
        ("post", "/api/reports"),
        ("post", "/api/reports/{id}/regenerate"),
        ("delete", "/api/jobs/some-job"),
    ],
)
def test_the_api_answers_401_to_a_visitor_not_signed_in(exposed, method, path) -> None:
    report_id = store_hostile_report(exposed.extensions["ert"].store, "Secret.", "Secret.")
    answer = getattr(exposed.test_client(), method)(
        path.format(id=report_id), json={"ticker": "AAPL"}
    )
    assert answer.status_code == 401
    assert answer.json["error"] == {"code": "sign_in_required", "message": "Sign in first"}
    assert exposed.extensions["ert"].jobs.counts()["active"] == 0


@pytest.mark.parametrize("path", ["/", "/reports/{id}", "/reports/{id}.md", "/reports/{id}.pdf"])
def test_pages_send_a_visitor_not_signed_in_to_the_sign_in_page(exposed, path) -> None:
    report_id = store_hostile_report(exposed.extensions["ert"].store, "Secret.", "Secret.")
    answer = exposed.test_client().get(path.format(id=report_id))
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=/")
    assert b"Secret" not in answer.data


def test_only_the_sign_in_page_health_and_static_files_are_open(exposed) -> None:
    http = exposed.test_client()
    page = http.get("/login")
    assert page.status_code == 200 and b'name="csrf_token"' in page.data
    assert b"backend-status" not in page.data  # no GPU tier light for visitors
    assert http.get("/static/css/app.css").status_code == 200
    health = http.get("/health")
    assert health.status_code == 200 and health.json["status"] == "ok"
    assert "backend" not in health.json  # the GPU tier's address is nobody else's business


def test_socketio_connect_is_refused_to_a_visitor_not_signed_in(exposed, watcher) -> None:
    anonymous = watcher(exposed)
    assert not anonymous.client.is_connected()
    http, _ = sign_in(exposed, "ann@example.com")
    assert watcher(exposed, http).client.is_connected()


def test_signed_in_everything_works_over_http_and_socketio(exposed, watcher) -> None:
    http, csrf = sign_in(exposed, "ann@example.com")
    assert http.get("/").status_code == 200
    assert b"ann@example.com" in http.get("/").data and b"Sign out" in http.get("/").data
    assert "backend" in http.get("/health").json
    created = http.post("/api/reports", json={"ticker": "AAPL"}, headers={"X-CSRFToken": csrf})
    assert created.status_code == 202
    client = watcher(exposed, http)
    done = client.wait_done(client.emit("generate", {"ticker": "AAPL"})["job_id"], timeout=30)
    assert done["event"] == "completed"
    assert http.get(done["url"]).status_code == 200


def test_state_changing_requests_need_the_csrf_token(exposed) -> None:
    http, csrf = sign_in(exposed, "ann@example.com")
    _, other_csrf = sign_in(exposed, "bob@example.com")
    for headers in ({}, {"X-CSRFToken": "forged"}, {"X-CSRFToken": other_csrf}):
        answer = http.post("/api/reports", json={"ticker": "AAPL"}, headers=headers)
        assert answer.status_code == 400 and answer.json["error"]["code"] == "csrf_failed"
    assert exposed.extensions["ert"].jobs.counts() == {"active": 0, "waiting": 0, "limit": 4}
    assert http.post("/logout").status_code == 400  # signing out needs it too
    mine = http.post("/api/reports", json={"ticker": "AAPL"}, headers={"X-CSRFToken": csrf})
    assert mine.status_code == 202


def test_a_wrong_password_or_unknown_email_gets_the_same_answer(exposed) -> None:
    exposed.extensions["ert"].accounts.add("ann@example.com", PASSWORD)
    http = exposed.test_client()
    for email, password in (("ann@example.com", "wrong password!"), ("zed@example.com", PASSWORD)):
        answer = try_sign_in(http, email, password)
        assert answer.status_code == 401
        assert "Wrong e-mail or password" in answer.get_data(as_text=True)
    assert http.get("/api/reports").status_code == 401


def test_sign_in_attempts_are_limited(exposed) -> None:
    http = exposed.test_client()
    answers = [try_sign_in(http, "ann@example.com", "guess" * 3) for _ in range(12)]
    assert [a.status_code for a in answers] == [401] * 10 + [429, 429]
    assert "Too many sign-in attempts: try again in" in answers[-1].get_data(as_text=True)


def test_after_signing_in_only_a_page_of_this_site_is_next(exposed) -> None:
    exposed.extensions["ert"].accounts.add("ann@example.com", PASSWORD)
    for target, landing in (
        ("/api/reports", "/api/reports"),
        ("/reports/x?y=1", "/reports/x?y=1"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("/%09/evil.example", "/"),
        ("/%0d%0aSet-Cookie:%20x=1", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
    ):
        answer = try_sign_in(
            exposed.test_client(), "ann@example.com", PASSWORD, f"/login?next={target}"
        )
        assert answer.headers["Location"] == landing


def test_signing_out_closes_the_sockets_and_refuses_afterwards(exposed, watcher) -> None:
    http, csrf = sign_in(exposed, "ann@example.com")
    client = watcher(exposed, http)
    assert client.client.is_connected()
    out = http.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 302 and out.headers["Location"] == "/login?signed_out=1"
    assert b"You are signed out" in http.get(out.headers["Location"]).data
    assert not client.client.is_connected()
    assert http.get("/api/reports").status_code == 401
    assert http.get("/").status_code == 302
    assert not watcher(exposed, http).client.is_connected()


def test_a_removed_account_is_refused_at_its_next_request_and_event(exposed, watcher) -> None:
    http, _ = sign_in(exposed, "ann@example.com")
    client = watcher(exposed, http)
    assert exposed.extensions["ert"].accounts.remove("ann@example.com")
    assert http.get("/api/reports").status_code == 401
    ack = client.emit("generate", {"ticker": "AAPL"})
    assert ack["error"]["code"] == "sign_in_required"
    assert exposed.extensions["ert"].jobs.counts()["active"] == 0


def test_the_admin_account_from_the_environment(make_app) -> None:
    admin = {**EXPOSED, "ERT_ADMIN_EMAIL": "Ops@Example.com", "ERT_ADMIN_PASSWORD": PASSWORD}
    app = make_app(**admin)
    http, _ = sign_in(app, "ops@example.com")
    assert http.get("/api/reports").status_code == 200
    # The password changed on Render: at the next start the new one works, the old not.
    accounts = app.extensions["ert"].accounts
    accounts.ensure("ops@example.com", "a brand new password")
    assert accounts.verify("ops@example.com", PASSWORD) is None
    assert accounts.verify("ops@example.com", "a brand new password") is not None
    with pytest.raises(ConfigError, match="ERT_ADMIN_EMAIL/ERT_ADMIN_PASSWORD: A password needs"):
        make_app(**{**admin, "ERT_ADMIN_PASSWORD": "short"})


def test_a_server_other_machines_reach_refuses_to_start_without_an_account(
    tmp_path, caplog
) -> None:
    base = {
        "SECRET_KEY": "s",
        "REMOTE_LLM_INTEGRATION": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}",
    }
    for env, where in (
        ({"RENDER": "true"}, "on Render"),
        ({"ERT_BIND": "0.0.0.0:10000"}, "listening on 0.0.0.0:10000"),
        ({}, "listening on an address gunicorn.conf.py did not name"),
    ):
        with pytest.raises(ConfigError, match=f"sign-in is required \\({where}") as refused:
            create_app({**base, **env}, serving=True)
        assert "flask --app frontend_app users add EMAIL" in str(refused.value)
        assert "ERT_ADMIN_EMAIL" in str(refused.value)

    caplog.set_level(logging.WARNING)
    local = create_app({**base, "ERT_BIND": "127.0.0.1:5000"}, serving=True)
    assert not local.extensions["ert"].sign_in_required
    assert "Sign-in is OFF" in caplog.text
    local.extensions["ert"].accounts.add("ann@example.com", PASSWORD)
    local.extensions["ert"].close()
    again = create_app({**base, "RENDER": "true"}, serving=True)  # now it has an account
    assert again.extensions["ert"].sign_in_required
    again.extensions["ert"].close()
