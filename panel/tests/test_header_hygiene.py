"""Request headers, cookies and the path are checked once, early (issue 7, item 1).

A control character, invalid UTF-8 or an oversized value in any request header gets the
400 page before anything reads it; a garbled cookie is treated as absent. On PostgreSQL
(the services leg runs this whole module there) a NUL that reached a query or a stored
row used to answer 500: on the sign-in form that was a failure never counted nor
audited, and 302-versus-500 told the right password from a wrong one.

Whatever does pass the check (a TAB, valid UTF-8, a long but allowed value) is stored
cleaned and bounded wherever the panel keeps request-derived text.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit.models import AuditEvent
from panel.middleware import RequestLimitsMiddleware
from security.models import TrackedSession
from security.tests.helpers import CHROME_LINUX, enroll, start_two_factor

from .test_headers_and_fuzz import assert_security_headers

pytestmark = pytest.mark.django_db


def latin1(text: str) -> str:
    """``text``'s UTF-8 bytes as WSGI hands a header to Django: one character per byte."""
    return text.encode("utf-8").decode("latin-1")


# Bad values: each one gets the 400 page in any header.
BAD = {
    "a NUL": "text/html\x00",
    "a bell": "a\x07b",
    "an escape sequence": "\x1b[31mred",
    "a DEL": "a\x7fb",
    "a line feed": "a\nb",
    "invalid UTF-8": "caf\xc3\x28",  # the bytes C3 28: a lead byte without its follower
    "a lone continuation byte": "\x80abc",
    "10 KB": "a" * 10_240,
}

# Headers the panel reads (User-Agent, Accept through axes, X-Forwarded-For, Host,
# Referer through CSRF, Content-Type) and some it does not.
HEADERS = [
    "HTTP_USER_AGENT",
    "HTTP_ACCEPT",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_REFERER",
    "HTTP_ACCEPT_LANGUAGE",
    "HTTP_X_FOO",
    "HTTP_ORIGIN",
]


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()  # rate-limit counters (the database cache in the SQLite leg)
    yield
    cache.clear()


def browser(**extra) -> Client:
    defaults = {"REMOTE_ADDR": "203.0.113.50", "HTTP_USER_AGENT": CHROME_LINUX}
    return Client(raise_request_exception=False, **{**defaults, **extra})


def assert_refused_header(response) -> None:
    assert response.status_code == 400, response
    assert "request header" in response.content.decode()
    assert_security_headers(response)


# --- Every header ------------------------------------------------------------------------


@pytest.mark.parametrize("header", HEADERS)
def test_a_control_character_bad_utf8_or_10_kb_in_any_header_gets_the_400_page(header):
    client = browser()
    for label, value in BAD.items():
        response = client.get("/auth/login/", **{header: value})
        assert response.status_code == 400, (header, label, response)
        assert "request header" in response.content.decode(), (header, label)
        assert_security_headers(response)


def test_a_bad_host_header_gets_a_400_and_never_a_500():
    client = browser()
    for label, value in BAD.items():
        response = client.get("/auth/login/", HTTP_HOST="testserver" + value)
        assert response.status_code == 400, (label, response)
        assert_security_headers(response)


def test_a_nul_in_the_content_type_gets_the_400_page():
    client = browser()
    response = client.post(
        "/auth/login/", data=b"username=a&password=b", content_type="text/plain\x00"
    )
    assert_refused_header(response)


def test_a_tab_valid_utf8_and_an_8_kb_header_are_accepted():
    client = browser()
    for value in ("Mozilla/5.0\t(X11)", latin1("Mozilla/5.0 (Linux; Android 14; Café)")):
        response = client.get("/auth/login/", HTTP_USER_AGENT=value, HTTP_X_FOO=value)
        assert response.status_code == 200, value
    response = client.get("/auth/login/", HTTP_USER_AGENT="a" * 8000)
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/auth/%00/", "/auth/review/abc%00def/", "/auth/login/%1b/"])
def test_a_control_character_in_the_path_gets_the_400_page(path):
    response = browser().get(path)
    assert response.status_code == 400, response
    assert "address contains characters that are not allowed" in response.content.decode()
    assert_security_headers(response)


# --- Cookies: a garbled one is treated as absent ---------------------------------------------


@pytest.mark.parametrize(
    "cookie",
    [
        "sessionid=abc\x00def",
        "sessionid=abc\x01def",
        "sessionid=" + "a" * 10_240,
        "sessionid=caf\xc3\x28",
        "csrftoken=\x00; sessionid=x\x00",
    ],
)
def test_a_garbled_cookie_is_treated_as_absent_on_any_page(cookie):
    client = browser()
    assert client.get("/auth/login/", HTTP_COOKIE=cookie).status_code == 200
    response = client.get("/dashboard/", HTTP_COOKIE=cookie)
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")


def test_the_middleware_drops_only_the_garbled_cookies():
    seen = {}

    def view(request):
        seen.update(cookies=dict(request.COOKIES), header=request.META.get("HTTP_COOKIE"))
        return None

    request = RequestFactory().get(
        "/", HTTP_COOKIE="good=1; bad=a\x00b; long=" + "x" * 5000 + "; utf=\xc3\x28; also=ok"
    )
    RequestLimitsMiddleware(view)(request)
    assert seen["cookies"] == {"good": "1", "also": "ok"}
    assert "\x00" not in seen["header"] and "x" * 5000 not in seen["header"]


def test_a_signed_in_browser_with_a_garbled_extra_cookie_stays_signed_in(alice, password):
    client = browser()
    response = client.post("/auth/login/", {"username": "alice", "password": password})
    assert response["Location"] == "/dashboard/"
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    cookie = f"junk=a\x00b; {settings.SESSION_COOKIE_NAME}={session}; other=\xff\xfe"
    response = client.get("/dashboard/", HTTP_COOKIE=cookie)
    assert response.status_code == 200


# --- Every sign-in path: refused before anything, or counted ---------------------------------

# What each sign-in path is sent with a bad header: a subset of BAD x HEADERS, plus a
# garbled session cookie (which, dropped, leaves the browser without its pending step).
SIGN_IN_HEADERS = [
    {"HTTP_USER_AGENT": "Mozilla/5.0\x00"},
    {"HTTP_ACCEPT": "text/html\x00"},
    {"HTTP_X_FORWARDED_FOR": "198.51.100.1\x00"},
    {"HTTP_REFERER": "http://testserver/\xc3\x28"},
    {"HTTP_ACCEPT_LANGUAGE": "en;" * 4000},
    {"HTTP_X_FOO": "\x1b[2J"},
]


class Step:
    """One sign-in path: a browser at that step, the address, a wrong and a right form."""

    def __init__(self, client, path, wrong, right=None):
        self.client, self.path, self.wrong, self.right = client, path, wrong, right


def _two_factor_step(user, password):
    enrolled = enroll(user)
    client = browser()
    start_two_factor(client, user, password)
    wrong = {"method": "totp", "code": "000000" if enrolled.code() != "000000" else "111111"}
    return Step(client, "/auth/2fa/", wrong, {"method": "totp", "code": enrolled.code()})


def _device_step(user, password):
    assert browser().post("/auth/login/", {"username": user.username, "password": password})[
        "Location"
    ] == ("/dashboard/")
    client = Client(
        REMOTE_ADDR="203.0.113.51",
        HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0",
        raise_request_exception=False,
    )
    response = client.post("/auth/login/", {"username": user.username, "password": password})
    assert response["Location"] == "/auth/device/", response
    return Step(client, "/auth/device/", {"code": "000000"})


def _step_up(user, password):
    client = browser()
    response = client.post("/auth/login/", {"username": user.username, "password": password})
    assert response["Location"] == "/dashboard/"
    form = {"next": "/settings/sessions/"}
    return Step(
        client,
        "/settings/sessions/confirm/",
        {**form, "password": "wrong password 123"},
        {**form, "password": password},
    )


def _reset_request(user, password):
    return Step(browser(), "/auth/password/reset/", {"email": user.email})


def _reset_confirm(user, password):
    client = browser()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    response = client.get(f"/auth/password/reset/{uid}/{token}/")
    assert response.status_code == 302, response
    new = "a brand new passphrase 77"
    return Step(
        client,
        response["Location"],
        {"new_password1": new, "new_password2": new + "x"},
        {"new_password1": new, "new_password2": new},
    )


def _password(user, password):
    return Step(
        browser(),
        "/auth/login/",
        {"username": user.username, "password": "wrong password 123"},
        {"username": user.username, "password": password},
    )


SIGN_IN_PATHS = {
    "password": _password,
    "two_factor": _two_factor_step,
    "device_code": _device_step,
    "step_up": _step_up,
    "reset_request": _reset_request,
    "reset_confirm": _reset_confirm,
}


def _state():
    return (AccessAttempt.objects.count(), AuditEvent.objects.count())


@pytest.mark.parametrize("kind", list(SIGN_IN_PATHS))
def test_a_bad_header_on_every_sign_in_path_is_refused_before_anything(kind, alice, password):
    step = SIGN_IN_PATHS[kind](alice, password)
    for form in filter(None, (step.wrong, step.right)):
        for headers in SIGN_IN_HEADERS:
            before = _state()
            response = step.client.post(step.path, form, **headers)
            # The same 400 for a right and a wrong secret: no oracle, and nothing counted.
            assert_refused_header(response)
            assert _state() == before, (kind, headers)
    # The browser is still at its step: a clean wrong attempt is answered as usual.
    response = step.client.post(step.path, step.wrong)
    assert response.status_code < 500, response


@pytest.mark.parametrize("kind", list(SIGN_IN_PATHS))
def test_a_garbled_cookie_on_every_sign_in_path_is_never_a_500(kind, alice, password):
    step = SIGN_IN_PATHS[kind](alice, password)
    name = settings.SESSION_COOKIE_NAME
    session = step.client.cookies[name].value if name in step.client.cookies else "none"
    for cookie in (f"{name}=abc\x00def", f"{name}={session}; junk=\x00"):
        response = step.client.post(step.path, step.wrong, HTTP_COOKIE=cookie)
        assert response.status_code < 500, (kind, cookie, response)
        assert_security_headers(response)


# Odd but allowed: a TAB, valid UTF-8 (as WSGI gives it, one character per byte) and a
# long value. They reach the sign-in and are stored cleaned and bounded.
ODD_USER_AGENT = latin1("Mozilla/5.0\t(Café; \u2028 ünïcode) ") + "x" * 7000
ODD = {"HTTP_USER_AGENT": ODD_USER_AGENT, "HTTP_ACCEPT": latin1("text/html;ü") + "a" * 7000}


def _assert_stored_cleanly(text: str, limit: int) -> None:
    assert len(text) <= limit
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text), text[:80]
    assert "\u2028" not in text


def test_a_wrong_password_with_odd_headers_is_counted_and_audited(alice, password):
    client = browser(**ODD)
    response = client.post("/auth/login/", {"username": "alice", "password": "wrong one 12345"})
    assert response.status_code == 400
    attempt = AccessAttempt.objects.get()
    assert attempt.failures_since_start == 1
    # axes stores the headers as they came (bounded to 255 and 1025 characters): the
    # early check is what keeps a NUL out of its rows.
    assert "\x00" not in attempt.user_agent + attempt.http_accept
    event = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.FAILURE).latest("pk")
    _assert_stored_cleanly(event.user_agent, 1000)
    assert "Café" in event.user_agent  # the UTF-8 bytes read back as the text they were


def test_the_right_password_with_odd_headers_signs_in_and_stores_the_agent_cleanly(alice, password):
    client = browser(**ODD)
    response = client.post("/auth/login/", {"username": "alice", "password": password})
    assert response["Location"] == "/dashboard/"
    tracked = TrackedSession.objects.get(user=alice)
    _assert_stored_cleanly(tracked.user_agent, 1000)
    assert tracked.user_agent.startswith("Mozilla/5.0 (Café;")
    assert client.get("/settings/sessions/").status_code == 200


@pytest.mark.parametrize("kind", ["two_factor", "step_up", "reset_confirm"])
def test_odd_headers_on_a_later_step_get_the_usual_answer(kind, alice, bob, password):
    step = SIGN_IN_PATHS[kind](alice, password)
    before = AuditEvent.objects.count()
    response = step.client.post(step.path, step.wrong, **ODD)
    assert response.status_code == 400, response  # the form's own answer, not a refusal
    assert "request header" not in response.content.decode()
    if kind != "reset_confirm":  # a wrong code or password is audited
        assert AuditEvent.objects.count() > before
    # Another account's fresh step (django-otp refuses a code just after a wrong one).
    step = SIGN_IN_PATHS[kind](bob, password)
    response = step.client.post(step.path, step.right, **ODD)
    assert response.status_code == 302, response


# --- Typed text in a multipart form (the urlencoded body is checked by the middleware) ----


@pytest.mark.parametrize("field", ["username", "password"])
def test_a_nul_in_a_multipart_sign_in_field_gets_the_form_error_for_either_password(
    field, alice, password
):
    # The form refuses a NUL before any password check: the same 400 for the right and
    # the wrong password, and nothing reaches a query.
    for secret in ("wrong password 123", password):
        form = {"username": "alice", "password": secret}
        form[field] += "\x00"
        response = browser().post("/auth/login/", form)  # multipart/form-data
        assert response.status_code == 400, (field, response)
    assert not AccessAttempt.objects.exists()


def test_a_nul_in_another_multipart_field_is_stored_safely_and_the_failure_counted(alice, password):
    form = {"username": "alice", "password": "wrong password 123", "extra": "a\x00b"}
    assert browser().post("/auth/login/", form).status_code == 400
    assert AccessAttempt.objects.get().failures_since_start == 1
    form["password"] = password
    assert browser().post("/auth/login/", form)["Location"] == "/dashboard/"
