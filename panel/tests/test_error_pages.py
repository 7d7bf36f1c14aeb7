"""Error pages: the panel's look, a clear sentence, never a traceback."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def assert_error_page(response, status: int, title: str) -> str:
    assert response.status_code == status
    body = response.content.decode()
    assert f'<h1 id="error-title">{title}</h1>' in body
    assert 'class="topbar"' in body  # the panel's frame, not Django's bare page
    assert "panel/css/panel" in body
    return body


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "panel.tests.urls"
    settings.DEBUG = False


def test_an_unknown_page_gets_the_404_page(client):
    assert_error_page(client.get("/no/such/page/"), 404, "Page not found")


def test_the_500_page_shows_no_traceback(failing_urls):
    client = Client(raise_request_exception=False)
    body = assert_error_page(client.get("/test/boom/"), 500, "Something went wrong")
    assert "secret internal detail" not in body
    assert "Traceback" not in body and "RuntimeError" not in body


def test_a_database_outage_gets_the_503_page(failing_urls):
    client = Client(raise_request_exception=False)
    response = client.get("/test/database-down/")
    body = assert_error_page(response, 503, "Temporarily unavailable")
    assert response["Retry-After"] == "30"
    assert "5432" not in body


def test_the_403_page(failing_urls, client):
    assert_error_page(client.get("/test/forbidden/"), 403, "Access denied")


def test_the_429_page(rf):
    from panel.views import ratelimited

    request = rf.get("/")
    response = ratelimited(request)
    body = assert_error_page(response, 429, "Too many requests")
    assert response["Retry-After"] == "60"
    assert "wait a minute" in body


def test_the_400_page_for_a_spoofed_host(client):
    response = client.get("/auth/login/", HTTP_HOST="evil.example")
    assert_error_page(response, 400, "Bad request")


def test_debug_is_off_in_every_settings_module_but_dev():
    import subprocess
    import sys

    from panel.tests.test_settings import BASE_DIR, PROD_ENV, minimal_env

    code = "from django.conf import settings; print(settings.DEBUG)"
    results = {}
    for module, extra in (
        ("panel.settings.test", {}),
        ("panel.settings.prod", PROD_ENV),
        ("panel.settings.dev", {}),
    ):
        env = minimal_env(DJANGO_SETTINGS_MODULE=module, **extra)
        out = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        results[module] = out.stdout.strip()
    assert results == {
        "panel.settings.test": "False",
        "panel.settings.prod": "False",
        "panel.settings.dev": "True",
    }


def test_debug_is_off_in_this_test_run(settings):
    assert settings.DEBUG is False
