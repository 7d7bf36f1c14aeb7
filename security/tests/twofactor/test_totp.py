"""TOTP verification: RFC 6238 vectors, the ±1 step window, replay protection, races,
throttling and the secret at rest."""

from __future__ import annotations

import base64

import pyotp
import pytest
import time_machine
from django.utils import timezone

from security.models import EncryptedTOTPDevice
from security.tests.helpers import enroll, race
from security.twofactor import crypto
from security.twofactor.totp import verify_totp

pytestmark = pytest.mark.django_db

RFC_SEED = b"12345678901234567890"
# RFC 6238 Appendix B, SHA1, truncated to 6 digits (SECURITY.md part b).
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
    (20000000000, "353130"),
]
T0 = 1_700_000_010  # 10 s into a 30 s step


@pytest.fixture
def rfc_user(user_factory):
    user = user_factory("rfc")
    enroll(user, key=RFC_SEED)
    return user


@pytest.fixture
def enrolled(alice):
    return enroll(alice)


@pytest.mark.parametrize(("when", "code"), RFC_VECTORS)
def test_the_rfc_6238_sha1_vectors_verify_through_our_device(rfc_user, when, code):
    with time_machine.travel(when, tick=False):
        result = verify_totp(user=rfc_user, code=code)
    assert result.ok, result
    device = EncryptedTOTPDevice.objects.get(user=rfc_user)
    assert device.last_t == when // 30


@pytest.mark.parametrize(("when", "code"), RFC_VECTORS)
def test_an_rfc_vector_code_is_refused_three_steps_later(rfc_user, when, code):
    with time_machine.travel(when + 90, tick=False):
        assert not verify_totp(user=rfc_user, code=code).ok


def test_pyotp_agrees_with_the_rfc_vectors():
    authenticator = pyotp.TOTP(base64.b32encode(RFC_SEED).decode())
    assert [authenticator.at(when) for when, _ in RFC_VECTORS] == [c for _, c in RFC_VECTORS]


def test_the_previous_current_and_next_step_are_accepted(user_factory):
    for offset in (-30, 0, 30):
        enrolled = enroll(user_factory())
        with time_machine.travel(T0, tick=False):
            assert verify_totp(user=enrolled.user, code=enrolled.code(T0 + offset)).ok, offset


@pytest.mark.parametrize("offset", [-60, 60, -90])
def test_a_code_two_or_more_steps_away_is_refused(enrolled, offset):
    with time_machine.travel(T0, tick=False):
        assert not verify_totp(user=enrolled.user, code=enrolled.code(T0 + offset)).ok


@pytest.mark.parametrize("later", [0, 31, 59])
def test_a_replayed_code_is_refused(enrolled, later):
    code = enrolled.code(T0)
    with time_machine.travel(T0, tick=False):
        assert verify_totp(user=enrolled.user, code=code).ok
    with time_machine.travel(T0 + later, tick=False):
        result = verify_totp(user=enrolled.user, code=code)
    assert not result.ok
    assert result.reason == "invalid"


def test_after_the_next_step_was_used_the_current_one_is_refused(enrolled):
    with time_machine.travel(T0, tick=False):
        assert verify_totp(user=enrolled.user, code=enrolled.code(T0 + 30)).ok
        assert not verify_totp(user=enrolled.user, code=enrolled.code(T0)).ok


def test_the_next_code_is_accepted_after_the_current_one(enrolled):
    with time_machine.travel(T0, tick=False):
        assert verify_totp(user=enrolled.user, code=enrolled.code(T0)).ok
    with time_machine.travel(T0 + 30, tick=False):
        assert verify_totp(user=enrolled.user, code=enrolled.code(T0 + 30)).ok


def test_one_code_submitted_twice_in_a_row_wins_once(enrolled):
    code = enrolled.code(T0)
    with time_machine.travel(T0, tick=False):
        results = [verify_totp(user=enrolled.user, code=code).ok for _ in range(2)]
    assert results == [True, False]


def test_a_wrong_code_throttles_the_next_attempt_until_the_delay_passes(enrolled):
    with time_machine.travel(T0, tick=False):
        assert verify_totp(user=enrolled.user, code="000000").reason in {"invalid"}
        throttled = verify_totp(user=enrolled.user, code=enrolled.code(T0))
    assert throttled.reason == "throttled"
    assert throttled.retry_after == 1
    with time_machine.travel(T0 + 2, tick=False):
        assert verify_totp(user=enrolled.user, code=enrolled.code(T0)).ok


def test_the_throttle_is_capped(enrolled, settings):
    settings.OTP_THROTTLE_MAX_SECONDS = 60
    EncryptedTOTPDevice.objects.filter(pk=enrolled.device.pk).update(throttling_failure_count=30)
    with time_machine.travel(T0, tick=False):
        EncryptedTOTPDevice.objects.filter(pk=enrolled.device.pk).update(
            throttling_failure_timestamp=timezone.now()
        )
        assert verify_totp(user=enrolled.user, code=enrolled.code(T0)).retry_after == 60
    with time_machine.travel(T0 + 61, tick=False):
        assert verify_totp(user=enrolled.user, code=enrolled.code(T0 + 61)).ok


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "１２３４５６", None])
def test_malformed_codes_are_refused(enrolled, code):
    with time_machine.travel(T0, tick=False):
        assert not verify_totp(user=enrolled.user, code=code).ok


def test_the_secret_is_20_random_bytes_stored_encrypted(enrolled):
    device = EncryptedTOTPDevice.objects.get(pk=enrolled.device.pk)
    assert len(device.bin_key) == 20
    stored = device.encrypted_key
    assert base64.b32encode(enrolled.key).decode().rstrip("=") not in stored
    assert enrolled.key.hex() not in stored
    assert crypto.decrypt(stored) == enrolled.key
    # A Fernet token, not a Base32 or hex secret.
    assert stored.startswith("gAAAAA")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_parallel_submissions_of_one_code_let_exactly_one_win(user_factory):
    enrolled = enroll(user_factory("racer"))
    code = enrolled.code()
    results = race(lambda: verify_totp(user=enrolled.user, code=code).ok)
    assert sorted(results) == [False, True]
