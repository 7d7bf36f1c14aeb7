"""Team selection after sign-in, and the team security policy (strictest across teams)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from panel.tests.access import LOGIN, browser, sign_in
from security.sessions.services import policy_for
from security.signin import stages
from teams import services
from teams.models import Team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.BACKUP_CODE_SCRYPT_N = 2**8
    cache.clear()
    yield
    cache.clear()


def test_team_selection_is_registered_in_the_sign_in_pipeline_after_the_other_steps():
    names = [name for name, _ in sorted(stages._after_login.items(), key=lambda item: item[1][0])]
    assert names[-1] == "team_selection"
    assert names.index("team_selection") > names.index("device")


def test_a_member_of_several_teams_picks_one_after_signing_in(olga, password, acme, globex):
    client = browser("198.51.100.20")
    response = client.post(LOGIN, {"username": "olga", "password": password})
    assert response.status_code == 302
    # Nothing but the choice (and signing out) until a team is picked.
    assert client.get(reverse("dashboard"))["Location"] == reverse("teams:choose")
    page = client.get(reverse("teams:choose")).content.decode()
    assert "Acme" in page and "Globex" in page
    response = client.post(reverse("teams:choose"), {"team": globex.pk})
    assert response["Location"] == reverse("teams:domains", kwargs={"team_id": globex.pk})
    assert client.session["_active_team"] == globex.pk
    assert client.get(reverse("dashboard")).status_code == 200


def test_picking_a_team_one_is_not_in_is_a_404(olga, password, user_factory):
    client = browser("198.51.100.21")
    client.post(LOGIN, {"username": "olga", "password": password})
    stranger = services.team_create(name="Elsewhere", owner=user_factory("x"))
    assert client.post(reverse("teams:choose"), {"team": stranger.pk}).status_code == 404
    assert client.get(reverse("dashboard"))["Location"] == reverse("teams:choose")


def test_a_member_of_one_team_goes_straight_in_with_it_active(dave, password, acme):
    client = browser("198.51.100.22")
    sign_in(client, dave, password)
    assert client.session["_active_team"] == acme.pk
    assert "Acme" in client.get(reverse("dashboard")).content.decode()


def test_when_a_team_requires_2fa_a_member_without_it_reaches_only_enrollment(
    alice, dave, acme, password
):
    services.policy_update(actor=alice, team=acme, require_2fa=True)
    client = browser("198.51.100.23")
    sign_in(client, dave, password)
    for path in (reverse("dashboard"), reverse("teams:domains", kwargs={"team_id": acme.pk})):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == reverse("security:twofactor_enable")
    page = client.get(reverse("security:twofactor_enable"))
    assert page.status_code == 200
    assert "Acme requires two-factor authentication" in page.content.decode()


def test_a_member_with_2fa_is_not_held_by_the_requirement(alice, dave, acme, password, enroll_totp):
    services.policy_update(actor=alice, team=acme, require_2fa=True)
    enrolled = enroll_totp(dave)
    client = browser("198.51.100.24")
    sign_in(client, dave, password, enrolled)
    assert client.get(reverse("dashboard")).status_code == 200


def test_the_strictest_policy_across_teams_applies(settings, alice, olga, acme, globex):
    settings.SESSION_IDLE_TIMEOUT = 3600
    settings.SINGLE_SESSION = False
    settings.NEW_DEVICE_APPROVAL = False
    assert policy_for(olga).idle_timeout == 3600
    Team.objects.filter(pk=acme.pk).update(idle_timeout=1800)
    Team.objects.filter(pk=globex.pk).update(idle_timeout=600, single_session=True)
    olga = type(olga).objects.get(pk=olga.pk)  # a fresh request, a fresh cache
    policy = policy_for(olga)
    assert (policy.idle_timeout, policy.single_session, policy.new_device_approval) == (
        600,
        True,
        False,
    )
    # A team's policy never loosens the global one.
    settings.SESSION_IDLE_TIMEOUT = 300
    assert policy_for(type(olga).objects.get(pk=olga.pk)).idle_timeout == 300


def test_the_security_tab_says_which_teams_policy_applies(client, alice, dave, acme):
    services.policy_update(actor=alice, team=acme, idle_timeout=900, min_password_length=20)
    client.force_login(dave)
    page = client.get(reverse("accounts:settings_security")).content.decode()
    assert "Team security policy" in page
    assert "Acme" in page and "sign-out after 15 idle minutes" in page


def test_a_teams_minimum_password_length_applies_to_its_members(alice, dave, acme):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    services.policy_update(actor=alice, team=acme, min_password_length=40)
    with pytest.raises(ValidationError, match="Acme requires passwords of at least 40"):
        validate_password("a long and quite unusual passphrase 7", user=dave)
