"""PostgreSQL down and back (services leg): a private PostgreSQL cluster of this test's own
is stopped and started under a gunicorn server, so the shared one is never touched.

While it is down, the panel answers a 503 page with no traceback; the first request
after it comes back works (a dead persistent connection is not reused: Django's
CONN_HEALTH_CHECKS)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from panel.tests.live import BASE_DIR, Browser, free_port, start_gunicorn, stop_gunicorn

pytestmark = [pytest.mark.services, pytest.mark.django_db]

PG_BIN = (
    sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    if glob.glob("/usr/lib/postgresql/*/bin")
    else ""
)


def _as_postgres(*command: str) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture
def private_postgres():
    """An initdb'd cluster on a free port, owned by the postgres user; stop() / start().
    It lives under /tmp directly: pytest's own temporary folders are root's alone."""
    root = Path(tempfile.mkdtemp(prefix="panel-pg-"))
    data = root / "data"
    shutil.chown(root, "postgres", "postgres")
    port = free_port()
    _as_postgres(f"{PG_BIN}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres")

    class Cluster:
        url = f"postgres://postgres@127.0.0.1:{port}/panel"

        def start(self) -> None:
            _as_postgres(
                f"{PG_BIN}/pg_ctl",
                "-D",
                str(data),
                "-w",
                "-l",
                str(root / "log"),
                "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
                "start",
            )

        def stop(self) -> None:
            _as_postgres(f"{PG_BIN}/pg_ctl", "-D", str(data), "-w", "-m", "fast", "stop")

    cluster = Cluster()
    cluster.start()
    _as_postgres(f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(port), "panel")
    try:
        yield cluster
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                f"{PG_BIN}/pg_ctl",
                "-D",
                str(data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def test_the_panel_answers_503_while_postgresql_is_down_and_works_when_it_is_back(
    private_postgres, tmp_path
):
    env = {"DJANGO_SETTINGS_MODULE": "panel.settings.test", "DATABASE_URL": private_postgres.url}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        check=True,
        env={**os.environ, "PANEL_DOTENV": "0", **env},
        cwd=os.fspath(BASE_DIR),
        capture_output=True,
        timeout=300,
    )
    server = start_gunicorn(env, tmp_path / "gunicorn.log")
    try:
        browser = Browser()
        status, _, _ = browser.request(
            server.base + "/auth/login/", {"username": "nobody", "password": "x" * 12}
        )
        assert status == 400  # the database answered: an ordinary refused sign-in

        private_postgres.stop()
        status, _, page = browser.request(
            server.base + "/auth/login/", {"username": "nobody", "password": "x" * 12}
        )
        assert status == 503
        assert "temporarily unavailable" in page.lower()
        assert "Traceback" not in page and "psycopg" not in page

        private_postgres.start()
        status, _, _ = browser.request(
            server.base + "/auth/login/", {"username": "nobody", "password": "x" * 12}
        )
        assert status == 400  # the first request after the restart works
    finally:
        stop_gunicorn(server)
