"""The Security tab reads the authenticator app and its unused backup codes in one
statement (security.overview.APP): the count is the account's own unused codes, on both
test legs, and the row decrypts as the device does."""

from __future__ import annotations

import pytest

from security.overview import APP, AppRow, read
from security.tests.helpers import enroll
from security.twofactor import backup_codes
from security.twofactor.models import BackupCodeSet, EncryptedTOTPDevice

pytestmark = pytest.mark.django_db


def test_the_count_is_the_accounts_unused_codes_only(alice, user_factory):
    enrolled = enroll(alice)
    enroll(user_factory("other"))  # another account's ten codes are not alice's
    for code in enrolled.codes[:3]:
        backup_codes.use_backup_code(user=alice, code=code)
    (row,) = APP.all(alice.pk)
    assert row == AppRow(enrolled.device.pk, alice.pk, enrolled.device.encrypted_key, 7)
    assert row.unused_codes == backup_codes.remaining(alice)
    assert row.bin_key == enrolled.key
    assert read(alice).two_factor == {
        "enabled": True,
        "unreadable": False,
        "unreadable_message": read(alice).two_factor["unreadable_message"],
        "remaining": 7,
        "count": backup_codes.COUNT,
        "low": False,
    }


def test_an_app_without_codes_counts_none_and_no_app_is_no_row(alice, bob):
    enrolled = enroll(alice)
    BackupCodeSet.objects.filter(user=alice).delete()
    assert [row.unused_codes for row in APP.all(alice.pk)] == [0]
    assert read(alice).two_factor["low"] is True
    assert APP.all(bob.pk) == []
    EncryptedTOTPDevice.objects.filter(pk=enrolled.device.pk).update(confirmed=False)
    assert APP.all(alice.pk) == []  # a pending enrollment is not the app
