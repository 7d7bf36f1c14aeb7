"""Every team URL (read from the URL configuration) as every team persona: anonymous,
outsider, Developer, Manager, Owner, and a member of two teams (Developer in Acme, Owner
of Globex). A team URL without a declared permission fails here."""

from __future__ import annotations

import pytest
from django.urls import reverse

from panel.tests.access import says_what_went_wrong, url_patterns
from teams import services
from teams.decorators import MEMBER, OWNER
from teams.models import Domain, Membership, Role

pytestmark = pytest.mark.django_db

TEAM_ROUTES = [r for r in url_patterns() if "team_id" in r.converters]
ROLE_OF = {"dave": "Developer", "mia": "Manager", "alice": "Owner", "olga": "Developer"}
HELD = {
    "Developer": {"team.view", "site.create", "site.edit", "site.delete"},
    "Manager": {
        "team.view",
        "team.manage",
        "team.invite",
        "site.create",
        "site.edit",
        "site.delete",
    },
}


def test_there_are_team_urls_and_each_declares_what_it_needs():
    assert len(TEAM_ROUTES) >= 10
    undeclared = [r.name for r in TEAM_ROUTES if not hasattr(r.view, "team_permission")]
    assert not undeclared, f"declare @team_permission on {undeclared}"


def allowed(needed: str, role: str) -> bool:
    if role == "Owner" or needed == MEMBER:
        return True
    if needed == OWNER:
        return False
    return needed in HELD[role]


@pytest.fixture
def kwargs(acme, alice, dave):
    invited = services.invitation_create(
        actor=alice, team=acme, email="new@example.com", role=Role.objects.get(name="Developer")
    )
    domain = Domain.objects.create(team=acme, hostname="example.com")
    role = Role.objects.create(team=acme, name="Ops")
    membership = Membership.objects.get(team=acme, user=dave)
    return {
        "team_id": acme.pk,
        "domain_id": domain.pk,
        "role_id": role.pk,
        "membership_id": membership.pk,
        "invitation_id": invited.invitation.pk,
    }


@pytest.mark.parametrize("route", TEAM_ROUTES, ids=lambda r: r.name)
def test_each_team_page_answers_each_team_persona_by_its_declared_permission(
    route, client, kwargs, alice, mia, dave, olga, charlie
):
    path = reverse(route.name, kwargs={k: kwargs[k] for k in route.converters})
    needed = route.view.team_permission

    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")

    for user in (charlie, dave, mia, alice, olga):
        client.force_login(user)
        response = client.get(path)
        where = f"GET {path} as {user.username} (needs {needed or 'membership'})"
        if user is charlie:
            assert response.status_code == 404, where
        elif allowed(needed, ROLE_OF[user.username]):
            assert response.status_code in (200, 302, 405), where
        else:
            assert response.status_code == 403, where
            body = response.content.decode()
            assert says_what_went_wrong(body), where
            assert "Owner" in body, where  # says whom to ask
        client.logout()


def test_a_member_without_the_permission_is_told_which_one_is_missing(client, dave, acme):
    client.force_login(dave)
    response = client.get(reverse("teams:roles", kwargs={"team_id": acme.pk}) + "new/")
    assert response.status_code == 403
    assert "team.manage" in response.content.decode()


def test_ownership_of_another_team_gives_nothing_here(client, olga, acme):
    client.force_login(olga)
    response = client.get(reverse("teams:policy", kwargs={"team_id": acme.pk}))
    assert response.status_code == 403
