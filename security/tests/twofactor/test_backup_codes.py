"""Backup codes: generation, storage, the one-hash check, single use, regeneration,
notices and races."""

from __future__ import annotations

import hashlib
import math
import re

import pytest
import time_machine

from audit.models import AuditEvent
from security.exceptions import CodeRefused
from security.models import BackupCode, BackupCodeSet
from security.tests.helpers import emails, enroll, race
from security.twofactor import backup_codes
from security.twofactor.backup_codes import use_backup_code
from security.twofactor.codes import ALPHABET, normalize_code
from security.twofactor.totp import backup_codes_regenerate

pytestmark = pytest.mark.django_db
T0 = 1_700_000_010


@pytest.fixture
def enrolled(alice):
    return enroll(alice)


def test_ten_unique_readable_codes_of_at_least_64_bits_are_issued(enrolled):
    codes = enrolled.codes
    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert re.fullmatch(r"[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}", code)
        assert set(code.replace("-", "")) <= set(ALPHABET)
    bits = len(codes[0].replace("-", "")) * math.log2(len(ALPHABET))
    assert bits >= 64


def test_only_salted_hashes_are_stored(enrolled):
    code_set = BackupCodeSet.objects.get(user=enrolled.user)
    digests = list(BackupCode.objects.filter(code_set=code_set).values_list("digest", flat=True))
    assert len(digests) == 10
    for code in enrolled.codes:
        for variant in (code, code.replace("-", ""), normalize_code(code)):
            assert all(variant not in d for d in digests)
    assert len(code_set.salt) == 32
    assert code_set.hasher.startswith("scrypt$")


def test_the_default_hash_cost_is_the_production_cost(settings):
    # The test helpers lower it for speed; the product default is scrypt N=2**14.
    from panel.settings import base

    assert base.BACKUP_CODE_SCRYPT_N == 2**14


def test_checking_a_code_costs_exactly_one_hash(enrolled, monkeypatch):
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    assert use_backup_code(user=enrolled.user, code=enrolled.codes[-1]).ok
    assert len(calls) == 1
    calls.clear()
    with time_machine.travel(T0 + 100, tick=False):
        assert not use_backup_code(user=enrolled.user, code="zzzz-zzzz-zzzz-zzzz").ok
    assert len(calls) == 1


def test_a_code_works_once(enrolled):
    code = enrolled.codes[0]
    assert use_backup_code(user=enrolled.user, code=code).ok
    with time_machine.travel(T0 + 100, tick=False):
        assert not use_backup_code(user=enrolled.user, code=code).ok


def test_typing_is_forgiving_about_case_spaces_and_hyphens(enrolled):
    typed = enrolled.codes[1].upper().replace("-", " ")
    assert use_backup_code(user=enrolled.user, code=typed).ok


@pytest.mark.parametrize("typed", ["", "1234", "zzzz-zzzz-zzzz-zzz", "uuuu-uuuu-uuuu-uuuu"])
def test_something_that_cannot_be_a_code_is_refused(enrolled, typed):
    assert normalize_code(typed) is None
    assert not use_backup_code(user=enrolled.user, code=typed).ok


def test_using_a_code_is_audited_and_emailed_with_the_remaining_count(enrolled):
    assert use_backup_code(user=enrolled.user, code=enrolled.codes[0]).ok
    event = AuditEvent.objects.filter(action="backup_code_used").get()
    assert event.metadata == {"remaining": 9}
    assert enrolled.codes[0] not in str(event.metadata)
    [notice] = emails("2fa_backup_code_used")
    assert notice.recipient == enrolled.user.email
    assert "backup code was just used" in notice.body_text
    assert "9 unused codes left" in notice.body_text
    assert "running low" not in notice.body_text
    assert enrolled.codes[0] not in notice.body_text


def test_the_notice_suggests_regenerating_when_three_or_fewer_are_left(enrolled):
    for code in enrolled.codes[:7]:
        assert use_backup_code(user=enrolled.user, code=code).ok
    assert backup_codes.remaining(enrolled.user) == 3
    notices = emails("2fa_backup_code_used")
    assert "running low" in notices[-1].body_text
    assert "running low" not in notices[-2].body_text
    assert "/settings/security/2fa/backup-codes/" in notices[-1].body_text


def test_regenerating_needs_a_fresh_totp_code_and_kills_the_old_set(enrolled):
    with time_machine.travel(T0, tick=False):
        new = backup_codes_regenerate(user=enrolled.user, totp_code=enrolled.code(T0))
    assert len(new) == 10
    assert not set(new) & set(enrolled.codes)
    with time_machine.travel(T0 + 100, tick=False):
        assert not use_backup_code(user=enrolled.user, code=enrolled.codes[0]).ok
    with time_machine.travel(T0 + 200, tick=False):
        assert use_backup_code(user=enrolled.user, code=new[0]).ok
    assert (
        AuditEvent.objects.filter(action="backup_codes_regenerated", user=enrolled.user).count()
        == 1
    )
    [notice] = emails("2fa_backup_codes_regenerated")
    assert "new backup codes were issued" in notice.body_text


def test_a_backup_code_cannot_regenerate_the_backup_codes(enrolled):
    with pytest.raises(CodeRefused), time_machine.travel(T0, tick=False):
        backup_codes_regenerate(user=enrolled.user, totp_code=enrolled.codes[0])
    # The old set is intact and the code was not consumed.
    assert backup_codes.remaining(enrolled.user) == 10


def test_a_wrong_totp_code_leaves_the_old_set_working(enrolled):
    with pytest.raises(CodeRefused), time_machine.travel(T0, tick=False):
        backup_codes_regenerate(user=enrolled.user, totp_code="000000")
    assert use_backup_code(user=enrolled.user, code=enrolled.codes[0]).ok


def test_a_wrong_code_throttles_the_set(enrolled):
    with time_machine.travel(T0, tick=False):
        assert use_backup_code(user=enrolled.user, code="zzzz-zzzz-zzzz-zzzz").reason == "invalid"
        assert use_backup_code(user=enrolled.user, code=enrolled.codes[0]).reason == "throttled"
    with time_machine.travel(T0 + 2, tick=False):
        assert use_backup_code(user=enrolled.user, code=enrolled.codes[0]).ok


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_parallel_submissions_of_one_backup_code_let_exactly_one_win(user_factory):
    enrolled = enroll(user_factory("racer"))
    code = enrolled.codes[0]
    results = race(lambda: use_backup_code(user=enrolled.user, code=code).ok)
    assert sorted(results) == [False, True]
    assert BackupCode.objects.filter(used_at__isnull=False).count() == 1
