"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` binaries (installed
by `make test`, Makefile target `postgresql`), a cluster in a temporary folder on a free
port, stopped and removed at the end. PostgreSQL refuses to run as root, so as root it
runs as the `postgres` user the Debian package makes (runuser)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from ert_run import free_port


class Unavailable(Exception):
    """PostgreSQL cannot run here; the message says why and what to do."""


def _bin_dir() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        raise Unavailable("PostgreSQL is not installed: run `make postgresql` (Debian's package)")
    return versions[-1].parent


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise Unavailable("running as root without runuser: PostgreSQL cannot be started")
    try:
        subprocess.run(["id", "postgres"], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        raise Unavailable(
            "no `postgres` user to run PostgreSQL as (reinstall `postgresql`)"
        ) from None
    return ["runuser", "-u", "postgres", "--"]


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server: its URL (user postgres, no password, on 127.0.0.1)."""
    bin_dir, prefix = _bin_dir(), _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="ert-pg-"))
    data = folder / "data"
    if prefix:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    run = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -F"
    subprocess.run(
        [*run, "-o", options, "-l", str(folder / "log"), "-w", "-t", "120", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*run, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(server: str) -> str:
    """A fresh, empty database on `server`: its URL."""
    name = "ert_" + uuid.uuid4().hex[:12]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"
