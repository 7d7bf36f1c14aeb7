"""The count-and-lock is atomic: however many sign-ins of one (address, account) pair
arrive at once, at most AXES_FAILURE_LIMIT passwords are checked before the pair locks
(issue 7, item 4). Each sign-in reserves its attempt on the pair's row before the
password hash; a right password gives its reservation back."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client

from audit.models import AuditEvent
from security.models import Lockout
from security.tests.helpers import enroll, race, sign_in_password, start_two_factor, submit_code

pytestmark = pytest.mark.django_db

WRONG = "this is not the password"
ADDRESS = "198.51.100.40"
T0 = 1_800_000_000


@pytest.fixture(autouse=True)
def _no_risk_checks(settings):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    settings.NEW_DEVICE_APPROVAL = False


def same_address() -> Client:
    return Client(REMOTE_ADDR=ADDRESS)


@pytest.fixture
def password_checks(monkeypatch):
    """Records every password check of an account (the bcrypt of production); the
    ``during`` hook runs inside the first check, while it is still in flight."""

    class Spy:
        calls: list[str] = []
        during = None
        seconds = 0.0

    real = get_user_model().check_password

    def spy(user, raw_password):
        Spy.calls.append(user.username)
        hook, Spy.during = Spy.during, None
        if hook is not None:
            hook()
        if Spy.seconds:
            time.sleep(Spy.seconds)
        return real(user, raw_password)

    monkeypatch.setattr(get_user_model(), "check_password", spy)
    return Spy


def test_sign_ins_arriving_while_a_password_is_being_checked_get_only_the_slots_left(
    alice, password_checks
):
    later = []

    def burst():
        # Eleven more wrong passwords from the same address while the first one's hash
        # is still being computed (the lock check of each has to see that one in flight).
        later.extend(sign_in_password(same_address(), "alice", WRONG) for _ in range(11))

    password_checks.during = burst
    with time_machine.travel(T0, tick=False):
        first = sign_in_password(same_address(), "alice", WRONG)
    assert len(password_checks.calls) == 6
    assert [r.status_code for r in later] == [400] * 5 + [429] * 6
    assert first.status_code == 429
    assert first["Retry-After"] == "60"
    assert AuditEvent.objects.filter(action="lockout").count() == 1


def test_a_sign_in_refused_for_want_of_a_slot_is_neither_counted_nor_hashed(
    alice, password, password_checks
):
    refused = []

    def burst():
        for _ in range(5):
            sign_in_password(same_address(), "alice", WRONG)
        refused.append(sign_in_password(same_address(), "alice", password))

    password_checks.during = burst
    with time_machine.travel(T0, tick=False):
        sign_in_password(same_address(), "alice", WRONG)
    assert refused[0].status_code == 429
    assert "Too many failed attempts" in refused[0].content.decode()
    assert len(password_checks.calls) == 6
    row = Lockout.objects.get(ip=ADDRESS, username="alice")
    assert row.locked_until is not None
    assert AuditEvent.objects.filter(action="signin", outcome="failure").count() == 6


def test_a_right_password_gives_its_slot_back(alice, password, password_checks):
    enroll(alice)
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            assert sign_in_password(same_address(), "alice", WRONG).status_code == 400
        # The right password, three times, each waiting for its code: none is refused.
        for _ in range(3):
            start_two_factor(same_address(), alice, password)
        last = same_address()
        start_two_factor(last, alice, password)
        assert submit_code(last, "000000").status_code == 429  # the sixth failure
    assert len(password_checks.calls) == 9


def test_the_slots_of_a_pair_come_back_with_the_counting_window(alice, password_checks):
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            sign_in_password(same_address(), "alice", WRONG)
    with time_machine.travel(T0 + 11 * 60, tick=False):
        for _ in range(5):
            assert sign_in_password(same_address(), "alice", WRONG).status_code == 400
    assert len(password_checks.calls) == 10
    assert not AuditEvent.objects.filter(action="lockout").exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_on_postgresql_checks_exactly_the_threshold_of_passwords(
    alice, password_checks, settings
):
    password_checks.seconds = 0.25  # as long as production's bcrypt
    clients = [same_address() for _ in range(12)]

    def attempt(client) -> int:
        return sign_in_password(client, "alice", WRONG).status_code

    statuses = race(attempt, [(c,) for c in clients])
    assert len(statuses) == 12
    assert len(password_checks.calls) == settings.AXES_FAILURE_LIMIT == 6
    assert sorted(statuses) == [400] * 5 + [429] * 7
    assert AuditEvent.objects.filter(action="lockout").count() == 1
    assert Lockout.objects.get(ip=ADDRESS, username="alice").locked_until is not None


def test_password_checks_on_a_signed_in_settings_page_get_only_the_slots_left(
    alice, password_checks
):
    """A stolen session guessing the password on the 2FA settings page in parallel: each
    POST takes a slot of the pair before its check, as a sign-in does."""
    browser = same_address()
    url = "/settings/security/2fa/enable/"
    later = []

    def burst():
        later.extend(browser.post(url, {"password": WRONG}) for _ in range(8))

    password_checks.during = burst
    with time_machine.travel(T0, tick=False):
        browser.force_login(alice)
        first = browser.post(url, {"password": WRONG})
        assert browser.get("/settings/security/").status_code == 200  # still signed in
    assert len(password_checks.calls) == 6
    assert [r.status_code for r in later] == [400] * 5 + [429] * 3
    assert first.status_code == 429
    assert AuditEvent.objects.filter(action="lockout").count() == 1


def test_a_settings_page_post_without_a_refused_secret_gives_its_slot_back(alice, password):
    browser = same_address()
    browser.force_login(alice)
    for _ in range(8):
        assert browser.post(
            "/settings/security/2fa/enable/", {"password": password}
        ).status_code in (
            200,
            302,
        )
    row = Lockout.objects.filter(ip=ADDRESS, username="alice").first()
    assert row is None or row.attempts == 0
