"""A seeded history whose metrics are known (counted by hand in ``history``'s doc)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import RequestFactory

from accounts.models import OutboxEmail
from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from security.sessions.models import TrackedSession
from security.tests.helpers import enroll

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


def at(when, action, *, ip="198.51.100.1", outcome=AuditEvent.Outcome.SUCCESS, **kwargs):
    request = RequestFactory().get("/", REMOTE_ADDR=ip)
    with time_machine.travel(when, tick=False):
        return audit(action, request=request, outcome=outcome, **kwargs)


def ended_session(user, *, started, minutes: int, reason: str) -> None:
    TrackedSession.objects.create(
        user=user,
        session_key_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        created_at=started,
        last_active_at=started + timedelta(minutes=minutes),
        ended_at=started + timedelta(minutes=minutes),
        end_reason=reason,
    )


def email(when, status: str) -> None:
    with time_machine.travel(when, tick=False):
        OutboxEmail.objects.create(
            recipient="x@example.com", template="t", subject="s", status=status
        )


@pytest.fixture
def history(alice, bob, charlie, user_factory):
    """In the 24 hours before NOW (12:30 UTC on 10 March 2026):

    - 19 sign-ins, 1 wrong password: success rate 19/20 = 95%;
    - 2 sign-ins held as suspicious: 2/(19+2) = 9.5% (warning: > 5%, not > 10%);
    - 12 wrong 2FA codes from 203.0.113.50 between 09:00 and 09:59 and the wrong password
      from 198.51.100.1: the worst address's worst hour is 12 (warning: > 10, not > 20);
    - 2 lockouts;
    - 3 browsers trusted on a first sign-in, 1 by an emailed code: 75% automatic;
    - 1 password reset among 4 active accounts: 25%;
    - sessions ended: 3 idle, 1 at the maximum lifetime, 4 signed out after 30, 60, 90
      and 60 minutes: expiry rate 4/8 = 50%, average session 60 minutes;
    - 18 emails sent, 1 failed, 1 pending: failures 1/19 = 5.3% (warning);
    - 2FA: 1 of 4 active accounts = 25%.

    Two days earlier (in 7 days, not in 24 hours): one more wrong password, so the 7-day
    success rate is 19/21 = 90.5%.
    """
    dave = user_factory("dave")
    enroll(alice)
    base = NOW - timedelta(hours=10)  # 02:30
    for n in range(19):
        at(base + timedelta(minutes=n), Action.SIGNIN, user=bob)
    at(base, Action.SIGNIN, outcome=AuditEvent.Outcome.FAILURE, metadata={"reason": "x"})
    for n in range(2):
        at(base + timedelta(minutes=30 + n), Action.SUSPICIOUS_SIGNIN_HELD, user=charlie)
    for n in range(12):
        at(
            NOW.replace(hour=9, minute=n * 4),
            Action.TWO_FACTOR_FAILED,
            ip="203.0.113.50",
            outcome=AuditEvent.Outcome.FAILURE,
            user=alice,
        )
    for n in range(2):
        at(base + timedelta(hours=1, minutes=n), Action.LOCKOUT, outcome=AuditEvent.Outcome.DENIED)
    for via in ("first_signin", "first_signin", "first_signin", "emailed_code"):
        at(base, Action.DEVICE_TRUSTED, user=bob, metadata={"via": via})
    at(base, Action.PASSWORD_RESET, user=dave)
    start = NOW - timedelta(hours=20)
    for reason, minutes in [
        ("idle", 60),
        ("idle", 60),
        ("idle", 60),
        ("expired", 720),
        ("signout", 30),
        ("signout", 60),
        ("signout", 90),
        ("signout", 60),
    ]:
        ended_session(bob, started=start, minutes=minutes, reason=reason)
    for _ in range(18):
        email(base, OutboxEmail.Status.SENT)
    email(base, OutboxEmail.Status.FAILED)
    email(base, OutboxEmail.Status.PENDING)
    # Outside the 24 hours, inside 7 days.
    at(NOW - timedelta(days=2), Action.SIGNIN, outcome=AuditEvent.Outcome.FAILURE)
    return {"dave": dave}
