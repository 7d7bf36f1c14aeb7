"""The Members page's account controls: a ``user.manage`` holder, after a fresh step-up,
requires a new password from, disables, enables or sends a reset link to a member whose
role is not above theirs; never to themselves, an Owner (unless an Owner) or an operator."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from security.stepup.state import STEPUP_KEY
from teams.models import Membership, Role

from .conftest import join

pytestmark = pytest.mark.django_db


def signed_in(client, user, *, stepped_up: bool = True):
    client.force_login(user)
    if stepped_up:
        session = client.session
        session[STEPUP_KEY] = time.time()
        session.save()
    return client


def control_url(team, user) -> str:
    membership = Membership.objects.get(team=team, user=user)
    return reverse(
        "teams:member_account", kwargs={"team_id": team.pk, "membership_id": membership.pk}
    )


def members_url(team) -> str:
    return reverse("teams:members", kwargs={"team_id": team.pk})


def test_a_manager_disables_a_developer_and_it_is_audited_for_the_team(client, acme, mia, dave):
    signed_in(client, mia)
    response = client.post(control_url(acme, dave), {"control": "disable"})
    assert response.status_code == 302 and response["Location"] == members_url(acme)
    dave.refresh_from_db()
    assert not dave.is_active
    event = AuditEvent.objects.get(action="account_disabled")
    assert (event.actor, event.user, event.team_id) == (mia, dave, acme.pk)
    assert event.metadata["source"] == "team"

    page = client.get(members_url(acme))
    assert "Disabled" in page.content.decode()
    assert client.post(control_url(acme, dave), {"control": "enable"}).status_code == 302
    dave.refresh_from_db()
    assert dave.is_active


@pytest.mark.parametrize(
    ("control", "event", "check"),
    [
        ("force_password_change", "password_change_forced", lambda u: u.must_change_password),
        ("send_reset", "password_reset_sent_by_admin", lambda u: u.is_active),
    ],
)
def test_a_manager_requires_a_new_password_or_sends_a_reset_link(
    client, acme, mia, dave, control, event, check
):
    signed_in(client, mia)
    response = client.post(control_url(acme, dave), {"control": control}, follow=True)
    assert response.status_code == 200
    dave.refresh_from_db()
    assert check(dave)
    assert (
        AuditEvent.objects.filter(action=event, actor=mia, user=dave, team_id=acme.pk).count() == 1
    )


def test_an_owner_may_act_on_a_manager(client, acme, alice, mia):
    signed_in(client, alice)
    assert client.post(control_url(acme, mia), {"control": "disable"}).status_code == 302
    mia.refresh_from_db()
    assert not mia.is_active


def test_a_manager_may_not_act_on_an_owner(client, acme, alice, mia):
    signed_in(client, mia)
    response = client.post(control_url(acme, alice), {"control": "disable"})
    assert response.status_code == 403
    assert "above yours" in response.content.decode()
    alice.refresh_from_db()
    assert alice.is_active
    assert not AuditEvent.objects.filter(action="account_disabled").exists()


def test_nobody_uses_the_controls_on_themselves(client, acme, alice):
    signed_in(client, alice)
    response = client.post(control_url(acme, alice), {"control": "force_password_change"})
    assert response.status_code == 403
    assert "your own account" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.must_change_password


def test_an_operator_who_is_a_member_is_not_the_teams_to_manage(client, acme, alice, operator):
    join(acme, operator, Role.DEVELOPER)
    signed_in(client, alice)
    response = client.post(control_url(acme, operator), {"control": "disable"})
    assert response.status_code == 403
    assert "operators" in response.content.decode()
    operator.refresh_from_db()
    assert operator.is_active


def test_a_developer_without_user_manage_is_refused_and_an_outsider_finds_nothing(
    client, acme, dave, mia, charlie
):
    signed_in(client, dave)
    response = client.post(control_url(acme, mia), {"control": "disable"})
    assert response.status_code == 403
    assert "user.manage" in response.content.decode()
    signed_in(client, charlie)
    assert client.post(control_url(acme, mia), {"control": "disable"}).status_code == 404
    mia.refresh_from_db()
    assert mia.is_active


def test_a_member_of_another_team_is_not_found(client, acme, mia, olga, globex, user_factory):
    stranger = user_factory("stranger")
    join(globex, stranger, Role.DEVELOPER)
    membership = Membership.objects.get(team=globex, user=stranger)
    signed_in(client, mia)
    url = reverse(
        "teams:member_account", kwargs={"team_id": acme.pk, "membership_id": membership.pk}
    )
    assert client.post(url, {"control": "disable"}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active


def test_without_a_fresh_step_up_the_manager_confirms_first_and_nothing_changes(
    client, acme, mia, dave
):
    signed_in(client, mia, stepped_up=False)
    response = client.post(control_url(acme, dave), {"control": "disable"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("security:stepup") + "?next=")
    assert members_url(acme).replace("/", "%2F") in response["Location"]
    dave.refresh_from_db()
    assert dave.is_active


@pytest.mark.parametrize("data", [{}, {"control": "delete_everything"}])
def test_a_missing_or_unknown_control_is_a_clear_400(client, acme, mia, dave, data):
    signed_in(client, mia)
    response = client.post(control_url(acme, dave), data)
    assert response.status_code == 400
    assert "Choose what to do" in response.content.decode()


def test_a_repeat_is_said_plainly(client, acme, mia, dave):
    signed_in(client, mia)
    client.post(control_url(acme, dave), {"control": "disable"})
    response = client.post(control_url(acme, dave), {"control": "disable"})
    assert response.status_code == 409
    assert "already disabled" in response.content.decode()


def test_the_members_page_offers_the_controls_only_where_they_apply(client, acme, alice, mia, dave):
    body = signed_in(client, mia).get(members_url(acme)).content.decode()
    assert control_url(acme, dave) in body
    assert control_url(acme, alice) not in body  # the Owner
    assert control_url(acme, mia) not in body  # herself

    body = signed_in(client, dave).get(members_url(acme)).content.decode()
    assert "teams:member_account" not in body and "/account/" not in body


# --- The forced change and the team's own "finish this first" pages ----------------------


def test_a_forced_change_comes_before_a_teams_2fa_enrollment_without_a_loop(client, acme, dave):
    from accounts.models import User

    acme.require_2fa = True
    acme.save(update_fields=["require_2fa"])
    User.objects.filter(pk=dave.pk).update(must_change_password=True)
    client.force_login(dave)
    response = client.get("/dashboard/")
    assert response["Location"] == reverse("accounts:settings_password")
    assert client.get(reverse("accounts:settings_password")).status_code == 200
    # Enrollment is not reachable before the change either.
    response = client.get(reverse("security:twofactor_enable"))
    assert response["Location"] == reverse("accounts:settings_password")


def test_a_forced_change_comes_before_the_team_choice_without_a_loop(client, olga):
    from accounts.models import User
    from teams.stages import CHOOSE_KEY

    User.objects.filter(pk=olga.pk).update(must_change_password=True)
    client.force_login(olga)
    session = client.session
    session[CHOOSE_KEY] = True
    session.save()
    assert client.get("/dashboard/")["Location"] == reverse("accounts:settings_password")
    assert client.get(reverse("accounts:settings_password")).status_code == 200
