"""A real PostgreSQL server for the memory-store tests (test_memory_store.py imports these fixtures), started once
per test session from Debian's `postgresql` package (initdb + pg_ctl on a private data folder, Unix socket only,
trust auth). Outside CI a missing pg_ctl skips the PostgreSQL half with the reason; with CI set it fails, so CI
never silently tests SQLite alone."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from medq.serve.launcher import free_port


def _pg_bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


@pytest.fixture(scope="session")
def postgres_server():
    """(socket dir, port) of a running PostgreSQL, stopped and deleted after the session."""
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        reason = "pg_ctl not found: install Debian's postgresql (scripts/install.sh --dev does, as root)"
        if os.environ.get("CI"):
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI=true but psycopg is not installed (pip install -c constraints.txt -e .[dev])")
        pytest.skip("psycopg not installed (pip install -c constraints.txt -e .[dev])")
    # initdb and postgres refuse to run as root: as root, run them as the `postgres` user on a folder it owns
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="medq-pg-"))
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres", "postgres")
    data, sock, port = base / "data", base / "sock", free_port()
    run = lambda *args: subprocess.run([*as_user, *map(str, args)], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run("mkdir", sock)
        run(bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        run(bin_dir / "pg_ctl", "-D", data, "-l", base / "server.log", "-w", "-t", "60", "-o",
            f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off -c max_connections=100", "start")
    except subprocess.CalledProcessError as exc:
        log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr or exc.stdout} {log}")
    yield sock, port
    subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                   capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


def create_database(postgres_server, prefix: str = "medq") -> str:
    """A fresh, empty database on the session's server, as a SQLAlchemy URL."""
    import psycopg

    sock, port = postgres_server
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=str(sock), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@/{name}?host={sock}&port={port}"


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's server, as a SQLAlchemy URL."""
    return create_database(postgres_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def memory_url(request, tmp_path):
    """The same store tests run against SQLite (a file, WAL) and a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/agent/memory.db"
    return request.getfixturevalue("postgres_url")
