"""Every response carries the same security headers (issue 7, item 3).

The security-header middlewares come first in MIDDLEWARE, so they wrap everything:
the early 400 pages of the request-limits middleware, CSRF's 403, the 404/405 pages,
and the 500 that Django makes of an exception raised by a view or by another
middleware. Checked here over the bad-input cases, forced errors, and the whole policy
matrix (every URL, every persona; GET, POST without and with a CSRF token).
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from .access import PERSONAS, World, path_for, url_patterns
from .test_headers_and_fuzz import assert_security_headers

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _fresh_counters(settings):
    settings.BACKUP_CODE_SCRYPT_N = 2**8
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "panel.tests.urls"
    settings.DEBUG = False


BAD_INPUT = [
    ("a NUL in next", "get", "/auth/login/", {"QUERY_STRING": "next=/dash%00board/"}),
    ("invalid UTF-8 in the query", "get", "/auth/login/", {"QUERY_STRING": "next=%C0%AF"}),
    (
        "invalid UTF-8 in the body",
        "post",
        "/auth/login/",
        {"data": b"username=%ff&password=x", "content_type": FORM},
    ),
    (
        "a NUL in the body",
        "post",
        "/auth/login/",
        {"data": b"username=a%00&password=x", "content_type": FORM},
    ),
    (
        "a body over the limit",
        "post",
        "/auth/login/",
        {"data": b"username=" + b"a" * 1_000_000, "content_type": FORM},
    ),
    (
        "a malformed Content-Length",
        "post",
        "/auth/login/",
        {"data": b"username=a", "content_type": FORM, "CONTENT_LENGTH": "ten"},
    ),
    (
        "too many fields",
        "post",
        "/auth/login/",
        {"data": "&".join(f"f{i}=x" for i in range(500)).encode(), "content_type": FORM},
    ),
    ("a NUL in a header", "get", "/auth/login/", {"HTTP_ACCEPT": "text/html\x00"}),
    ("a 10 KB header", "get", "/auth/login/", {"HTTP_X_FOO": "a" * 10_240}),
    ("invalid UTF-8 in a header", "get", "/dashboard/", {"HTTP_USER_AGENT": "\xc3\x28"}),
    ("a NUL in the path", "get", "/auth/%00/", {}),
    ("a spoofed Host", "get", "/auth/login/", {"HTTP_HOST": "evil.example"}),
    ("an unknown page", "get", "/no/such/page/", {}),
    ("a GET to a POST-only address", "get", "/auth/logout/", {}),
]


@pytest.mark.parametrize(
    ("label", "method", "path", "extra"), BAD_INPUT, ids=[case[0] for case in BAD_INPUT]
)
def test_every_bad_input_answer_carries_the_security_headers(client, label, method, path, extra):
    response = getattr(client, method)(path, **extra)
    assert 400 <= response.status_code < 500, (label, response)
    assert_security_headers(response)


def test_the_csrf_failure_page_carries_the_security_headers():
    response = Client(enforce_csrf_checks=True).post("/auth/login/", {"username": "a"})
    assert response.status_code == 403
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/test/boom/", "/test/database-down/", "/test/forbidden/"])
def test_forced_errors_carry_the_security_headers(client, failing_urls, path):
    response = client.get(path)
    assert response.status_code in (403, 500, 503)
    assert_security_headers(response)


def test_a_500_from_inside_the_middleware_stack_carries_the_security_headers(client, monkeypatch):
    # An exception in an early middleware, before any view or header code of the old
    # order ran: Django turns it into the 500 page inside the outer middlewares.
    def broken(value):
        raise RuntimeError("boom")

    monkeypatch.setattr("panel.middleware._header_problem", broken)
    response = client.get("/auth/login/", HTTP_USER_AGENT="Mozilla/5.0")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert_security_headers(response)


def test_a_static_file_carries_the_security_headers(client):
    response = client.get("/static/panel/css/panel.css")
    assert response.status_code == 200
    assert_security_headers(response)


def test_every_page_of_the_policy_matrix_carries_the_security_headers(user_factory, password):
    world = World(user_factory, password)
    routes = [r for r in url_patterns() if not r.is_admin]
    # Signing out (and ending other sessions) last: the personas stay signed in for the rest.
    last = ("security:logout", "security:sessions_revoke_others", "security:session_revoke")
    routes.sort(key=lambda r: (r.name in last, r.name))
    admin = [
        r for r in url_patterns() if r.name in ("admin:index", "admin:accounts_user_changelist")
    ]
    assert len(admin) == 2
    seen = set()
    for route in routes + admin:
        for key in PERSONAS:
            persona = world[key]
            path = path_for(route, world.kwargs_for(route, persona))
            world.prepare(route, persona)
            for method, csrf in (("get", False), ("post", True), ("post", False)):
                persona.client.handler.enforce_csrf_checks = csrf  # True: no token sent
                try:
                    response = getattr(persona.client, method)(path)
                finally:
                    persona.client.handler.enforce_csrf_checks = False
                where = f"{method.upper()} {route.name} as {key}: {response.status_code}"
                assert response.status_code < 500, where
                try:
                    assert_security_headers(response)
                except (AssertionError, KeyError) as error:
                    raise AssertionError(where) from error
                seen.add(response.status_code)
    assert {200, 302, 400, 403, 405} <= seen
