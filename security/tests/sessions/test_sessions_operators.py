"""Operators: manage.py revoke_sessions and the admin's tracked sessions with "revoke"."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from security.models import TrackedSession
from security.tests.helpers import browser, sign_in


@pytest.fixture(autouse=True)
def _plain_sign_in(settings):
    settings.NEW_DEVICE_APPROVAL = False
    settings.SUSPICIOUS_SIGNIN_CHECKS = False


def _signed_in(user, password, n: int):
    clients = [browser(f"198.51.100.{i + 1}") for i in range(n)]
    for client in clients:
        sign_in(client, user, password)
    return clients


def test_revoke_sessions_signs_one_user_out_everywhere(alice, bob, password, capsys):
    alices = _signed_in(alice, password, 2)
    bobs = _signed_in(bob, password, 1)
    call_command("revoke_sessions", "ALICE")
    assert "Revoked 2 sessions of alice." in capsys.readouterr().out
    assert all(c.get("/dashboard/").status_code == 302 for c in alices)
    assert bobs[0].get("/dashboard/").status_code == 200
    event = AuditEvent.objects.get(action="sessions_revoked_all")
    assert event.user == alice and event.actor is None
    assert event.metadata == {"count": 2, "source": "command"}


def test_revoke_sessions_accepts_an_email_address(alice, password, capsys):
    _signed_in(alice, password, 1)
    call_command("revoke_sessions", "alice@example.com")
    assert "Revoked 1 session of alice." in capsys.readouterr().out


def test_revoke_sessions_all_signs_everyone_out(alice, bob, password, capsys):
    clients = _signed_in(alice, password, 2) + _signed_in(bob, password, 1)
    call_command("revoke_sessions", "--all")
    assert "Revoked 3 sessions of all users." in capsys.readouterr().out
    assert all(c.get("/dashboard/").status_code == 302 for c in clients)
    assert AuditEvent.objects.filter(action="sessions_revoked_all").count() == 2


def test_a_dry_run_changes_nothing(alice, password, capsys):
    clients = _signed_in(alice, password, 2)
    call_command("revoke_sessions", "--all", "--dry-run")
    assert "Dry run: would revoke 2 sessions of all users." in capsys.readouterr().out
    assert all(c.get("/dashboard/").status_code == 200 for c in clients)
    assert not AuditEvent.objects.filter(action="sessions_revoked_all").exists()


@pytest.mark.parametrize("args", [[], ["alice", "--all"], ["nobody"]])
def test_bad_arguments_are_refused(alice, args):
    with pytest.raises(CommandError):
        call_command("revoke_sessions", *args)


def test_the_admin_lists_tracked_sessions_and_revokes_them(alice, password, user_factory, client):
    victim = _signed_in(alice, password, 1)[0]
    admin = user_factory("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/security/trackedsession/")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "alice" in body and "198.51.100.1" in body
    assert "session_key_hash" not in body

    record = TrackedSession.objects.get(user=alice)
    response = client.post(
        "/admin/security/trackedsession/",
        {"action": "revoke", "_selected_action": [record.pk]},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.end_reason == TrackedSession.EndReason.REVOKED
    assert victim.get("/dashboard/").status_code == 302
    event = AuditEvent.objects.get(action="session_revoked")
    assert event.actor == admin and event.user == alice and event.metadata["source"] == "admin"


def test_the_admin_forgets_trusted_devices_only_through_an_audited_action(
    alice, password, user_factory, client
):
    from security.models import TrustedDevice

    _signed_in(alice, password, 1)
    device = TrustedDevice.objects.get(user=alice)
    admin = user_factory("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    # No plain delete page (it would bypass the audit trail) ...
    assert client.get(f"/admin/security/trusteddevice/{device.pk}/delete/").status_code == 403
    assert TrustedDevice.objects.filter(pk=device.pk).exists()
    # ... but the action, which the audit trail records.
    response = client.post(
        "/admin/security/trusteddevice/", {"action": "forget", "_selected_action": [device.pk]}
    )
    assert response.status_code == 302
    assert not TrustedDevice.objects.filter(pk=device.pk).exists()
    event = AuditEvent.objects.get(action="device_forgotten", metadata__reason="operator")
    assert event.actor == admin and event.user == alice and event.metadata["count"] == 1
