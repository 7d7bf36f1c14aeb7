"""Door B: invitations sent, resent, revoked; the emailed link for a newcomer, an existing
user, someone signed in as another account; expired, revoked and used links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from teams import services
from teams.exceptions import AlreadyMember, Escalation, InvitationUnusable, RateLimited
from teams.models import Invitation, Membership, Role

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and quite unusual passphrase 7"


def developer():
    return Role.objects.get(team__isnull=True, name="Developer")


def link_in(mail) -> str:
    return re.search(r"https?://\S+/invite/[\w-]+/", mail.body).group(0)


@pytest.fixture
def invited(alice, acme, mailoutbox, emails_sent_at_once):
    return services.invitation_create(
        actor=alice, team=acme, email="newbie@example.com", role=developer()
    )


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_the_invitation_email_carries_a_link_whose_token_is_stored_only_hashed(invited, mailoutbox):
    assert mailoutbox[-1].to == ["newbie@example.com"]
    link = link_in(mailoutbox[-1])
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert token == invited.token
    row = Invitation.objects.get()
    assert row.token_hash == services.hash_token(token) and token not in row.token_hash
    assert row.expires_at - row.created_at == timedelta(days=7)
    event = AuditEvent.objects.get(action="invitation_sent")
    assert token not in str(event.metadata)


def test_a_newcomer_signs_up_with_the_address_fixed_and_lands_in_the_team(
    client, invited, acme, mailoutbox
):
    path = path_of(link_in(mailoutbox[-1]))
    sent_before = len(mailoutbox)
    page = client.get(path).content.decode()
    assert "newbie@example.com" in page and "Acme" in page
    response = client.post(
        path,
        {
            "email": "attacker@example.com",  # ignored: the field is fixed
            "full_name": "New Bie",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("teams:domains", kwargs={"team_id": acme.pk})
    user = User.objects.get(email="newbie@example.com")
    assert user.email_verified
    assert Membership.objects.get(user=user, team=acme).role.name == "Developer"
    assert not User.objects.filter(email="attacker@example.com").exists()
    assert not any("verify" in m.subject.lower() for m in mailoutbox[sent_before:])
    assert client.get(response["Location"]).status_code == 200


def test_the_link_works_once(client, invited, mailoutbox):
    path = path_of(link_in(mailoutbox[-1]))
    data = {"full_name": "New Bie", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    client.post(path, data)
    client.logout()
    response = client.get(path)
    assert response.status_code == 410
    assert "already been accepted" in response.content.decode()


def test_an_expired_link_says_it_expired(client, invited, mailoutbox):
    path = path_of(link_in(mailoutbox[-1]))
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = client.get(path)
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_a_revoked_link_says_it_was_withdrawn(client, alice, acme, invited, mailoutbox):
    services.invitation_revoke(actor=alice, team=acme, invitation_id=invited.invitation.pk)
    response = client.get(path_of(link_in(mailoutbox[-1])))
    assert response.status_code == 410 and "withdrawn" in response.content.decode()


@pytest.mark.parametrize("token", ["x", "A" * 43 + "!", "A" * 500, "é" * 43, "A" * 43])
def test_a_token_of_the_wrong_shape_or_unknown_is_not_valid(client, token):
    response = client.get(f"/invite/{token}/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_a_resent_invitation_kills_the_old_link(client, alice, acme, invited, mailoutbox):
    old = path_of(link_in(mailoutbox[-1]))
    services.invitation_resend(actor=alice, team=acme, invitation_id=invited.invitation.pk)
    new = path_of(link_in(mailoutbox[-1]))
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_resends_are_rate_limited_per_team(alice, acme, invited, settings):
    for _ in range(services.resends_per_team_per_hour()):
        services.invitation_resend(actor=alice, team=acme, invitation_id=invited.invitation.pk)
    with pytest.raises(RateLimited):
        services.invitation_resend(actor=alice, team=acme, invitation_id=invited.invitation.pk)


def test_the_resend_page_answers_429_when_the_budget_is_spent(client, alice, acme, invited):
    for _ in range(services.resends_per_team_per_hour()):
        services.invitation_resend(actor=alice, team=acme, invitation_id=invited.invitation.pk)
    client.force_login(alice)
    path = reverse(
        "teams:invitation_resend",
        kwargs={"team_id": acme.pk, "invitation_id": invited.invitation.pk},
    )
    response = client.post(path)
    assert response.status_code == 429 and "Too many" in response.content.decode()


def test_an_existing_user_signs_in_then_joins(
    client, alice, acme, charlie, password, mailoutbox, emails_sent_at_once
):
    services.invitation_create(
        actor=alice, team=acme, email="Charlie@example.com", role=developer()
    )
    path = path_of(link_in(mailoutbox[-1]))
    page = client.get(path).content.decode()
    assert "Sign in to accept" in page
    login = re.search(r'href="(/auth/login/\?next=[^"]+)"', page).group(1).replace("&amp;", "&")
    response = client.post(login, {"username": "charlie", "password": password})
    assert response.status_code == 302 and response["Location"] == path
    assert "Join Acme" in client.get(path).content.decode()
    response = client.post(path)
    assert response.status_code == 302
    assert Membership.objects.get(team=acme, user=charlie).role.name == "Developer"
    assert client.session["_active_team"] == acme.pk


def test_someone_signed_in_as_another_account_is_told_and_offered_to_sign_out(
    client, dave, invited, mailoutbox
):
    client.force_login(dave)
    path = path_of(link_in(mailoutbox[-1]))
    response = client.get(path)
    assert response.status_code == 403
    body = response.content.decode()
    assert "another address" in body and 'action="/auth/logout/"' in body
    assert client.post(path).status_code == 403
    assert Invitation.objects.get().accepted_at is None


def test_inviting_a_member_says_they_are_one_already(alice, acme, dave):
    with pytest.raises(AlreadyMember, match="already a member"):
        services.invitation_create(
            actor=alice, team=acme, email="DAVE@example.com", role=developer()
        )


def test_nobody_invites_with_a_role_above_their_own(acme, mia):
    owner = Role.objects.get(team__isnull=True, name="Owner")
    with pytest.raises(Escalation):
        services.invitation_create(actor=mia, team=acme, email="x@example.com", role=owner)
    assert not Invitation.objects.exists()


def test_a_replayed_accept_is_refused_and_changes_nothing(invited, user_factory):
    newbie = user_factory("newbie", email="newbie@example.com")
    services.invitation_accept(token=invited.token, user=newbie)
    with pytest.raises(InvitationUnusable) as refused:
        services.invitation_accept(token=invited.token, user=newbie)
    assert refused.value.reason == "used"
    assert Membership.objects.filter(user=newbie).count() == 1


def test_the_invitations_page_lists_and_sends(client, alice, acme, invited, mailoutbox):
    client.force_login(alice)
    path = reverse("teams:invitations", kwargs={"team_id": acme.pk})
    page = client.get(path).content.decode()
    assert "newbie@example.com" in page and "Pending" in page
    response = client.post(path, {"email": "other@example.com", "role": developer().pk})
    assert response.status_code == 302
    assert Invitation.objects.count() == 2
    assert client.post(path, {"email": "not-an-address", "role": developer().pk}).status_code == 400
    assert client.post(path, {"email": "x@example.com", "role": 99999}).status_code == 404


def test_a_newcomer_gets_the_teams_minimum_password_length(
    client, alice, acme, invited, mailoutbox
):
    services.policy_update(actor=alice, team=acme, min_password_length=60)
    path = path_of(link_in(mailoutbox[-1]))
    data = {"full_name": "New Bie", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    response = client.post(path, data)
    assert response.status_code == 400
    assert "Acme requires passwords of at least 60 characters" in response.content.decode()
    assert not User.objects.filter(email="newbie@example.com").exists()
