"""Security review: every spelling of a login that signs in as an account counts on that
account's lockout counter (services leg: PostgreSQL's case-insensitive match is wider
than Python's ``str.lower``).

PostgreSQL compares ``iexact`` with ``UPPER()``: ``UPPER('alıce')`` (dotless i) and
``UPPER('aliſe')`` (long s) are ``ALICE``, so those spellings sign in as alice. The
counter key used to lower-case the typed username without looking the account up, so
each such spelling had its own six attempts (and its own run towards the hard limit).
"""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection

from accounts.backends import normalize_login
from accounts.models import User
from security.models import Lockout

from .twofactor_helpers import *  # noqa: F403
from .twofactor_helpers import enroll, sign_in_password, submit_code

pytestmark = [pytest.mark.services, pytest.mark.django_db]

WRONG = "this is not the password"
T0 = 1_800_000_000
DOTLESS = "al\u0131ce"  # alıce


@pytest.fixture(autouse=True)
def _no_suspicious_signin_holds(settings):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False


def test_the_database_folds_the_dotless_i_to_an_ascii_i(alice):
    # The premise of this module: on PostgreSQL alıce names alice.
    assert connection.vendor == "postgresql"
    assert User.objects.get_by_login(DOTLESS) == alice


def test_a_dotless_i_spelling_signs_in_as_the_account(client, alice, password):
    response = sign_in_password(client, DOTLESS, password)
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(alice.pk)


def test_a_spelling_that_signs_in_as_the_account_has_the_accounts_counter_key(alice):
    assert normalize_login(DOTLESS) == "alice"
    assert normalize_login(" AL\u0131CE ") == "alice"


def test_wrong_passwords_under_a_dotless_i_spelling_lock_the_account_pair(client, alice, password):
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            sign_in_password(client, "alice", WRONG)
        for _ in range(2):
            assert sign_in_password(client, DOTLESS, WRONG).status_code != 429
        assert sign_in_password(client, DOTLESS, WRONG).status_code == 429
        # Neither spelling gets past the lock, even with the right password.
        assert sign_in_password(client, "alice", password).status_code == 429
        assert sign_in_password(client, DOTLESS, password).status_code == 429
    assert set(Lockout.objects.values_list("username", flat=True)) == {"alice"}


def test_the_2fa_step_after_a_dotless_i_password_step_counts_on_the_same_pair(
    client, alice, password
):
    enroll(alice)
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            sign_in_password(client, DOTLESS, WRONG)
        assert sign_in_password(client, "alice", password).status_code == 302
        assert submit_code(client, "000000").status_code == 429
