"""Retention: the daily purge (Celery beat and manage.py purge_expired) deletes what is
expired or past its period, keeps what is still needed, and never touches audit events."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from accounts.models import OutboxEmail
from audit.models import AuditEvent
from audit.services import audit
from security import retention, tasks
from security.blocking.models import BlockedNetwork
from security.devices import services as devices
from security.models import Lockout, NewDeviceChallenge, SuspiciousSignIn, TrackedSession

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def ago(**kwargs):
    return NOW - timedelta(**kwargs)


def created_at(when, factory):
    """Run ``factory`` with the clock at ``when`` (auto_now_add fields take that time)."""
    with time_machine.travel(when, tick=False):
        return factory()


def exists(obj) -> bool:
    return type(obj).objects.filter(pk=obj.pk).exists()


# --- Records ------------------------------------------------------------------------------


def challenge(user, *, expires, used=None):
    return NewDeviceChallenge.objects.create(
        user=user, code_hash="x", device_token_hash="y", code_expires_at=expires, used_at=used
    )


def held(user, *, created, status=SuspiciousSignIn.Status.DENIED):
    return SuspiciousSignIn.objects.create(
        user=user, status=status, created_at=created, expires_at=created + timedelta(minutes=30)
    )


_keys = iter(range(10**6))


def session_record(user, *, created, ended=None, method="password"):
    return TrackedSession.objects.create(
        user=user,
        session_key_hash=f"{next(_keys):064d}",
        method=method,
        created_at=created,
        last_active_at=created,
        ended_at=ended,
        end_reason="signout" if ended else "",
    )


def outbox(when, status=OutboxEmail.Status.SENT):
    return created_at(
        when,
        lambda: OutboxEmail.objects.create(
            recipient="a@example.com", template="t", subject="s", status=status
        ),
    )


def attempt(when, model=AccessAttempt, **extra):
    fields = {"user_agent": "", "ip_address": "192.0.2.1", "username": "alice"}
    fields |= {"http_accept": "", "path_info": "/auth/login/"} | extra
    if model is AccessAttempt:
        fields |= {"get_data": "", "post_data": "", "failures_since_start": 1}
    return created_at(when, lambda: model.objects.create(**fields))


def lockout_row(when, **fields):
    return created_at(when, lambda: Lockout.objects.create(**fields))


# --- What goes, what stays ---------------------------------------------------------------


def test_used_and_expired_new_device_codes_are_purged_and_live_ones_kept(alice):
    used = challenge(alice, expires=NOW + timedelta(minutes=5), used=ago(minutes=1))
    expired = challenge(alice, expires=ago(seconds=1))
    live = challenge(alice, expires=NOW + timedelta(minutes=9))
    summary = retention.purge_expired()
    assert summary.counts["device_codes"] == 2
    assert not exists(used) and not exists(expired) and exists(live)


def test_held_sign_ins_are_kept_30_days_after_they_end(alice):
    old_denied = held(alice, created=ago(days=31))
    old_completed = held(alice, created=ago(days=31), status=SuspiciousSignIn.Status.COMPLETED)
    old_expired = held(alice, created=ago(days=31), status=SuspiciousSignIn.Status.PENDING)
    recent = held(alice, created=ago(days=29))
    waiting = held(alice, created=ago(minutes=5), status=SuspiciousSignIn.Status.PENDING)
    assert retention.purge_expired().counts["held_signins"] == 3
    assert not any(map(exists, (old_denied, old_completed, old_expired)))
    assert exists(recent) and exists(waiting)


def test_ended_sessions_are_kept_90_days_and_the_latest_sign_in_always(alice, bob):
    old = session_record(alice, created=ago(days=200), ended=ago(days=91))
    recent = session_record(alice, created=ago(days=100), ended=ago(days=89))
    live = session_record(alice, created=ago(days=1))
    # Bob has not signed in for a year: his last sign-in stays, the older one goes.
    bobs_first = session_record(bob, created=ago(days=400), ended=ago(days=399))
    bobs_last = session_record(bob, created=ago(days=300), ended=ago(days=299))
    assert retention.purge_expired().counts["tracked_sessions"] == 2
    assert not exists(old) and not exists(bobs_first)
    assert exists(recent) and exists(live) and exists(bobs_last)
    # So a new browser is still "an additional device" for bob (the emailed code applies).
    assert devices.is_first_signin(bob) is False


def test_expired_django_sessions_are_cleared(alice_client):
    alice_client.get("/dashboard/")
    live = Session.objects.get()
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=ago(seconds=1))
    assert retention.purge_expired().counts["django_sessions"] == 1
    assert list(Session.objects.all()) == [live]


def test_sent_emails_are_kept_30_days_and_unsent_ones_stay(db):
    old_sent = outbox(ago(days=31))
    recent_sent = outbox(ago(days=29))
    old_pending = outbox(ago(days=40), OutboxEmail.Status.PENDING)
    old_failed = outbox(ago(days=40), OutboxEmail.Status.FAILED)
    assert retention.purge_expired().counts["sent_emails"] == 1
    assert not exists(old_sent)
    assert exists(recent_sent) and exists(old_pending) and exists(old_failed)


def test_axes_counters_outlive_their_window_by_the_margin_and_the_log_by_90_days(db):
    window = django_settings.AXES_COOLOFF_TIME + django_settings.RETENTION_ACCESS_ATTEMPTS_MARGIN
    stale = attempt(NOW - window - timedelta(seconds=1))
    counting = attempt(ago(minutes=5), ip_address="192.0.2.2")
    old_log = attempt(ago(days=91), AccessFailureLog)
    recent_log = attempt(ago(days=89), AccessFailureLog)
    counts = retention.purge_expired().counts
    assert counts["access_attempts"] == 1 and counts["failure_logs"] == 1
    assert not exists(stale) and not exists(old_log)
    assert exists(counting) and exists(recent_log)


def test_lockout_rows_go_only_when_nothing_depends_on_them(db):
    forgotten = lockout_row(
        ago(hours=25), ip="192.0.2.1", username="a", level=1,
        locked_until=ago(hours=25) + timedelta(seconds=60), last_locked_at=ago(hours=25),
    )  # fmt: skip
    escalating = lockout_row(
        ago(hours=2), ip="192.0.2.2", username="a", level=2,
        locked_until=ago(hours=2) + timedelta(minutes=5), last_locked_at=ago(hours=2),
    )  # fmt: skip
    locked_now = lockout_row(
        ago(days=2), ip="192.0.2.3", username="a", level=3,
        locked_until=NOW + timedelta(minutes=30), last_locked_at=ago(days=2),
    )  # fmt: skip
    counting_account = lockout_row(ago(days=30), ip=None, username="b", consecutive_failures=42)
    hard_locked = lockout_row(ago(days=30), ip=None, username="c", hard_locked=True)
    clean_account = lockout_row(ago(days=30), ip=None, username="d", consecutive_failures=0)
    assert retention.purge_expired().counts["lockouts"] == 2
    assert not exists(forgotten) and not exists(clean_account)
    assert all(map(exists, (escalating, locked_now, counting_account, hard_locked)))


def test_ip_blocks_go_a_week_after_they_expired_and_the_purge_is_audited(operator):
    def block(network, expires_at):
        return BlockedNetwork.objects.create(
            network=network, reason="test", expires_at=expires_at, created_by=operator
        )

    long_gone = block("192.0.2.1/32", ago(days=8))
    just_over = block("192.0.2.2/32", ago(days=7, seconds=1))
    recently = block("192.0.2.3/32", ago(days=6))  # still listed as expired
    active = block("2001:db8::/32", NOW + timedelta(days=1))
    forever = block("198.51.100.0/24", None)
    assert timedelta(days=7) == django_settings.RETENTION_EXPIRED_BLOCKS
    assert retention.purge_expired(dry_run=True).counts["ip_blocks"] == 2
    assert exists(long_gone)
    assert retention.purge_expired().counts["ip_blocks"] == 2
    assert not exists(long_gone) and not exists(just_over)
    assert all(map(exists, (recently, active, forever)))
    event = AuditEvent.objects.get(action="retention_purge")
    assert event.metadata["counts"]["ip_blocks"] == 2
    # The still-active block keeps refusing its network.
    assert BlockedNetwork.objects.active().count() == 2


def test_audit_events_are_never_purged_and_each_run_is_audited(alice):
    old = created_at(ago(days=3650), lambda: audit("signin", user=alice))
    held(alice, created=ago(days=31))
    retention.purge_expired()
    assert exists(old)
    event = AuditEvent.objects.get(action="retention_purge")
    assert event.actor is None
    assert event.metadata["source"] == "command"
    assert event.metadata["counts"]["held_signins"] == 1


# --- The command and the task --------------------------------------------------------------


def test_a_dry_run_counts_and_deletes_nothing(alice, capsys):
    codes = [challenge(alice, expires=ago(seconds=1)) for _ in range(3)]
    old_sent = outbox(ago(days=31))
    call_command("purge_expired", "--dry-run")
    out = capsys.readouterr().out.strip()
    assert out.startswith("Dry run: would purge 3 new-device codes, 0 held sign-ins,")
    assert "1 sent email," in out and "\n" not in out
    assert all(map(exists, codes)) and exists(old_sent)
    assert not AuditEvent.objects.filter(action="retention_purge").exists()


def test_the_command_purges_and_prints_one_line(alice, capsys):
    challenge(alice, expires=ago(seconds=1))
    call_command("purge_expired")
    out = capsys.readouterr().out.strip()
    assert out == (
        "Purged 1 new-device code, 0 held sign-ins, 0 ended session records, "
        "0 expired sessions, 0 sent emails, 0 failure counters, 0 failed-attempt log rows, "
        "0 lockout records, 0 expired IP blocks; audit events are kept."
    )
    assert not NewDeviceChallenge.objects.exists()
    assert AuditEvent.objects.get(action="retention_purge").metadata["source"] == "command"


def test_the_celery_task_runs_the_purge_daily(alice):
    entry = next(
        e for e in django_settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "security.tasks.purge_expired"
    )  # fmt: skip
    assert entry["schedule"] == timedelta(days=1)
    challenge(alice, expires=ago(seconds=1))
    result = tasks.purge_expired.delay()  # eager in tests
    assert result.get()["device_codes"] == 1
    assert not NewDeviceChallenge.objects.exists()
    assert AuditEvent.objects.get(action="retention_purge").metadata["source"] == "task"
