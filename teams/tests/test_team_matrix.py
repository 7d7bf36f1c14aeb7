"""Every team URL (read from the URL configuration) as every team persona: anonymous,
outsider, Developer, Manager, Owner, and a member of two teams (Developer in Acme, Owner
of Globex). A team URL without a declared permission fails here."""

from __future__ import annotations

import pytest
from django.urls import reverse

from panel.tests.access import says_what_went_wrong, team_answer, url_patterns
from teams import services
from teams.models import Domain, Membership, Role

pytestmark = pytest.mark.django_db

TEAM_ROUTES = [r for r in url_patterns() if "team_id" in r.converters]
PERSONA_OF = {
    "charlie": "outsider",
    "dave": "developer",
    "mia": "manager",
    "alice": "owner",
    "olga": "two_teams",
}


def test_there_are_team_urls_and_each_declares_what_it_needs():
    assert len(TEAM_ROUTES) >= 10
    undeclared = [r.name for r in TEAM_ROUTES if not hasattr(r.view, "team_permission")]
    assert not undeclared, f"declare @team_permission on {undeclared}"


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
        answer = team_answer(needed, PERSONA_OF[user.username])
        if answer == "404":
            assert response.status_code == 404, where
        elif answer == "ok":
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


def team_fingerprint() -> dict:
    from audit.models import AuditEvent
    from teams.models import Invitation, Team

    return {
        "memberships": list(Membership.objects.order_by("pk").values_list("pk", "role_id")),
        "roles": list(Role.objects.order_by("pk").values_list("pk", "name")),
        "domains": list(Domain.objects.order_by("pk").values_list("pk", "hostname", "notes")),
        "invitations": list(
            Invitation.objects.order_by("pk").values_list(
                "pk", "token_hash", "revoked_at", "accepted_at"
            )
        ),
        "teams": list(Team.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


@pytest.mark.parametrize("route", TEAM_ROUTES, ids=lambda r: r.name)
def test_no_team_page_changes_anything_on_a_get_or_on_a_post_without_csrf_token(
    route, client, kwargs, alice
):
    path = reverse(route.name, kwargs={k: kwargs[k] for k in route.converters})
    client.force_login(alice)
    before = team_fingerprint()
    assert client.get(path).status_code < 500
    assert team_fingerprint() == before, f"GET {path} changed state"
    client.handler.enforce_csrf_checks = True
    try:
        response = client.post(path)
    finally:
        client.handler.enforce_csrf_checks = False
    assert response.status_code == 403, path
    assert team_fingerprint() == before, f"POST {path} without a CSRF token changed state"


@pytest.mark.parametrize("route", TEAM_ROUTES, ids=lambda r: r.name)
def test_an_empty_post_to_a_team_page_is_never_a_500(route, client, kwargs, alice, mia, dave):
    path = reverse(route.name, kwargs={k: kwargs[k] for k in route.converters})
    for user in (dave, mia, alice):
        client.force_login(user)
        assert client.post(path).status_code < 500, (path, user.username)
