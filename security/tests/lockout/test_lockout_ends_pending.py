"""A lockout ends every half-finished sign-in of its (address, account) pair, not only
the one of the browser that triggered it (issue 7, item 2)."""

from __future__ import annotations

import pytest
import time_machine

from security.signin import pending
from security.tests.helpers import (
    LOGIN_URL,
    SAFARI_IPHONE,
    TWO_FACTOR_URL,
    browser,
    code_from,
    enroll,
    sign_in,
    sign_in_password,
    start_two_factor,
    submit_code,
)

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000
HOME = "198.51.100.20"
ELSEWHERE = "198.51.100.77"


@pytest.fixture(autouse=True)
def _no_risk_checks(settings):
    # The device-code step and suspicious-sign-in holds are other tests' subject.
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    settings.NEW_DEVICE_APPROVAL = False


def signed_in(client, user) -> bool:
    return client.session.get("_auth_user_id") == str(user.pk)


def lock_with_wrong_codes(client) -> None:
    for _ in range(5):
        assert submit_code(client, "000000").status_code == 400
    assert submit_code(client, "000000").status_code == 429


def test_a_second_browser_waiting_for_a_code_cannot_finish_after_the_lock_ends(alice, password):
    enrolled = enroll(alice)
    first, second = browser(HOME), browser(HOME)
    with time_machine.travel(T0, tick=False):
        start_two_factor(first, alice, password)
        start_two_factor(second, alice, password)
    with time_machine.travel(T0 + 10, tick=False):
        lock_with_wrong_codes(first)
    with time_machine.travel(T0 + 75, tick=False):  # the 60-second lock is over
        response = submit_code(second, enrolled.code())
        assert response.status_code == 302
        assert response["Location"] == LOGIN_URL
        assert not signed_in(second, alice)
        assert pending.SESSION_KEY not in second.session


def test_a_second_browser_cannot_even_open_the_code_step_after_the_lock_ends(alice, password):
    enroll(alice)
    first, second = browser(HOME), browser(HOME)
    with time_machine.travel(T0, tick=False):
        start_two_factor(first, alice, password)
        start_two_factor(second, alice, password)
        lock_with_wrong_codes(first)
    with time_machine.travel(T0 + 61, tick=False):
        response = second.get(TWO_FACTOR_URL)
        assert response.status_code == 302
        assert response["Location"] == LOGIN_URL


def test_retyping_the_password_after_the_lock_ends_signs_in_with_the_right_code(alice, password):
    enrolled = enroll(alice)
    first, second = browser(HOME), browser(HOME)
    with time_machine.travel(T0, tick=False):
        start_two_factor(first, alice, password)
        start_two_factor(second, alice, password)
        lock_with_wrong_codes(first)
    with time_machine.travel(T0 + 61, tick=False):
        start_two_factor(second, alice, password)
        response = submit_code(second, enrolled.code())
        assert response["Location"] == "/dashboard/"
        assert signed_in(second, alice)


def lock_with_wrong_passwords(client) -> None:
    for _ in range(5):
        assert sign_in_password(client, "alice", "not the password").status_code == 400
    assert sign_in_password(client, "alice", "not the password").status_code == 429


def test_a_lock_by_wrong_passwords_from_the_same_address_ends_the_waiting_sign_in(alice, password):
    enrolled = enroll(alice)
    waiting, guesser = browser(HOME), browser(HOME)
    with time_machine.travel(T0, tick=False):
        start_two_factor(waiting, alice, password)
        lock_with_wrong_passwords(guesser)
    with time_machine.travel(T0 + 61, tick=False):
        response = submit_code(waiting, enrolled.code())
        assert response["Location"] == LOGIN_URL
        assert not signed_in(waiting, alice)


def test_a_lock_of_another_address_leaves_this_browsers_sign_in_alone(alice, password):
    enrolled = enroll(alice)
    owner, guesser = browser(HOME), browser(ELSEWHERE)
    with time_machine.travel(T0, tick=False):
        start_two_factor(owner, alice, password)
        lock_with_wrong_passwords(guesser)
        response = submit_code(owner, enrolled.code())
        assert response["Location"] == "/dashboard/"
        assert signed_in(owner, alice)


def test_a_lock_of_another_account_leaves_this_browsers_sign_in_alone(alice, bob, password):
    enrolled = enroll(alice)
    enroll(bob)
    owner, other = browser(HOME), browser(HOME)
    with time_machine.travel(T0, tick=False):
        start_two_factor(owner, alice, password)
        start_two_factor(other, bob, password)
        lock_with_wrong_codes(other)
    with time_machine.travel(T0 + 61, tick=False):
        response = submit_code(owner, enrolled.code())
        assert response["Location"] == "/dashboard/"


def test_the_pending_state_remembers_the_address_it_began_from(alice, password):
    enroll(alice)
    client = browser(HOME)
    start_two_factor(client, alice, password)
    assert client.session[pending.SESSION_KEY]["ip"] == HOME


def test_a_pending_state_saved_without_an_address_is_refused(alice, password):
    enrolled = enroll(alice)
    client = browser(HOME)
    start_two_factor(client, alice, password)
    session = client.session
    data = dict(session[pending.SESSION_KEY])
    data.pop("ip")
    session[pending.SESSION_KEY] = data
    session.save()
    response = submit_code(client, enrolled.code())
    assert response["Location"] == LOGIN_URL
    assert not signed_in(client, alice)


@pytest.mark.usefixtures("emails_sent_at_once")
def test_a_browser_waiting_for_an_emailed_device_code_cannot_finish_after_the_lock_ends(
    alice, password, mailoutbox, settings
):
    settings.NEW_DEVICE_APPROVAL = True
    assert sign_in(trusted := browser(ELSEWHERE), alice, password)["Location"] == "/dashboard/"
    assert signed_in(trusted, alice)
    phone, guesser = browser(HOME, SAFARI_IPHONE), browser(HOME)
    with time_machine.travel(T0, tick=False):
        assert sign_in(phone, alice, password)["Location"] == "/auth/device/"
        code = code_from(mailoutbox)
        lock_with_wrong_passwords(guesser)
    with time_machine.travel(T0 + 61, tick=False):
        response = phone.post("/auth/device/", {"code": code})
        assert response.status_code == 302
        assert response["Location"] == LOGIN_URL
        assert not signed_in(phone, alice)
