"""The escalating lockout per (client IP, normalized username), its cost, the hard
limit, rate limits, and the operator's unlock."""

from __future__ import annotations

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import hashers
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from security.models import Lockout
from security.signin import pending
from security.tests.helpers import (
    LOGIN_URL,
    TWO_FACTOR_URL,
    enroll,
    sign_in_password,
    start_two_factor,
    submit_code,
)

pytestmark = pytest.mark.django_db

WRONG = "this is not the password"
T0 = 1_800_000_000


@pytest.fixture(autouse=True)
def _no_suspicious_signin_holds(settings):
    # Many failures followed by a success is also a "failure burst" that the suspicious
    # sign-in check (issue 4) holds for approval; these tests are about the counters.
    settings.SUSPICIOUS_SIGNIN_CHECKS = False


def signed_in(client, user) -> bool:
    return client.session.get("_auth_user_id") == str(user.pk)


@pytest.fixture
def hash_spy(monkeypatch):
    """Counts every password hash computed or checked (get_hasher is the one door)."""
    calls = []
    real = hashers.get_hasher

    def spy(algorithm="default"):
        calls.append(algorithm)
        return real(algorithm)

    monkeypatch.setattr(hashers, "get_hasher", spy)
    return calls


def fail(client, login="alice", times=1, **extra):
    responses = [sign_in_password(client, login, WRONG, **extra) for _ in range(times)]
    return responses[-1]


def is_locked(response) -> bool:
    return response.status_code == 429


def test_six_failures_lock_and_the_seventh_is_refused_even_with_the_right_password(
    client, alice, password, hash_spy
):
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            assert fail(client).status_code == 400
        sixth = fail(client)
        assert is_locked(sixth)
        hash_spy.clear()
        seventh = sign_in_password(client, "alice", password)
    assert is_locked(seventh)
    assert seventh["Retry-After"] == "60"
    assert "Too many failed attempts. Please wait 60 seconds" in seventh.content.decode()
    assert hash_spy == []
    assert "_auth_user_id" not in client.session


def test_the_lock_is_lifted_after_60_seconds(client, alice, password):
    with time_machine.travel(T0, tick=False) as traveller:
        fail(client, times=6)
        traveller.shift(59)
        assert is_locked(sign_in_password(client, "alice", password))
        traveller.shift(2)
        response = sign_in_password(client, "alice", password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_the_locked_page_does_not_reveal_whether_the_account_exists(client, alice):
    with time_machine.travel(T0, tick=False):
        known = fail(client, "alice", times=6)
        unknown = fail(client, "nobody-here", times=6)
    assert is_locked(known) and is_locked(unknown)
    assert known.content == unknown.content
    assert known["Retry-After"] == unknown["Retry-After"]


def test_username_case_variants_and_the_email_share_one_counter(client, alice, password):
    with time_machine.travel(T0, tick=False):
        fail(client, "Alice", times=2)
        fail(client, "alice", times=2)
        fail(client, "ALICE@example.COM", times=1)
        assert is_locked(fail(client, "alice@example.com"))
        assert is_locked(sign_in_password(client, "ALICE", password))
    assert set(AccessAttempt.objects.values_list("username", flat=True)) <= {"alice"}


def test_a_forged_x_forwarded_for_does_not_reset_the_counter(client, alice, password):
    with time_machine.travel(T0, tick=False):
        for n in range(6):
            fail(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        response = sign_in_password(client, "alice", password, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert is_locked(response)


def test_another_address_is_not_locked_by_this_one(client, alice, password):
    with time_machine.travel(T0, tick=False):
        fail(client, times=6, REMOTE_ADDR="203.0.113.10")
        response = sign_in_password(client, "alice", password, REMOTE_ADDR="203.0.113.11")
    assert response.status_code == 302


def test_repeat_lockouts_escalate_from_60_seconds_to_5_minutes_to_1_hour(client, alice):
    with time_machine.travel(T0, tick=False) as traveller:
        assert fail(client, times=6)["Retry-After"] == "60"
        traveller.shift(61)
        assert fail(client, times=5).status_code == 400
        second = fail(client)
        assert second["Retry-After"] == "300"
        assert "5 minutes" in second.content.decode()
        traveller.shift(299)
        assert is_locked(fail(client))
        traveller.shift(2)
        third = fail(client, times=6)
        assert third["Retry-After"] == "3600"
        traveller.shift(3601)
        assert fail(client, times=6)["Retry-After"] == "3600"
    levels = list(
        AuditEvent.objects.filter(action="lockout")
        .order_by("pk")
        .values_list("metadata", flat=True)
    )
    assert [m["seconds"] for m in levels] == [60, 300, 3600, 3600]


def test_failures_more_than_10_minutes_apart_do_not_add_up(client, alice):
    with time_machine.travel(T0, tick=False) as traveller:
        fail(client, times=5)
        traveller.shift(11 * 60)
        assert fail(client).status_code == 400


def test_a_success_clears_only_that_pair(client, alice, password):
    a = {"REMOTE_ADDR": "203.0.113.1"}
    b = {"REMOTE_ADDR": "203.0.113.2"}
    with time_machine.travel(T0, tick=False):
        fail(client, times=5, **a)
        fail(client, times=5, **b)
        assert sign_in_password(client, "alice", password, **a).status_code == 302
        assert signed_in(client, alice)
        client.post("/auth/logout/", **a)
        # Pair A starts from zero; pair B still has its five failures.
        assert fail(client, times=5, **a).status_code == 400
        assert is_locked(fail(client, **b))


def test_six_failed_2fa_codes_lock_and_destroy_the_pending_sign_in(client, alice, password):
    enrolled = enroll(alice)
    with time_machine.travel(T0, tick=False):
        start_two_factor(client, alice, password)
        for _ in range(5):
            assert submit_code(client, "000000").status_code == 400
        locked = submit_code(client, "000000")
        assert is_locked(locked)
        assert locked["Retry-After"] == "60"
        assert pending.SESSION_KEY not in client.session
        # Even the right code cannot be used now: the half-signed-in state is gone.
        after = submit_code(client, enrolled.code())
        assert after.status_code == 302
        assert after["Location"] == LOGIN_URL
        assert is_locked(sign_in_password(client, "alice", password))
    assert AuditEvent.objects.filter(action="2fa_failed").count() == 6
    assert AuditEvent.objects.filter(action="lockout").count() == 1


def test_failed_passwords_and_failed_backup_codes_share_the_counter(client, alice, password):
    enroll(alice)
    with time_machine.travel(T0, tick=False):
        fail(client, times=3)
        start_two_factor(client, alice, password)
        submit_code(client, "zzzz-zzzz-zzzz-zzzz", backup=True)
        submit_code(client, "zzzz-zzzz-zzzz-zzzy", backup=True)
        assert is_locked(submit_code(client, "zzzz-zzzz-zzzz-zzzx", backup=True))


def test_a_locked_pair_cannot_open_the_2fa_step(client, alice, password):
    enroll(alice)
    with time_machine.travel(T0, tick=False):
        start_two_factor(client, alice, password)
        other = client.__class__()
        fail(other, times=6)  # same IP, same user: the pair is locked
        response = client.get(TWO_FACTOR_URL)
        assert is_locked(response)
        assert pending.SESSION_KEY not in client.session


def test_100_consecutive_failures_from_any_address_hard_lock_the_account(
    client, alice, password, settings
):
    settings.LOCKOUT_ACCOUNT_HARD_LIMIT = 10
    with time_machine.travel(T0, tick=False):
        for n in range(10):
            fail(client, REMOTE_ADDR=f"198.51.100.{n}")
        response = sign_in_password(client, "alice", password, REMOTE_ADDR="192.0.2.99")
        assert is_locked(response)
        assert "reset your password or contact support" in response.content.decode()
    with time_machine.travel(T0 + 86400, tick=False):
        assert is_locked(sign_in_password(client, "alice", password, REMOTE_ADDR="192.0.2.99"))
        call_command("unlock", "alice")
        assert (
            sign_in_password(client, "alice", password, REMOTE_ADDR="192.0.2.99").status_code == 302
        )
        assert signed_in(client, alice)


def test_a_new_password_lifts_the_hard_lock(client, alice, password, settings):
    settings.LOCKOUT_ACCOUNT_HARD_LIMIT = 10
    with time_machine.travel(T0, tick=False):
        for n in range(10):
            fail(client, REMOTE_ADDR=f"198.51.100.{n}")
        assert is_locked(sign_in_password(client, "alice", password, REMOTE_ADDR="192.0.2.99"))
        # What a completed password reset does to the account.
        alice.set_password("a brand new passphrase 2027")
        alice.save()
        response = sign_in_password(
            client, "alice", "a brand new passphrase 2027", REMOTE_ADDR="192.0.2.99"
        )
    assert response.status_code == 302
    assert signed_in(client, alice)


def test_a_success_resets_the_per_account_run_of_failures(client, alice, password, settings):
    settings.LOCKOUT_ACCOUNT_HARD_LIMIT = 10
    with time_machine.travel(T0, tick=False):
        for n in range(5):
            fail(client, REMOTE_ADDR=f"198.51.100.{n}")
        assert sign_in_password(client, "alice", password).status_code == 302
        assert signed_in(client, alice)
        client.post("/auth/logout/")
        for n in range(5):
            fail(client, REMOTE_ADDR=f"198.51.100.{n + 10}")
        assert sign_in_password(client, "alice", password).status_code == 302
        assert signed_in(client, alice)


def test_the_sign_in_post_is_rate_limited_per_ip(client, alice, settings):
    settings.SIGNIN_RATE_LIMIT = "3/m"
    with time_machine.travel(T0, tick=False):
        statuses = [fail(client, f"user{n}").status_code for n in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_the_2fa_post_is_rate_limited_per_ip(client, alice, password, settings):
    settings.TWO_FACTOR_RATE_LIMIT = "2/m"
    enroll(alice)
    with time_machine.travel(T0, tick=False):
        start_two_factor(client, alice, password)
        statuses = [submit_code(client, "000000").status_code for _ in range(3)]
    assert statuses[-1] == 429


# --- Operators ----------------------------------------------------------------------------


def test_unlock_by_user_lifts_the_lock_and_is_audited(client, alice, password, capsys):
    with time_machine.travel(T0, tick=False):
        fail(client, times=6)
        call_command("unlock", "Alice@Example.com")
        assert sign_in_password(client, "alice", password).status_code == 302
        assert signed_in(client, alice)
    out = capsys.readouterr().out.strip()
    assert out.startswith("Unlocked alice: cleared")
    assert len(out.splitlines()) == 1
    event = AuditEvent.objects.get(action="unlock")
    assert event.user == alice
    assert event.metadata["target_kind"] == "user"


def test_unlock_by_ip_lifts_every_lock_of_that_address(client, alice, bob, password):
    with time_machine.travel(T0, tick=False):
        fail(client, "alice", times=6)
        fail(client, "bob", times=6)
        call_command("unlock", "127.0.0.1")
        assert sign_in_password(client, "bob", password).status_code == 302
        assert signed_in(client, bob)
    assert not Lockout.objects.filter(ip="127.0.0.1", locked_until__isnull=False).exists()


def test_unlock_dry_run_changes_nothing(client, alice, capsys):
    with time_machine.travel(T0, tick=False):
        fail(client, times=6)
        call_command("unlock", "alice", "--dry-run")
        assert is_locked(fail(client))
    assert capsys.readouterr().out.startswith("Dry run: would unlock alice")
    assert not AuditEvent.objects.filter(action="unlock").exists()


def test_unlock_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="neither an IP address nor"):
        call_command("unlock", "nobody")
