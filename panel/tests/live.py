"""Real HTTP for the tests that run the panel as a separate process (gunicorn) on
loopback: start and stop a server, and a browser (a cookie jar) that talks to it."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
PASSWORD = "correct horse battery staple 42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    log: Path


def start_gunicorn(env: dict[str, str], log: Path) -> Server:
    """gunicorn (one sync worker) on a free loopback port, answering before this returns."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:panel.gunicorn_conf",
                "panel.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "1",
            ],
            cwd=BASE_DIR,
            env={**os.environ, "PANEL_DOTENV": "0", "LOG_LEVEL": "WARNING", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while True:
        try:
            # A worker's first page loads the templates, GeoIP and the UA parser: on a
            # loaded machine it can take seconds (a read timeout is one more try).
            urllib.request.urlopen(server.base + "/auth/login/", timeout=10).read()  # noqa: S310 (loopback)
            return server
        except (urllib.error.URLError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                stop_gunicorn(server)
                pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)


def stop_gunicorn(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One browser (one cookie jar) that may talk to any server; redirects not followed."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )

    def request(self, url: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, Location, body); a POST when ``data`` is given (with the CSRF token)."""
        body = None
        if data is not None:
            token = self._csrf_token(url)
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **data}).encode()
        try:
            request = urllib.request.Request(url, data=body)  # noqa: S310 (loopback http only)
            response = self.opener.open(request, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        return response.status, response.headers.get("Location", ""), response.read().decode()

    def _csrf_token(self, url: str) -> str:
        for cookie in self.jar:
            if cookie.name == settings.CSRF_COOKIE_NAME:
                return cookie.value
        # No CSRF cookie yet: the sign-in page sets one.
        base = re.match(r"https?://[^/]+", url).group(0)
        self.opener.open(base + "/auth/login/", timeout=10).read()
        return self._csrf_token(url)

    def sign_in(self, base: str, login: str, password: str = PASSWORD) -> tuple[int, str]:
        status, location, _ = self.request(
            base + "/auth/login/", {"username": login, "password": password}
        )
        return status, location
