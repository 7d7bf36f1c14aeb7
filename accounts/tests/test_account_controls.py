"""Account controls (accounts.controls): the services, the forced password change
middleware and the admin's read-only fields and actions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import controls
from accounts.models import User
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

SETTINGS_PASSWORD = reverse("accounts:settings_password")


def events(action: str, **filters):
    return AuditEvent.objects.filter(action=action, **filters)


# --- Services -----------------------------------------------------------------------------


def test_forcing_a_password_change_sets_the_flag_audits_and_emails_the_user(
    operator, alice, mailoutbox, emails_sent_at_once
):
    controls.force_password_change(actor=operator, user=alice, source="admin")

    alice.refresh_from_db()
    assert alice.must_change_password
    event = events("password_change_forced").get()
    assert (event.actor, event.user, event.metadata["source"]) == (operator, alice, "admin")
    assert [m.to for m in mailoutbox] == [["alice@example.com"]]
    assert "choose a new password" in mailoutbox[0].body


def test_nobody_forces_a_change_or_disables_their_own_account(alice):
    with pytest.raises(controls.ControlRefused, match="your own account"):
        controls.force_password_change(actor=alice, user=alice)
    with pytest.raises(controls.ControlRefused, match="your own account"):
        controls.disable_account(actor=alice, user=alice)
    alice.refresh_from_db()
    assert alice.is_active and not alice.must_change_password
    assert not AuditEvent.objects.filter(action__in=["account_disabled", "password_change_forced"])


def test_disabling_then_enabling_records_one_event_each_and_refuses_repeats(
    operator, alice, mailoutbox, emails_sent_at_once
):
    facts = controls.disable_account(actor=operator, user=alice, source="command")
    alice.refresh_from_db()
    assert not alice.is_active
    assert "sessions_ended" in facts
    with pytest.raises(controls.AlreadyDone):
        controls.disable_account(actor=operator, user=alice)

    controls.enable_account(actor=operator, user=alice)
    alice.refresh_from_db()
    assert alice.is_active
    with pytest.raises(controls.AlreadyDone):
        controls.enable_account(actor=operator, user=alice)

    assert events("account_disabled").count() == 1
    assert events("account_enabled").count() == 1
    assert [m.subject for m in mailoutbox] == [
        "Your Panel account was disabled",
        "Your Panel account was enabled again",
    ]


def test_a_reset_link_sent_by_an_administrator_is_audited_as_theirs_and_sets_no_password(
    operator, alice, password, mailoutbox, emails_sent_at_once
):
    controls.send_password_reset(actor=operator, user=alice)

    alice.refresh_from_db()
    assert alice.check_password(password)
    assert events("password_reset_sent_by_admin", actor=operator, user=alice).count() == 1
    assert "/auth/password/reset/" in mailoutbox[0].body


def test_a_disabled_account_gets_no_reset_link(operator, alice, mailoutbox, emails_sent_at_once):
    controls.disable_account(actor=operator, user=alice)
    mailoutbox.clear()
    with pytest.raises(controls.ControlRefused, match="enable the account"):
        controls.send_password_reset(actor=operator, user=alice)
    assert mailoutbox == []


def test_no_control_puts_a_password_or_hash_in_the_audit_trail(operator, alice, password):
    controls.force_password_change(actor=operator, user=alice)
    controls.send_password_reset(actor=operator, user=alice)
    controls.disable_account(actor=operator, user=alice)
    controls.enable_account(actor=operator, user=alice)
    for event in AuditEvent.objects.all():
        text = str(event.metadata)
        assert password not in text and alice.password not in text


# --- Forced password change: every page but the change and sign-out ---------------------


@pytest.fixture
def forced_client(client, alice):
    User.objects.filter(pk=alice.pk).update(must_change_password=True)
    client.force_login(alice)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/",
        "/settings/security/",
        "/settings/sessions/",
        "/settings/security/2fa/enable/",
        "/settings/security/email/",
    ],
)
def test_a_user_who_must_change_their_password_is_sent_to_the_change_page_from_every_page(
    forced_client, url
):
    response = forced_client.get(url)
    assert response.status_code == 302
    assert response["Location"] == SETTINGS_PASSWORD
    assert forced_client.post(url)["Location"] == SETTINGS_PASSWORD


def test_the_change_page_says_why_and_sign_out_still_works(forced_client):
    response = forced_client.get("/dashboard/", follow=True)
    assert response.status_code == 200
    assert "An administrator asked you to choose a new password" in response.content.decode()

    response = forced_client.post(reverse("security:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("security:login")
    assert forced_client.get("/dashboard/")["Location"].startswith("/auth/login/")


def test_changing_the_password_clears_the_flag_and_frees_the_pages(
    forced_client, alice, password, strong_password
):
    response = forced_client.post(
        SETTINGS_PASSWORD,
        {
            "old_password": password,
            "new_password1": strong_password,
            "new_password2": strong_password,
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert not alice.must_change_password
    assert alice.check_password(strong_password)
    assert forced_client.get("/dashboard/").status_code == 200
    event = events("password_changed", user=alice, outcome="success").get()
    assert event.metadata["forced"] is True


def test_a_wrong_current_password_on_the_forced_change_leaves_the_flag(forced_client, alice):
    response = forced_client.post(
        SETTINGS_PASSWORD,
        {"old_password": "not it", "new_password1": "x", "new_password2": "x"},
    )
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.must_change_password
    assert forced_client.get("/dashboard/")["Location"] == SETTINGS_PASSWORD


def test_a_password_reset_by_link_clears_the_flag_too(alice, strong_password):
    from accounts import services

    User.objects.filter(pk=alice.pk).update(must_change_password=True)
    alice.refresh_from_db()
    services.reset_password(user=alice, new_password=strong_password)
    alice.refresh_from_db()
    assert not alice.must_change_password


def test_the_flag_set_while_signed_in_applies_on_the_next_request(alice_client, alice, operator):
    assert alice_client.get("/dashboard/").status_code == 200
    controls.force_password_change(actor=operator, user=alice)
    assert alice_client.get("/dashboard/")["Location"] == SETTINGS_PASSWORD


# --- Admin --------------------------------------------------------------------------------


def test_the_admin_user_form_shows_email_activity_and_password_read_only(operator_client, alice):
    page = operator_client.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    for field in ("email", "is_active", "must_change_password", "password"):
        assert f'name="{field}"' not in body, field
    assert "alice@example.com" in body
    assert "Set (only its owner knows it)" in body
    assert alice.password not in body

    operator_client.post(
        f"/admin/accounts/user/{alice.pk}/change/",
        {
            "username": "alice",
            "email": "evil@example.com",
            "full_name": "Alice Owner",
            "is_active": "",
            "must_change_password": "on",
        },
    )
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    assert alice.is_active and not alice.must_change_password


@pytest.mark.parametrize(
    ("action", "event", "check"),
    [
        ("force_password_change", "password_change_forced", lambda u: u.must_change_password),
        ("disable_accounts", "account_disabled", lambda u: not u.is_active),
        ("send_password_reset", "password_reset_sent_by_admin", lambda u: u.is_active),
    ],
)
def test_each_admin_action_calls_the_audited_service(
    operator_client, operator, alice, bob, action, event, check
):
    response = operator_client.post(
        "/admin/accounts/user/", {"action": action, "_selected_action": [alice.pk, bob.pk]}
    )
    assert response.status_code == 302
    for user in (alice, bob):
        user.refresh_from_db()
        assert check(user)
        found = events(event, user=user).get()
        assert found.actor == operator and found.metadata["source"] == "admin"


def test_the_admin_enable_action_and_its_refusals_are_said(operator_client, operator, alice):
    controls.disable_account(actor=operator, user=alice)
    response = operator_client.post(
        "/admin/accounts/user/",
        {"action": "enable_accounts", "_selected_action": [alice.pk, operator.pk]},
        follow=True,
    )
    body = response.content.decode()
    assert "Accounts enabled: 1." in body
    assert "Operator is not disabled." in body  # the admin capitalises messages
    alice.refresh_from_db()
    assert alice.is_active

    response = operator_client.post(
        "/admin/accounts/user/",
        {"action": "disable_accounts", "_selected_action": [operator.pk]},
        follow=True,
    )
    assert "You cannot disable your own account." in response.content.decode()
    operator.refresh_from_db()
    assert operator.is_active
