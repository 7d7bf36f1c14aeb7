"""Every sign-in attempt is in the audit trail: a password checked and refused is a
``signin`` failure, a POST refused because its pair is locked or its address is over the
sign-in rate is a ``signin`` denied (no password checked), so that attempts and events
reconcile (make bench-load counts them under attack)."""

from __future__ import annotations

import pytest
import time_machine

from audit.models import AuditEvent
from security.tests.helpers import sign_in_password

pytestmark = pytest.mark.django_db

WRONG = "this is not the password"
T0 = 1_800_000_000


@pytest.fixture(autouse=True)
def _no_suspicious_signin_holds(settings):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False


def events(outcome: str, reason: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action="signin", outcome=outcome, metadata__reason=reason)
    )


def test_each_post_refused_by_the_lock_is_audited_as_denied_with_the_account(client, alice):
    with time_machine.travel(T0, tick=False):
        statuses = [sign_in_password(client, "alice", WRONG).status_code for _ in range(9)]
    assert statuses == [400] * 5 + [429] * 4
    assert len(events("failure", "bad_credentials")) == 6  # the six passwords checked
    denied = events("denied", "locked")
    assert len(denied) == 3  # the three POSTs after the lock
    assert {event.user_id for event in denied} == {alice.pk}
    assert all(event.metadata["login"] == "alice" for event in denied)
    assert all(event.ip == "127.0.0.1" for event in denied)


def test_posts_over_the_sign_in_rate_are_audited_once_per_address_and_minute(client, settings):
    settings.SIGNIN_RATE_LIMIT = "3/m"
    with time_machine.travel(T0, tick=False):
        statuses = [sign_in_password(client, f"user{n}", WRONG).status_code for n in range(6)]
        other = sign_in_password(client, "user9", WRONG, REMOTE_ADDR="198.51.100.7")
    assert statuses == [400, 400, 400, 429, 429, 429]
    assert other.status_code == 400
    refused = events("denied", "rate_limited")
    assert len(refused) == 1
    # An unknown login is kept only as its keyed hash, as for a failed password.
    assert "login" not in refused[0].metadata
    assert refused[0].metadata["login_fingerprint"]
    with time_machine.travel(T0 + 61, tick=False):
        for n in range(4):
            sign_in_password(client, f"user{n}", WRONG)
    assert len(events("denied", "rate_limited")) == 2


def test_the_owner_sees_the_refusals_in_the_recent_activity(client, alice, password):
    from security.templatetags.security_sessions import signin_activity

    with time_machine.travel(T0, tick=False):
        for _ in range(7):
            sign_in_password(client, "alice", WRONG)
    labels = [row["label"] for row in signin_activity(alice)]
    assert "Sign-in refused: too many failed attempts" in labels
