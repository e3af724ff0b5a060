"""gunicorn's settings file, read from the working directory, as Render and `make run` start
gunicorn. It tells the dashboard where gunicorn listens (ERT_BIND, from --bind), so the
dashboard knows whether other machines can reach it and sign-in is required
(frontend_app/web/signin.py). It imports nothing of the app: the worker monkey-patches first.
"""

import os
from typing import Any


def on_starting(server: Any) -> None:
    """In the master, before it binds and forks the workers (which inherit the variable)."""
    os.environ["ERT_BIND"] = ",".join(server.cfg.bind)
