"""Passwords and tokens never reach the audit trail or a log line (SECURITY.md row 53)."""

import logging

import pytest
from django.core import serializers

from accounts.models import OutboxEmail
from audit.models import AuditEvent

from .conftest import link_path

pytestmark = pytest.mark.django_db


def test_no_password_or_token_is_written_to_the_audit_trail_or_the_logs(
    client, send, mailoutbox, caplog, signup_data, other_strong_password
):
    caplog.set_level(logging.DEBUG)
    first = signup_data["password1"]
    third = "nutmeg glacier parade 19 violin"
    secrets = {first, other_strong_password, third}

    with send():
        client.post("/auth/signup/", signup_data)
        client.post("/auth/verify/resend/", {"email": signup_data["email"]})
    verify_paths = [link_path(m, "/auth/verify/") for m in mailoutbox]
    client.get(verify_paths[0])
    client.post("/auth/verify/confirm/")
    client.get(verify_paths[0])  # a used link: the "not valid" page

    with send():
        client.post("/auth/password/reset/", {"email": signup_data["email"]})
    reset_path = link_path(mailoutbox[-1], "/auth/password/reset/")
    form_url = client.get(reset_path)["Location"]
    with send():
        client.post(
            form_url,
            {"new_password1": other_strong_password, "new_password2": other_strong_password},
        )
    client.get(reset_path)  # a used link

    from accounts.models import User

    client.force_login(User.objects.get())
    with send():
        client.post(
            "/settings/security/password/",
            {"old_password": "wrong " + first, "new_password1": third, "new_password2": third},
        )
        client.post(
            "/settings/security/password/",
            {
                "old_password": other_strong_password,
                "new_password1": third,
                "new_password2": third,
            },
        )
    client.post("/auth/password-strength/", {"password": first}, content_type="application/json")

    tokens = {p.rstrip("/").split("/")[-1] for p in verify_paths}
    tokens.add(reset_path.rstrip("/").split("/")[-1])
    secrets |= tokens
    events = AuditEvent.objects.all()
    assert {
        "signup",
        "verification_resent",
        "email_verified",
        "password_reset_requested",
        "password_reset",
        "password_changed",
    } <= {e.action for e in events}
    trail = serializers.serialize("json", events)
    logs = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for secret in secrets:
        assert secret not in trail
        assert secret not in logs
        assert "wrong " + first not in trail and "wrong " + first not in logs
    # Sent emails keep no body: it held the one-time links.
    assert set(OutboxEmail.objects.values_list("body_text", flat=True)) == {""}
