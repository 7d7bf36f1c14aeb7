"""The operators' account commands: force_password_change, disable_account,
enable_account and security_report."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import controls
from audit.models import AuditEvent
from audit.services import audit

pytestmark = pytest.mark.django_db

COMMANDS = ("force_password_change", "disable_account", "enable_account", "security_report")


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_explains_itself_with_help(name, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command(name, "--help")
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "usage:" in text and len(text) > 200


@pytest.mark.parametrize("name", ["force_password_change", "disable_account", "enable_account"])
def test_an_unknown_user_is_a_clear_error_and_changes_nothing(name):
    with pytest.raises(CommandError, match="No user with the username or email 'ghost'"):
        run(name, "ghost")
    assert not AuditEvent.objects.exists()


def test_force_password_change_flags_the_user_by_email_and_audits_the_command(alice):
    out = run("force_password_change", "ALICE@example.com")
    assert "alice must choose a new password" in out
    alice.refresh_from_db()
    assert alice.must_change_password
    event = AuditEvent.objects.get(action="password_change_forced")
    assert event.actor is None and event.user == alice
    assert event.metadata["source"] == "command"


def test_disable_and_enable_round_trip_and_a_repeat_is_a_clear_error(alice):
    assert "Disabled alice" in run("disable_account", "alice")
    alice.refresh_from_db()
    assert not alice.is_active
    with pytest.raises(CommandError, match="already disabled"):
        run("disable_account", "alice")
    assert "Enabled alice" in run("enable_account", "alice")
    alice.refresh_from_db()
    assert alice.is_active
    assert list(
        AuditEvent.objects.filter(user=alice).order_by("pk").values_list("action", flat=True)
    ) == ["account_disabled", "account_enabled"]


def test_a_dry_run_changes_nothing(alice):
    out = run("disable_account", "alice", "--dry-run")
    assert out.startswith("Dry run")
    alice.refresh_from_db()
    assert alice.is_active
    assert not AuditEvent.objects.exists()


@pytest.fixture
def history(alice, bob, operator, enroll_totp):
    enroll_totp(alice)
    controls.disable_account(actor=operator, user=bob)
    controls.force_password_change(actor=operator, user=alice)
    audit("impersonation_started", actor=operator, user=alice)
    audit("impersonation_ended", actor=operator, user=alice)
    audit("lockout", actor=None, user=alice, outcome="denied")
    audit("signin", actor=None, user=alice, outcome="failure", metadata={"reason": "x"})


def test_security_report_as_json_parses_and_counts_the_period(history):
    report = json.loads(run("security_report", "--json", "--days", "30"))
    assert report["period"]["days"] == 30
    # alice (2FA) and operator are active; bob is disabled.
    assert report["two_factor"]["users"] == 2
    assert report["two_factor"]["with_2fa"] == 1
    assert report["two_factor"]["percent"] == 50.0
    assert report["two_factor"]["superusers_without_2fa"] == ["operator"]
    assert report["impersonations"] == {
        "started": 1,
        "ended": 1,
        "by_impersonator": {"operator": 1},
    }
    assert report["lockouts"]["locked"] == 1
    assert report["signins"]["failed"] == 1
    assert report["account_controls"]["disabled"] == 1
    assert report["account_controls"]["disabled_now"] == 1
    assert report["account_controls"]["must_change_password_now"] == 1
    assert report["suspicious_signins"]["held"] == 0
    run_event = AuditEvent.objects.get(action="security_report")
    assert run_event.metadata == {"days": 30, "format": "json"}


def test_security_report_as_text_names_each_section(history):
    out = run("security_report")
    for heading in (
        "Two-factor authentication",
        "Lockouts",
        "Suspicious sign-ins",
        "Impersonations",
        "Account controls",
    ):
        assert heading in out
    assert "1 of 2 accounts (50.0%)" in out
    assert "without 2FA: operator" in out
    assert "started 1, ended 1 (operator 1)" in out


def test_security_report_leaves_out_events_before_the_period(history):
    from datetime import timedelta

    from django.utils import timezone

    from security.management.commands.security_report import build_report

    later = timezone.now() + timedelta(days=10)
    report = build_report(days=7, now=later)
    assert report["impersonations"]["started"] == 0
    assert report["account_controls"]["disabled"] == 0
    assert report["account_controls"]["disabled_now"] == 1  # a state, not an event


@pytest.mark.parametrize("days", ["0", "-3", "100000"])
def test_security_report_refuses_a_period_out_of_range(days):
    with pytest.raises(CommandError, match="--days must be between"):
        run("security_report", "--days", days)
