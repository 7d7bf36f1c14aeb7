"""Operators: key rotation, disable_2fa, and the admin's 2FA and lockout actions."""

from __future__ import annotations

import logging

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import Client

from audit.models import AuditEvent
from security.models import BackupCodeSet, EncryptedTOTPDevice, Lockout
from security.tests.helpers import emails, enroll, sign_in_password
from security.twofactor import crypto
from security.twofactor.totp import verify_totp

pytestmark = pytest.mark.django_db

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
OTHER = Fernet.generate_key().decode()
T0 = 1_700_000_010


@pytest.fixture
def enrolled_with_old_key(alice, settings):
    settings.ENCRYPTION_KEYS = [OLD]
    return enroll(alice)


def stored(user) -> str:
    return EncryptedTOTPDevice.objects.get(user=user).encrypted_key


# --- Key rotation -----------------------------------------------------------------------


def test_the_old_key_second_in_the_list_still_decrypts(enrolled_with_old_key, settings):
    settings.ENCRYPTION_KEYS = [NEW, OLD]
    with time_machine.travel(T0, tick=False):
        assert verify_totp(user=enrolled_with_old_key.user, code=enrolled_with_old_key.code(T0)).ok


def test_rotation_re_encrypts_with_the_first_key_and_the_old_key_can_go(
    enrolled_with_old_key, settings, capsys
):
    user = enrolled_with_old_key.user
    settings.ENCRYPTION_KEYS = [NEW, OLD]
    before = stored(user)
    call_command("rotate_encryption_key")
    out = capsys.readouterr().out.strip()
    assert out == "1 of 1 two-factor secrets re-encrypted with the first key; 0 unreadable."
    after = stored(user)
    assert after != before
    assert crypto.encrypted_with_first_key(after)
    settings.ENCRYPTION_KEYS = [NEW]
    with time_machine.travel(T0, tick=False):
        assert verify_totp(user=user, code=enrolled_with_old_key.code(T0)).ok
    event = AuditEvent.objects.get(action="encryption_key_rotated")
    assert event.metadata == {"total": 1, "rotated": 1, "unreadable": 0}


def test_a_rotation_dry_run_changes_nothing(enrolled_with_old_key, settings, capsys):
    settings.ENCRYPTION_KEYS = [NEW, OLD]
    before = stored(enrolled_with_old_key.user)
    call_command("rotate_encryption_key", "--dry-run")
    assert capsys.readouterr().out.startswith("Dry run: 1 of 1 two-factor secrets would be")
    assert stored(enrolled_with_old_key.user) == before
    assert not AuditEvent.objects.filter(action="encryption_key_rotated").exists()


def test_rotation_reports_secrets_no_key_can_read(enrolled_with_old_key, settings, capsys, caplog):
    caplog.set_level(logging.ERROR, logger="panel.security")
    settings.ENCRYPTION_KEYS = [NEW, OTHER]
    before = stored(enrolled_with_old_key.user)
    call_command("rotate_encryption_key")
    assert "0 of 1 two-factor secrets re-encrypted with the first key; 1 unreadable." in (
        capsys.readouterr().out
    )
    assert stored(enrolled_with_old_key.user) == before
    assert f"user id={enrolled_with_old_key.user.pk}" in caplog.text
    assert before not in caplog.text


def test_rotation_refuses_to_run_without_keys(settings):
    settings.ENCRYPTION_KEYS = []
    with pytest.raises(CommandError, match="ENCRYPTION_KEYS is empty"):
        call_command("rotate_encryption_key")


def test_a_replaced_key_makes_the_secret_unreadable_but_not_a_crash(
    enrolled_with_old_key, settings
):
    settings.ENCRYPTION_KEYS = [NEW]
    with time_machine.travel(T0, tick=False):
        result = verify_totp(user=enrolled_with_old_key.user, code=enrolled_with_old_key.code(T0))
    assert result.reason == "unreadable"
    assert result.message == "Your two-factor secret could not be read; contact support."
    # Not counted as a failure of the user.
    assert EncryptedTOTPDevice.objects.get().throttling_failure_count == 0


# --- disable_2fa ----------------------------------------------------------------------------


def test_disable_2fa_wipes_the_factors_emails_and_audits(alice, capsys):
    enroll(alice)
    call_command("disable_2fa", "ALICE@example.com")
    assert capsys.readouterr().out.strip() == (
        "Disabled two-factor authentication for alice; the user has been emailed."
    )
    assert not EncryptedTOTPDevice.objects.filter(user=alice).exists()
    assert not BackupCodeSet.objects.filter(user=alice).exists()
    event = AuditEvent.objects.get(action="2fa_disabled_by_operator")
    assert event.user == alice
    assert event.metadata == {"via": "command"}
    [notice] = emails("2fa_disabled")
    assert "by an administrator" in notice.body_text


def test_disable_2fa_dry_run_changes_nothing(alice, capsys):
    enroll(alice)
    call_command("disable_2fa", "alice", "--dry-run")
    assert capsys.readouterr().out.startswith("Dry run: would disable")
    assert EncryptedTOTPDevice.objects.filter(user=alice).exists()
    assert not AuditEvent.objects.filter(action="2fa_disabled_by_operator").exists()


def test_disable_2fa_for_a_user_without_2fa_says_so(alice, capsys):
    call_command("disable_2fa", "alice")
    assert "has no two-factor authentication; nothing to do" in capsys.readouterr().out


def test_disable_2fa_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="No user"):
        call_command("disable_2fa", "nobody")


def test_after_disable_2fa_the_password_alone_signs_in(client, alice, password):
    enroll(alice)
    call_command("disable_2fa", "alice")
    response = sign_in_password(client, "alice", password)
    assert response["Location"] == "/dashboard/"


# --- Admin ----------------------------------------------------------------------------------


@pytest.fixture
def root(user_factory):
    return user_factory("root", is_staff=True, is_superuser=True)


@pytest.fixture
def root_client(client, root):
    client.force_login(root)
    return client


def test_the_device_admin_shows_no_secret(root_client, alice):
    enrolled = enroll(alice)
    page = root_client.get(f"/admin/security/encryptedtotpdevice/{enrolled.device.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert enrolled.device.encrypted_key not in html
    assert "encrypted_key" not in html
    for path in (
        "/admin/security/encryptedtotpdevice/",
        "/admin/security/backupcodeset/",
        "/admin/security/lockout/",
    ):
        assert root_client.get(path).status_code == 200


def test_a_superuser_disables_2fa_from_the_admin(root_client, root, alice):
    enrolled = enroll(alice)
    response = root_client.post(
        "/admin/security/encryptedtotpdevice/",
        {"action": "disable_two_factor", "_selected_action": [enrolled.device.pk]},
    )
    assert response.status_code == 302
    assert not EncryptedTOTPDevice.objects.filter(user=alice).exists()
    event = AuditEvent.objects.get(action="2fa_disabled_by_operator")
    assert event.actor == root
    assert event.metadata == {"via": "admin"}


def test_a_superuser_unlocks_from_the_admin(root_client, root, alice, password, settings):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    other = Client()
    with time_machine.travel(T0, tick=False):
        for _ in range(6):
            sign_in_password(other, "alice", "wrong password here")
        assert sign_in_password(other, "alice", password).status_code == 429
        lock = Lockout.objects.get(ip="127.0.0.1", username="alice")
        root_client.post(
            "/admin/security/lockout/",
            {"action": "unlock_accounts", "_selected_action": [lock.pk]},
        )
        assert sign_in_password(other, "alice", password).status_code == 302
    assert AuditEvent.objects.get(action="unlock").actor == root
