"""The team services: each change audited with actor, affected user and team; the
escalation rules; the last Owner; names."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from teams import services
from teams.exceptions import (
    Duplicate,
    Escalation,
    InvalidName,
    LastOwner,
    NotAMember,
    PermissionMissing,
)
from teams.models import Domain, Membership, Role

from .conftest import join

pytestmark = pytest.mark.django_db


def last_event():
    return AuditEvent.objects.order_by("-id").first()


def test_creating_a_team_makes_its_creator_the_owner_and_is_audited(bob):
    team = services.team_create(name="  Bob's shop ", owner=bob)
    membership = Membership.objects.get(team=team, user=bob)
    assert team.name == "Bob's shop"
    assert membership.role.is_owner
    event = last_event()
    assert (event.action, event.actor, event.user, event.team_id) == (
        "team_created",
        bob,
        bob,
        team.pk,
    )


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 10_000, "evil\x00team", "bidi\u202eteam", "zero\u200bwidth", "Аcme"],
    ids=["empty", "blank", "10KB", "nul", "bidi-override", "zero-width", "cyrillic-A"],
)
def test_a_bad_team_name_is_refused_and_creates_nothing(bob, name):
    with pytest.raises(InvalidName):
        services.team_create(name=name, owner=bob)
    assert not Membership.objects.filter(user=bob).exists()


def test_an_owner_changes_a_members_role_and_the_member_gets_an_email(
    alice, acme, dave, manager_role, mailoutbox, emails_sent_at_once
):
    membership = Membership.objects.get(team=acme, user=dave)
    services.membership_change_role(
        actor=alice, team=acme, membership=membership, role=manager_role
    )
    assert Membership.objects.get(pk=membership.pk).role == manager_role
    event = last_event()
    assert (event.action, event.actor, event.user, event.team_id) == (
        "member_role_changed",
        alice,
        dave,
        acme.pk,
    )
    assert event.metadata == {"from": "Developer", "to": "Manager"}
    assert [m.to for m in mailoutbox] == [[dave.email]]
    assert "Manager" in mailoutbox[0].subject


def test_nobody_changes_their_own_role(alice, acme, mia, developer_role):
    mine = Membership.objects.get(team=acme, user=mia)
    with pytest.raises(Escalation):
        services.membership_change_role(actor=mia, team=acme, membership=mine, role=developer_role)


def test_a_manager_cannot_make_anyone_an_owner(acme, mia, dave, owner_role):
    target = Membership.objects.get(team=acme, user=dave)
    with pytest.raises(Escalation):
        services.membership_change_role(actor=mia, team=acme, membership=target, role=owner_role)
    assert Membership.objects.get(pk=target.pk).role.name == "Developer"


def test_a_manager_cannot_demote_or_remove_an_owner(alice, acme, mia, developer_role):
    owner = Membership.objects.get(team=acme, user=alice)
    with pytest.raises(Escalation):
        services.membership_change_role(actor=mia, team=acme, membership=owner, role=developer_role)
    with pytest.raises(Escalation):
        services.membership_remove(actor=mia, team=acme, membership=owner)
    assert Membership.objects.filter(pk=owner.pk, role__is_owner=True).exists()


def test_a_developer_cannot_change_roles(acme, dave, mia, developer_role):
    target = Membership.objects.get(team=acme, user=mia)
    with pytest.raises(PermissionMissing):
        services.membership_change_role(
            actor=dave, team=acme, membership=target, role=developer_role
        )


def test_an_outsider_is_told_nothing_about_the_team(acme, charlie, dave, developer_role):
    target = Membership.objects.get(team=acme, user=dave)
    with pytest.raises(NotAMember):
        services.membership_remove(actor=charlie, team=acme, membership=target)


def test_the_last_owner_cannot_be_demoted_by_another_owner_nor_removed(
    alice, acme, user_factory, developer_role
):
    second = user_factory("second")
    join(acme, second, Role.OWNER)
    services.membership_change_role(
        actor=second,
        team=acme,
        membership=Membership.objects.get(team=acme, user=alice),
        role=developer_role,
    )
    # second is now the last Owner: alice (Developer now) cannot act, and nobody can
    # remove second.
    last = Membership.objects.get(team=acme, user=second)
    with pytest.raises(LastOwner):
        services.membership_remove(actor=second, team=acme, membership=last)
    assert Membership.objects.filter(team=acme, role__is_owner=True).count() == 1


def test_a_removed_member_is_told_by_email_and_the_removal_is_audited(
    alice, acme, dave, mailoutbox, emails_sent_at_once
):
    target = Membership.objects.get(team=acme, user=dave)
    services.membership_remove(actor=alice, team=acme, membership=target)
    assert not Membership.objects.filter(team=acme, user=dave).exists()
    event = last_event()
    assert (event.action, event.user, event.team_id) == ("member_removed", dave, acme.pk)
    assert mailoutbox[0].to == [dave.email] and "removed" in mailoutbox[0].subject


def test_an_owner_makes_a_custom_role_from_the_catalog(alice, acme):
    role = services.role_create(
        actor=alice, team=acme, name="Deployer", permissions=["env.deploy", "team.view"]
    )
    assert set(role.permissions.values_list("code", flat=True)) == {"env.deploy", "team.view"}
    assert role.team == acme
    assert last_event().action == "role_created"


def test_nobody_grants_a_permission_they_do_not_hold(acme, mia):
    with pytest.raises(Escalation, match="billing.manage"):
        services.role_create(actor=mia, team=acme, name="Billing", permissions=["billing.manage"])
    assert not Role.objects.filter(team=acme).exists()


@pytest.mark.parametrize("name", ["developer", "DEVELOPER", "Ｄｅｖｅｌｏｐｅｒ", "Ops", " ops "])
def test_role_names_are_unique_in_a_team_regardless_of_case_and_width(alice, acme, name):
    services.role_create(actor=alice, team=acme, name="Ops", permissions=[])
    with pytest.raises(Duplicate):
        services.role_create(actor=alice, team=acme, name=name, permissions=[])


def test_a_forged_permission_code_is_refused(alice, acme):
    with pytest.raises(NotAMember):
        services.role_create(actor=alice, team=acme, name="X", permissions=["root.everything"])


def test_a_role_of_another_team_cannot_be_given(alice, acme, user_factory, dave):
    other = services.team_create(name="Other", owner=user_factory("zed"))
    foreign = Role.objects.create(team=other, name="Foreign")
    with pytest.raises(NotAMember):
        services.role_for(team=acme, role_id=foreign.pk)
    with pytest.raises(NotAMember):
        services.role_for(team=acme, role_id="1 OR 1=1")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("Example.COM", "example.com"), ("bücher.example", "xn--bcher-kva.example"), ("a.b.", "a.b")],
)
def test_hostnames_are_stored_in_ascii_form(alice, acme, typed, stored):
    domain = services.domain_create(actor=alice, team=acme, hostname=typed, notes=" hi ")
    assert (domain.hostname, domain.notes) == (stored, "hi")
    assert last_event().metadata["hostname"] == stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "localhost",
        "exa mple.com",
        "-bad-.com",
        "a" * 64 + ".com",
        ("a" * 60 + ".") * 5 + "com",
        "1.2.3.4",
        "ex\x00.com",
    ],
)
def test_a_bad_hostname_is_refused_with_a_clear_message(alice, acme, bad):
    with pytest.raises(InvalidName) as refused:
        services.domain_create(actor=alice, team=acme, hostname=bad)
    assert refused.value.message
    assert not Domain.objects.exists()


def test_domains_need_their_permission_each(acme, dave, user_factory):
    viewer = Role.objects.create(team=acme, name="Viewer")
    vic = user_factory("vic")
    Membership.objects.create(team=acme, user=vic, role=viewer)
    with pytest.raises(PermissionMissing):
        services.domain_create(actor=vic, team=acme, hostname="example.com")
    domain = services.domain_create(actor=dave, team=acme, hostname="example.com")
    with pytest.raises(PermissionMissing):
        services.domain_delete(actor=vic, team=acme, domain=domain)
    with pytest.raises(Duplicate):
        services.domain_create(actor=dave, team=acme, hostname="EXAMPLE.com")


def test_only_an_owner_changes_the_security_policy(alice, acme, mia):
    with pytest.raises(PermissionMissing):
        services.policy_update(actor=mia, team=acme, require_2fa=True)
    services.policy_update(actor=alice, team=acme, require_2fa=True, idle_timeout=900)
    acme.refresh_from_db()
    assert acme.require_2fa and acme.idle_timeout == 900
    assert last_event().metadata["to"]["require_2fa"] is True


def test_a_manager_renames_the_team_and_a_developer_cannot(acme, mia, dave):
    services.team_rename(actor=mia, team=acme, name="Acme Corp")
    acme.refresh_from_db()
    assert acme.name == "Acme Corp"
    assert last_event().metadata == {"from": "Acme", "to": "Acme Corp"}
    with pytest.raises(PermissionMissing):
        services.team_rename(actor=dave, team=acme, name="Mine now")
