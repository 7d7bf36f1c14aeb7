"""Door A: sign-up names a team; the new account owns it once verified."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tokens import make_verification_token
from teams.models import Membership

pytestmark = pytest.mark.django_db

PASSWORD = "a long and quite unusual passphrase 7"


def sign_up(client, **extra):
    data = {
        "email": "founder@example.com",
        "full_name": "Fay Founder",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **extra,
    }
    return client.post(reverse("accounts:signup"), data)


def test_the_sign_up_form_asks_for_a_team_name(client):
    page = client.get(reverse("accounts:signup")).content.decode()
    assert 'name="team_name"' in page and "Team name" in page


def test_after_verification_the_new_user_owns_the_team_named_at_sign_up(
    client, emails_sent_at_once
):
    assert sign_up(client, team_name="Fay's Bakery").status_code == 302
    user = User.objects.get(email="founder@example.com")
    membership = Membership.objects.select_related("team", "role").get(user=user)
    assert membership.team.name == "Fay's Bakery" and membership.role.is_owner
    # Verify, sign in: the team is there and active.
    client.get(reverse("accounts:verify", kwargs={"token": make_verification_token(user)}))
    client.post(reverse("accounts:verify_confirm"))
    client.post(reverse("security:login"), {"username": user.email, "password": PASSWORD})
    page = client.get(reverse("dashboard")).content.decode()
    assert "Fay&#x27;s Bakery" in page


def test_without_a_team_name_the_team_is_called_after_the_user(client, emails_sent_at_once):
    sign_up(client)
    membership = Membership.objects.select_related("team").get(user__email="founder@example.com")
    assert membership.team.name == "Fay Founder's team"


@pytest.mark.parametrize(
    "name", ["x" * 10_000, "bad\x1bname", "Аcme"], ids=["10KB", "escape", "look-alike"]
)
def test_a_bad_team_name_refuses_the_sign_up_with_a_400(client, name):
    response = sign_up(client, team_name=name)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not User.objects.filter(email="founder@example.com").exists()


def test_signing_up_with_a_taken_address_creates_no_team(client, alice, emails_sent_at_once):
    sign_up(client, email=alice.email, team_name="Stolen")
    assert not Membership.objects.exists()
