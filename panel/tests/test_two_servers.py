"""More than one server: two gunicorn processes on two ports share one PostgreSQL and one
Redis, as a production deployment's web replicas do (services leg only).

Each check signs in or fails on one server and looks on the other: sessions, revocation,
the lockout's counters, a half-finished 2FA sign-in and TOTP replay protection all live
in the shared stores, never in a process.
"""

from __future__ import annotations

import pytest
from django.db import connection

from panel.tests.live import PASSWORD, Browser, start_gunicorn, stop_gunicorn
from panel.tests.plugin import _database_url
from security.sessions.models import TrackedSession
from security.tests.helpers import enroll

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_servers(tmp_path):
    """Two gunicorn servers (one sync worker each) on the test database and Redis."""
    env = {
        "DJANGO_SETTINGS_MODULE": "panel.settings.test",
        "DATABASE_URL": _database_url(connection.settings_dict),
        # The checks here are about shared state, not about risk: no emailed device code.
        "NEW_DEVICE_APPROVAL": "false",
        "SUSPICIOUS_SIGNIN_CHECKS": "false",
    }
    servers = []
    try:
        for n in range(2):
            servers.append(start_gunicorn(env, tmp_path / f"gunicorn-{n}.log"))
        yield [server.base for server in servers]
    finally:
        for server in servers:
            stop_gunicorn(server)
            # Shown with a failing test's report: what the server said (a 500's traceback).
            print(f"--- {server.base} ---\n{server.log.read_text()[-4000:]}")


def test_a_session_started_on_one_server_is_valid_on_the_other(two_servers, user_factory):
    first, second = two_servers
    user_factory("alice")
    browser = Browser()
    assert browser.sign_in(first, "alice") == (302, "/dashboard/")
    status, _, page = browser.request(second + "/dashboard/")
    assert status == 200 and "Alice" in page


def test_a_session_revoked_on_one_server_ends_on_the_other(two_servers, user_factory):
    first, second = two_servers
    alice = user_factory("alice")
    laptop, phone = Browser(), Browser()
    assert laptop.sign_in(first, "alice")[0] == 302
    assert phone.sign_in(second, "alice")[0] == 302
    laptop_session = TrackedSession.objects.filter(user=alice).order_by("created_at").first()
    # The phone confirms it's the owner (step-up) and revokes the laptop, on server two.
    assert phone.request(second + "/settings/sessions/confirm/", {"password": PASSWORD})[0] == 302
    status, location, _ = phone.request(
        second + f"/settings/sessions/{laptop_session.pk}/revoke/", {}
    )
    assert (status, location) == (302, "/settings/sessions/")
    # The laptop's next request, on server one, is signed out.
    status, location, _ = laptop.request(first + "/dashboard/")
    assert status == 302 and location.startswith("/auth/login/")


def test_failures_spread_over_both_servers_lock_the_account(two_servers, user_factory):
    first, second = two_servers
    user_factory("alice")
    attacker = Browser()
    statuses = [
        attacker.sign_in((first, second)[n % 2], "alice", "wrong password guess")[0]
        for n in range(6)
    ]
    assert statuses == [400] * 5 + [429]
    # Locked on both servers, the right password included.
    assert attacker.sign_in(first, "alice")[0] == 429
    assert attacker.sign_in(second, "alice")[0] == 429


def test_a_2fa_sign_in_begun_on_one_server_finishes_on_the_other_and_its_code_is_spent(
    two_servers, user_factory
):
    first, second = two_servers
    alice = user_factory("alice")
    enrolled = enroll(alice)
    code = enrolled.code()
    browser = Browser()
    assert browser.sign_in(first, "alice") == (302, "/auth/2fa/")
    status, location, _ = browser.request(second + "/auth/2fa/", {"code": code})
    assert (status, location) == (302, "/dashboard/")
    # The same code, typed again by another browser on the first server: a replay.
    other = Browser()
    assert other.sign_in(second, "alice") == (302, "/auth/2fa/")
    status, _, page = other.request(first + "/auth/2fa/", {"code": code})
    assert status == 400 and "didn" in page


def test_a_permission_taken_away_is_refused_at_once_on_both_servers(two_servers, user_factory):
    """Both servers keep the member's teams in the shared cache (teams.access, on with
    Redis); a change written anywhere replaces the generation both read."""
    from teams import catalog
    from teams.models import Membership, Permission, Role, Team

    first, second = two_servers
    catalog.ensure()  # a live-server test flushes the seeded catalog
    dave = user_factory("dave")
    acme = Team.objects.create(name="Acme")
    builders = Role.objects.create(team=acme, name="Builders")
    builders.permissions.set([Permission.objects.get(code="site.create")])
    membership = Membership.objects.create(team=acme, user=dave, role=builders)
    new_domain = f"/teams/{acme.pk}/domains/new/"
    browser = Browser()
    assert browser.sign_in(first, "dave") == (302, "/dashboard/")
    for base in (first, second, first, second):  # each server reads, then keeps them
        assert browser.request(base + new_domain)[0] == 200

    builders.permissions.remove(Permission.objects.get(code="site.create"))
    assert browser.request(second + new_domain)[0] == 403
    assert browser.request(first + new_domain)[0] == 403

    membership.delete()
    assert browser.request(first + f"/teams/{acme.pk}/")[0] == 404
    assert browser.request(second + f"/teams/{acme.pk}/")[0] == 404
