"""Security review: a login names an account by one rule, the unique constraints'
LOWER() (services leg: PostgreSQL, whose ``iexact`` is a different, wider rule).

PostgreSQL runs ``iexact`` as ``UPPER(a) = UPPER(b)``: ``UPPER('alıce')`` (dotless i) is
``ALICE``. When sign-in matched with ``iexact``, "alıce" signed in as alice while the
lockout counted it under its own key (six more guesses per spelling), and
``victim@gmaıl.com`` counted as the taken address ``victim@gmail.com``. With LOWER() on
both sides such spellings name no account: they cannot sign in, so the counter they land
on guards nothing.
"""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection

from accounts.backends import normalize_login
from accounts.models import User
from security.models import Lockout
from security.tests.helpers import enroll, sign_in_password, submit_code

pytestmark = [pytest.mark.services, pytest.mark.django_db]

WRONG = "this is not the password"
T0 = 1_800_000_000
DOTLESS = "al\u0131ce"  # alıce


@pytest.fixture(autouse=True)
def _no_suspicious_signin_holds(settings):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False


def test_postgresqls_iexact_would_fold_the_dotless_i_but_the_login_rule_does_not(alice):
    # The premise: the database's UPPER() folds alıce to ALICE ...
    assert connection.vendor == "postgresql"
    assert User.objects.filter(username__iexact=DOTLESS).get() == alice
    # ... and the panel's rule (the unique constraint's LOWER()) does not.
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_login(DOTLESS)


def test_a_dotless_i_spelling_does_not_sign_in_as_the_account(client, alice, password):
    response = sign_in_password(client, DOTLESS, password)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_every_spelling_that_signs_in_as_the_account_has_the_accounts_counter_key(alice):
    assert normalize_login(" ALICE ") == "alice"
    assert normalize_login("ALICE@EXAMPLE.COM") == "alice"
    assert normalize_login(DOTLESS) == DOTLESS


def test_an_idn_look_alike_address_is_not_the_taken_address(user_factory):
    victim = user_factory("victim", email="victim@gmail.com")
    look_alike = "victim@gma\u0131l.com"
    assert User.objects.with_email(look_alike).first() is None
    assert User.objects.with_email("VICTIM@GMAIL.COM").get() == victim


def test_wrong_passwords_under_case_variants_lock_the_account_pair(client, alice, password):
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            sign_in_password(client, "alice", WRONG)
        for _ in range(2):
            assert sign_in_password(client, "ALICE", WRONG).status_code != 429
        assert sign_in_password(client, "Alice@Example.com", WRONG).status_code == 429
        assert sign_in_password(client, "alice", password).status_code == 429
    assert set(Lockout.objects.values_list("username", flat=True)) == {"alice"}


def test_the_2fa_step_after_a_case_variant_password_step_counts_on_the_same_pair(
    client, alice, password
):
    enroll(alice)
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            sign_in_password(client, "ALICE", WRONG)
        assert sign_in_password(client, "alice", password).status_code == 302
        assert submit_code(client, "000000").status_code == 429
