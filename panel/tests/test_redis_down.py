"""Redis down (services leg): a private Redis server is started for each test and stopped
under the panel, so the shared one other tests use is never touched.

Signing in needs the rate-limit counters in Redis: without them it answers a clear 503
("Sign-in is unavailable for a moment") instead of running without limits. Signed-in
users keep browsing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from django.test import Client

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def private_redis(settings, tmp_path):
    """A Redis server of this test's own as the cache; ``stop()`` takes it down."""
    port = _free_port()
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                pytest.fail("the private Redis server did not start")
            time.sleep(0.05)
    settings.CACHES = {
        "default": {
            "BACKEND": "panel.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "panel",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

    class Handle:
        def stop(self) -> None:
            server.terminate()
            server.wait(timeout=10)

    yield Handle()
    if server.poll() is None:
        server.kill()
        server.wait()


def test_signing_in_with_redis_down_answers_503_and_checks_no_password(
    private_redis, alice, password, monkeypatch
):
    checked = []
    real = type(alice).check_password
    monkeypatch.setattr(type(alice), "check_password", lambda u, p: checked.append(1) or real(u, p))
    private_redis.stop()
    client = Client(raise_request_exception=False)
    response = client.post("/auth/login/", {"username": "alice", "password": password})
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "Sign-in is unavailable for a moment" in response.content.decode()
    assert checked == []
    assert "sessionid" not in response.cookies or not response.cookies["sessionid"].value


def test_signed_in_users_keep_browsing_with_redis_down(private_redis, alice):
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    private_redis.stop()
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/settings/sessions/").status_code == 200
