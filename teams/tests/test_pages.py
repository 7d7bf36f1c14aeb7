"""The team pages through the client: what they show, what they change, what they refuse."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from teams.models import Domain, Membership, Role

from .conftest import join

pytestmark = pytest.mark.django_db


def url(name, team, **kwargs):
    return reverse(f"teams:{name}", kwargs={"team_id": team.pk, **kwargs})


@pytest.fixture
def as_user(client):
    def sign(user):
        client.force_login(user)
        return client

    return sign


def test_a_developer_adds_edits_and_deletes_a_domain(as_user, dave, acme):
    client = as_user(dave)
    response = client.post(
        url("domain_create", acme), {"hostname": "Shop.Example.com", "notes": "main"}
    )
    assert response.status_code == 302 and response["Location"] == url("domains", acme)
    domain = Domain.objects.get(team=acme)
    assert domain.hostname == "shop.example.com"
    page = client.get(url("domains", acme)).content.decode()
    assert "shop.example.com" in page and "main" in page
    client.post(url("domain_edit", acme, domain_id=domain.pk), {"hostname": "www.example.com"})
    assert Domain.objects.get(pk=domain.pk).hostname == "www.example.com"
    client.post(url("domain_delete", acme, domain_id=domain.pk))
    assert not Domain.objects.exists()
    assert list(
        AuditEvent.objects.filter(team_id=acme.pk).values_list("action", flat=True).order_by("id")
    ) == ["domain_created", "domain_updated", "domain_deleted"]


@pytest.mark.parametrize(
    ("hostname", "says"),
    [
        ("not a host", "spaces"),
        (("a" * 60 + ".") * 5 + "com", "at most"),
        ("localhost", "full hostname"),
    ],
)
def test_a_bad_hostname_is_a_400_that_says_why(as_user, dave, acme, hostname, says):
    response = as_user(dave).post(url("domain_create", acme), {"hostname": hostname})
    assert response.status_code == 400
    assert says in response.content.decode()
    assert not Domain.objects.exists()


def test_a_duplicate_hostname_is_a_409(as_user, dave, acme):
    Domain.objects.create(team=acme, hostname="example.com")
    response = as_user(dave).post(url("domain_create", acme), {"hostname": "EXAMPLE.com."})
    assert response.status_code == 409
    assert "already" in response.content.decode()


def test_a_domain_of_another_team_is_a_404_even_through_a_team_the_user_is_in(
    as_user, dave, acme, user_factory
):
    other = join_team_with_domain(user_factory)
    response = as_user(dave).post(url("domain_delete", acme, domain_id=other.pk))
    assert response.status_code == 404
    assert Domain.objects.filter(pk=other.pk).exists()


def join_team_with_domain(user_factory):
    from teams import services

    zed = user_factory("zed")
    team = services.team_create(name="Zed's", owner=zed)
    return Domain.objects.create(team=team, hostname="zed.example")


def test_the_members_page_shows_role_2fa_and_last_sign_in(as_user, alice, acme, dave, enroll_totp):
    enroll_totp(dave)
    page = as_user(alice).get(url("members", acme)).content.decode()
    assert "Dave Developer" in page and "dave@example.com" in page
    assert page.count("badge-success") == 1  # dave's 2FA is on, alice's off
    assert "Never" in page


def test_a_member_with_only_a_passkey_shows_2fa_on(as_user, alice, acme, dave):
    import hashlib

    from django_otp_webauthn.models import WebAuthnCredential

    WebAuthnCredential.objects.create(
        user=dave,
        name="Security key",
        confirmed=True,
        credential_id=b"dave-key",
        public_key=b"not used here",
        aaguid="00000000-0000-0000-0000-000000000000",
        credential_id_sha256=hashlib.sha256(b"dave-key").hexdigest(),
    )
    page = as_user(alice).get(url("members", acme)).content.decode()
    assert page.count("badge-success") == 1  # dave's passkey counts as 2FA; alice has none


def test_members_are_paginated_past_fifty(as_user, alice, acme, user_factory):
    for n in range(55):
        join(acme, user_factory(f"m{n:02}"), Role.DEVELOPER)
    client = as_user(alice)
    first = client.get(url("members", acme)).content.decode()
    assert "Page 1 of 2" in first
    second = client.get(url("members", acme) + "?page=2").content.decode()
    assert second.count("<tr>") == 6 + 1  # six members and the header
    assert client.get(url("members", acme) + "?page=abc").status_code == 200


def test_an_owner_changes_a_role_and_a_forged_role_id_is_a_404(as_user, alice, acme, dave):
    client = as_user(alice)
    target = Membership.objects.get(team=acme, user=dave)
    manager = Role.objects.get(name="Manager", team__isnull=True)
    response = client.post(url("member_role", acme, membership_id=target.pk), {"role": manager.pk})
    assert response.status_code == 302
    assert Membership.objects.get(pk=target.pk).role == manager
    for forged in ("999999", "-1", "abc", ""):
        response = client.post(url("member_role", acme, membership_id=target.pk), {"role": forged})
        assert response.status_code in (400, 404), forged
    assert Membership.objects.get(pk=target.pk).role == manager


def test_changing_ones_own_role_on_the_page_is_a_403_that_says_why(as_user, acme, mia):
    mine = Membership.objects.get(team=acme, user=mia)
    developer = Role.objects.get(name="Developer", team__isnull=True)
    response = as_user(mia).post(
        url("member_role", acme, membership_id=mine.pk), {"role": developer.pk}
    )
    assert response.status_code == 403
    assert "your own role" in response.content.decode()


def test_removing_the_last_owner_is_a_409(as_user, alice, acme):
    mine = Membership.objects.get(team=acme, user=alice)
    response = as_user(alice).post(url("member_remove", acme, membership_id=mine.pk))
    assert response.status_code == 409
    assert "last Owner" in response.content.decode()


def test_a_removed_member_loses_the_team_on_the_next_request(client, alice, acme, dave):
    client.force_login(dave)
    assert client.get(url("domains", acme)).status_code == 200
    target = Membership.objects.get(team=acme, user=dave)
    from teams import services

    services.membership_remove(actor=alice, team=acme, membership=target)
    assert client.get(url("domains", acme)).status_code == 404
    assert "Acme" not in client.get(reverse("dashboard")).content.decode()


def test_a_role_change_applies_on_the_next_request(client, alice, acme, dave):
    client.force_login(dave)
    assert client.get(url("roles", acme) + "new/").status_code == 403
    from teams import services

    target = Membership.objects.get(team=acme, user=dave)
    manager = Role.objects.get(name="Manager", team__isnull=True)
    services.membership_change_role(actor=alice, team=acme, membership=target, role=manager)
    assert client.get(url("roles", acme) + "new/").status_code == 200


def test_the_role_editor_lists_every_permission_with_its_description(as_user, alice, acme):
    page = as_user(alice).get(url("role_create", acme)).content.decode()
    assert page.count('type="checkbox" name="permissions"') == 17
    assert "Deploy to environments" in page


def test_an_owner_creates_and_edits_a_custom_role(as_user, alice, acme):
    client = as_user(alice)
    response = client.post(
        url("role_create", acme), {"name": "Deployer", "permissions": ["env.deploy"]}
    )
    assert response.status_code == 302
    role = Role.objects.get(team=acme)
    client.post(
        url("role_edit", acme, role_id=role.pk),
        {"name": "Deployers", "permissions": ["env.deploy", "team.view"]},
    )
    role.refresh_from_db()
    assert role.name == "Deployers"
    assert set(role.permissions.values_list("code", flat=True)) == {"env.deploy", "team.view"}


@pytest.mark.parametrize(
    ("name", "status"),
    [("", 400), ("x" * 10_000, 400), ("ops\x07", 400), ("Оps", 400), ("developer", 409)],
    ids=["empty", "10KB", "control", "look-alike", "duplicate"],
)
def test_bad_role_names_are_refused_and_nothing_is_created(as_user, alice, acme, name, status):
    response = as_user(alice).post(url("role_create", acme), {"name": name})
    assert response.status_code == status
    assert 'role="alert"' in response.content.decode()
    assert not Role.objects.filter(team=acme).exists()


def test_a_manager_cannot_grant_billing_on_the_page(as_user, mia, acme):
    response = as_user(mia).post(
        url("role_create", acme), {"name": "B", "permissions": ["billing.manage"]}
    )
    assert response.status_code == 403
    assert "billing.manage" in response.content.decode()


def test_a_forged_permission_code_is_a_400(as_user, alice, acme):
    response = as_user(alice).post(
        url("role_create", acme), {"name": "B", "permissions": ["root.all"]}
    )
    assert response.status_code == 400


def test_the_permission_audit_shows_a_matrix_and_downloads_as_csv(as_user, alice, acme, dave):
    client = as_user(alice)
    page = client.get(url("permissions", acme)).content.decode()
    assert "billing.manage" in page and "Dave Developer" in page
    response = client.get(url("permissions_csv", acme))
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["name", "email", "role"] and "site.edit" in header
    dave_row = next(line for line in lines if "dave@example.com" in line).split(",")
    assert dave_row[header.index("site.edit")] == "yes"
    assert dave_row[header.index("billing.manage")] == ""


def test_a_formula_in_a_name_is_neutralised_in_the_csv(as_user, alice, acme, user_factory):
    join(acme, user_factory("eve", full_name="=HYPERLINK(1)"), Role.DEVELOPER)
    body = as_user(alice).get(url("permissions_csv", acme)).content.decode()
    assert "'=HYPERLINK(1)" in body


def test_the_top_bar_shows_the_active_team_and_switches_it(client, olga, acme, globex):
    client.force_login(olga)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'name="team"' in page and "Acme" in page and "Globex" in page
    response = client.post(
        reverse("teams:switch"), {"team": globex.pk, "next": url("domains", acme)}
    )
    assert response.status_code == 302 and response["Location"] == url("domains", globex)
    assert client.session["_active_team"] == globex.pk
    assert AuditEvent.objects.filter(action="team_switched", team_id=globex.pk).exists()


def test_switching_to_a_team_one_is_not_in_is_a_404(client, dave, globex):
    client.force_login(dave)
    for forged in (globex.pk, "x", ""):
        assert client.post(reverse("teams:switch"), {"team": forged}).status_code == 404


def test_the_policy_page_is_for_owners_and_saves_the_policy(as_user, alice, acme):
    client = as_user(alice)
    response = client.post(
        url("policy", acme),
        {
            "single_session": "on",
            "min_password_length": "16",
            "idle_timeout": "30",
            "new_device_approval": "on",
        },
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.single_session, acme.min_password_length, acme.idle_timeout) == (True, 16, 1800)
    assert client.post(url("policy", acme), {"idle_timeout": "1"}).status_code == 400


def test_a_developer_leaves_the_team_and_loses_it_at_once(client, dave, acme):
    client.force_login(dave)
    response = client.post(url("leave", acme))
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert not Membership.objects.filter(team=acme, user=dave).exists()
    assert AuditEvent.objects.filter(action="member_removed", user=dave, actor=dave).exists()
    assert client.get(url("domains", acme)).status_code == 404


def test_the_last_owner_cannot_leave(client, alice, acme):
    client.force_login(alice)
    response = client.post(url("leave", acme))
    assert response.status_code == 409
    assert Membership.objects.filter(team=acme, user=alice).exists()
