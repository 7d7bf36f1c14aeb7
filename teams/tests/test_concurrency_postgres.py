"""Races that only a real database shows (the services leg: PostgreSQL)."""

from __future__ import annotations

import pytest

from security.tests.helpers import race
from teams import catalog, services
from teams.exceptions import Escalation, InvitationUnusable, LastOwner, PermissionMissing
from teams.models import Invitation, Membership, Role


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_acceptances_of_one_invitation_let_exactly_one_win(user_factory):
    catalog.ensure()
    owner = user_factory("owner")
    team = services.team_create(name="Racers", owner=owner)
    developer = Role.objects.get(team__isnull=True, name="Developer")
    invited = services.invitation_create(
        actor=owner, team=team, email="twin@example.com", role=developer
    )
    twin = user_factory("twin", email="twin@example.com")

    def accept():
        try:
            services.invitation_accept(token=invited.token, user=twin)
            return "joined"
        except InvitationUnusable as refused:
            return refused.reason

    results = race(accept)
    assert sorted(results) == ["joined", "used"]
    assert Membership.objects.filter(team=team, user=twin).count() == 1
    assert Invitation.objects.get().accepted_by == twin


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(user_factory):
    catalog.ensure()
    ann, ben = user_factory("ann"), user_factory("ben")
    team = services.team_create(name="Duel", owner=ann)
    owner = Role.objects.get(team__isnull=True, name="Owner")
    developer = Role.objects.get(team__isnull=True, name="Developer")
    Membership.objects.create(team=team, user=ben, role=owner)

    def demote(actor, target):
        membership = Membership.objects.get(team=team, user=target)
        try:
            services.membership_change_role(
                actor=actor, team=team, membership=membership, role=developer
            )
            return "demoted"
        except (LastOwner, PermissionMissing, Escalation) as refused:
            return type(refused).__name__

    results = race(demote, args=((ann, ben), (ben, ann)))
    # The second waits for the first (the team row is locked), then finds itself a
    # Developer: refused, not a deadlock.
    assert sorted(results) == ["PermissionMissing", "demoted"]
    assert Membership.objects.filter(team=team, role__is_owner=True).count() == 1
