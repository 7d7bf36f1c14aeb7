"""Exact query counts of the team pages, and none that grows with the rows shown.

Every team page starts with the 2 of a signed-in page (the session's row with the
tracked-session row and its user in the same query, the user's memberships with their roles and permission codes: the one
query that resolves the team and the permission, teams.access). Then:

- Domains adds 1 (the domains);
- Members adds 4 (the count for the pager, the page of members with their role and 2FA
  state, the roles for the role pickers and their permissions);
- Invitations adds 3 (the roles and their permissions, the invitations);
- Roles adds 3 (the roles, their permissions, the catalog);
- Permission audit and its CSV add 3 (the catalog, the members, their roles' permissions);
- Security policy adds 0.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from panel.tests.access import browser, sign_in
from teams import services
from teams.models import Domain, Role

from .conftest import join

pytestmark = pytest.mark.django_db

SIGNED_IN_PAGE = 2
PAGES = {
    "domains": 1,
    "members": 4,
    "invitations": 3,
    "roles": 3,
    "permissions": 3,
    "permissions_csv": 3,
    "policy": 0,
}


@pytest.fixture(autouse=True)
def _fresh(settings):
    # The memberships read from the database on both legs (with Redis they come from the
    # cache until a team changes: panel/tests/test_query_counts.py pins that saving).
    settings.TEAM_ACCESS_CACHE_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner_browser(alice, acme, password):
    client = browser("198.51.100.60")
    sign_in(client, alice, password)
    client.get(reverse("dashboard"))
    return client


def grow(team, owner, user_factory, n: int, start: int) -> None:
    developer = Role.objects.get(team__isnull=True, name="Developer")
    for i in range(start, start + n):
        join(team, user_factory(f"member{i}"), Role.DEVELOPER)
        Domain.objects.create(team=team, hostname=f"d{i}.example.com")
        services.invitation_create(
            actor=owner, team=team, email=f"inv{i}@example.com", role=developer
        )
        Role.objects.create(team=team, name=f"Custom {i}").permissions.set(
            developer.permissions.all()
        )


def count(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_team_page_takes_a_fixed_number_of_queries_whatever_the_rows(
    name, owner_browser, alice, acme, user_factory
):
    path = reverse(f"teams:{name}", kwargs={"team_id": acme.pk})
    grow(acme, alice, user_factory, 2, 0)
    few = count(owner_browser, path)
    grow(acme, alice, user_factory, 10, 100)
    many = count(owner_browser, path)
    assert few == many == SIGNED_IN_PAGE + PAGES[name], (few, many)
