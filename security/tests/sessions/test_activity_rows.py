"""Whose events the Security tab's sign-in activity lists: the account's own, and failed
passwords typed for its username or email (recorded before anyone is known), never
another account's."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from security.templatetags.security_sessions import signin_activity

pytestmark = pytest.mark.django_db


def failed_password(login: str, ip: str) -> None:
    AuditEvent.objects.create(action="signin", outcome="failure", ip=ip, metadata={"login": login})


def test_failed_passwords_for_the_username_or_email_are_listed_and_no_one_elses(alice, bob):
    failed_password(alice.username.upper(), "198.51.100.1")
    failed_password(alice.email.upper(), "198.51.100.2")
    failed_password(bob.username, "198.51.100.3")
    failed_password(bob.email, "198.51.100.4")
    # Not a sign-in: an anonymous event of another kind with alice's login is not hers.
    AuditEvent.objects.create(
        action="lockout", outcome="failure", ip="198.51.100.5", metadata={"login": alice.username}
    )
    AuditEvent.objects.create(action="signin", outcome="success", user=bob, ip="198.51.100.6")
    AuditEvent.objects.create(action="signin", outcome="success", user=alice, ip="198.51.100.7")

    ips = {row["ip"] for row in signin_activity(alice)}

    assert ips == {"198.51.100.1", "198.51.100.2", "198.51.100.7"}
