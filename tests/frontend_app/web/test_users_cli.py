"""`flask --app frontend_app users ...`: accounts from the command line."""

from __future__ import annotations

import os
import subprocess
import sys

from ert_run import ROOT
from tests.frontend_app.conftest import EXPOSED, PASSWORD, sign_in


def test_add_list_password_and_remove(make_app) -> None:
    app = make_app(**EXPOSED)
    cli = app.test_cli_runner()
    twice = f"{PASSWORD}\n{PASSWORD}\n"

    added = cli.invoke(args=["users", "add", " Ann@Example.com "], input=twice)
    assert added.exit_code == 0 and "Added ann@example.com" in added.output
    assert PASSWORD not in added.output  # asked without echo
    assert cli.invoke(args=["users", "add", "bob@example.com"], input=twice).exit_code == 0
    assert cli.invoke(args=["users", "list"]).output == "ann@example.com\nbob@example.com\n"
    sign_in(app, "ann@example.com")

    again = cli.invoke(args=["users", "add", "ann@example.com"], input=twice)
    assert again.exit_code == 1 and "There is already an account ann@example.com" in again.output
    short = cli.invoke(args=["users", "add", "cy@example.com"], input="short\nshort\n")
    assert short.exit_code == 1 and "A password needs 12 to 1024 characters" in short.output
    bad = cli.invoke(args=["users", "add", "not-an-email"], input=twice)
    assert bad.exit_code == 1 and "Give an e-mail address" in bad.output
    mismatch = cli.invoke(args=["users", "add", "cy@example.com"], input=f"{PASSWORD}\nother\n")
    assert (
        mismatch.exit_code == 1
        and "cy@example.com" not in cli.invoke(args=["users", "list"]).output
    )

    new = "another long password"
    changed = cli.invoke(args=["users", "password", "ann@example.com"], input=f"{new}\n{new}\n")
    assert changed.exit_code == 0
    sign_in(app, "ann@example.com", new)

    assert cli.invoke(args=["users", "remove", "bob@example.com"]).exit_code == 0
    gone = cli.invoke(args=["users", "remove", "bob@example.com"])
    assert gone.exit_code == 1 and "There is no account bob@example.com" in gone.output
    assert cli.invoke(args=["users", "list"]).output == "ann@example.com\n"


def test_the_readme_command_finds_the_app(tmp_path) -> None:
    env = {
        **os.environ,
        "SECRET_KEY": "s",
        "REMOTE_LLM_INTEGRATION": "false",
        "RENDER": "true",  # as in a Render shell: the command still runs
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    command = [sys.executable, "-m", "flask", "--app", "frontend_app", "users"]
    add = subprocess.run(
        [*command, "add", "ops@example.com"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert add.returncode == 0, add.stderr
    listed = subprocess.run(
        [*command, "list"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.stdout == "ops@example.com\n"
