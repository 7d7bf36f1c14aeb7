"""Audit history outlives accounts: a user with events is deactivated, never deleted."""

from __future__ import annotations

import pytest
from django.db.models import ProtectedError

from accounts.models import User
from audit.models import AuditEvent
from audit.services import audit


def test_a_user_with_audit_history_cannot_be_deleted(alice):
    audit("signin", user=alice)
    with pytest.raises(ProtectedError):
        alice.delete()
    event = AuditEvent.objects.get(action="signin")
    assert event.user_id == alice.pk


def test_the_admin_explains_instead_of_deleting_a_user_with_history(client, user_factory, alice):
    operator = user_factory("operator", is_staff=True, is_superuser=True)
    client.force_login(operator)
    audit("signin", user=alice)
    url = f"/admin/accounts/user/{alice.pk}/delete/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Cannot delete user" in page.content.decode()
    response = client.post(url, {"post": "yes"})
    assert response.status_code < 500
    assert User.objects.filter(pk=alice.pk).exists()
    assert AuditEvent.objects.get(action="signin").user_id == alice.pk


def test_a_user_without_history_can_still_be_deleted(bob):
    bob.delete()
    assert not User.objects.filter(username="bob").exists()
