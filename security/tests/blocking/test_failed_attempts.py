"""The "Failed attempts" page: failures grouped by address and by name (hand-counted),
the current lockouts with the time left, and the audited unlock."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from security.lockout import policy
from security.lockout.models import Lockout
from security.tests.helpers import browser

pytestmark = pytest.mark.django_db

PAGE = "/operations/failed-attempts/"


def fail(ip: str, login: str, times: int = 1) -> None:
    client = browser(ip)
    for _ in range(times):
        client.post("/auth/login/", {"username": login, "password": "wrong-password-1"})


def test_failures_are_counted_per_address_and_per_name(operator_client, alice, bob):
    fail("203.0.113.1", "alice", 3)
    fail("203.0.113.1", "not-a-user", 2)
    fail("198.51.100.2", "bob", 1)
    fail("198.51.100.3", "not-a-user", 1)
    response = operator_client.get(PAGE)
    by_ip = {row["ip"]: row["failures"] for row in response.context["by_ip"]}
    assert by_ip == {"203.0.113.1": 5, "198.51.100.2": 1, "198.51.100.3": 1}
    by_name = {
        (row["user__username"] or "?" + row["fingerprint"][:8]): row["failures"]
        for row in response.context["by_name"]
    }
    fingerprint = policy.login_fingerprint("not-a-user")[:8]
    assert by_name == {"alice": 3, "bob": 1, "?" + fingerprint: 3}
    body = response.content.decode()
    assert "not-a-user" not in body
    assert f"#{fingerprint}" in body


def test_current_lockouts_show_the_time_left_and_hide_names_that_are_no_account(
    operator_client, alice, settings
):
    fail("203.0.113.1", "alice", settings.AXES_FAILURE_LIMIT)
    fail("203.0.113.2", "secret-typed-as-name", settings.AXES_FAILURE_LIMIT)
    response = operator_client.get(PAGE)
    rows = response.context["lockouts"]
    assert sorted((r["ip"], r["account"].username if r["account"] else None) for r in rows) == [
        ("203.0.113.1", "alice"),
        ("203.0.113.2", None),
    ]
    assert {r["left"] for r in rows} <= {"60 seconds", "59 seconds"}
    assert "secret-typed-as-name" not in response.content.decode()


def test_unlocking_an_account_lifts_its_lock_and_is_audited(operator_client, alice, settings):
    fail("203.0.113.1", "alice", settings.AXES_FAILURE_LIMIT)
    assert policy.status(ip="203.0.113.1", username="alice").locked
    response = operator_client.post(PAGE + "unlock/", {"username": "alice"})
    assert response["Location"] == PAGE
    assert not policy.status(ip="203.0.113.1", username="alice").locked
    event = AuditEvent.objects.get(action="unlock")
    assert (event.actor.username, event.user, event.metadata["target_kind"]) == (
        "operator",
        alice,
        "user",
    )


def test_unlocking_an_address_lifts_every_lock_from_it(operator_client, settings):
    fail("203.0.113.2", "made-up", settings.AXES_FAILURE_LIMIT)
    operator_client.post(PAGE + "unlock/", {"ip": "203.0.113.2"})
    assert not Lockout.objects.filter(ip="203.0.113.2").exists()
    assert AuditEvent.objects.get(action="unlock").metadata["target_ip"] == "203.0.113.2"


@pytest.mark.parametrize(
    "data", [{}, {"ip": "nope"}, {"username": "nobody"}, {"ip": "203.0.113.1", "username": "x"}]
)
def test_an_unlock_that_names_nothing_changes_nothing(operator_client, data):
    response = operator_client.post(PAGE + "unlock/", data)
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="unlock").exists()


def test_only_superusers_see_failed_attempts_or_unlock(client, alice, settings):
    fail("203.0.113.1", "alice", settings.AXES_FAILURE_LIMIT)
    client.force_login(alice)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE + "unlock/", {"username": "alice"}).status_code == 403
    assert policy.status(ip="203.0.113.1", username="alice").locked
