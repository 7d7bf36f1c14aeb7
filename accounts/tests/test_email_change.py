"""Changing one's email address end to end: the step-up, the confirmation link to the new
address, the notice with its undo link to the old one, used/expired/forged links, bad
input, and the audit trail."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts import controls
from accounts.models import EmailChange, User
from audit.models import AuditEvent

from .conftest import link_path

pytestmark = pytest.mark.django_db

PAGE = reverse("accounts:settings_email")


def stepped_up(client, user):
    client.force_login(user)
    session = client.session
    session["_stepup_at"] = time.time()  # security.stepup.state.STEPUP_KEY
    session.save()
    return client


@pytest.fixture
def alice_up(client, alice):
    return stepped_up(client, alice)


def ask(client, new_email: str):
    return client.post(PAGE, {"new_email": new_email})


def mail_to(mailoutbox, address: str):
    found = [m for m in mailoutbox if m.to == [address]]
    assert len(found) == 1, [m.to for m in mailoutbox]
    return found[0]


def test_the_page_needs_a_fresh_step_up(client, alice):
    client.force_login(alice)
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/sessions/confirm/?next=")
    assert ask(client, "new@example.org").status_code == 302
    assert not EmailChange.objects.exists()


def test_the_security_tab_links_to_the_page(alice_client):
    assert PAGE in alice_client.get("/settings/security/").content.decode()


def test_asking_sends_a_link_to_the_new_address_and_a_notice_to_the_old(
    alice_up, alice, mailoutbox, emails_sent_at_once
):
    response = ask(alice_up, "  Alice.New@Example.ORG ")
    assert response.status_code == 302 and response["Location"] == "/settings/security/"
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"  # not before the link is followed

    confirm = mail_to(mailoutbox, "Alice.New@example.org")
    assert "/auth/email/confirm/" in confirm.body
    notice = mail_to(mailoutbox, "alice@example.com")
    assert "Alice.New@example.org" in notice.body and "/auth/email/undo/" in notice.body
    event = AuditEvent.objects.get(action="email_change_requested")
    assert event.user == alice and event.metadata["new_email"] == "Alice.New@example.org"


def test_following_the_link_moves_the_account_verified_and_audited(
    client, alice_up, alice, mailoutbox, emails_sent_at_once, client_factory
):
    ask(alice_up, "alice@new.example")
    path = link_path(mail_to(mailoutbox, "alice@new.example"), "/auth/email/confirm/")
    mailoutbox.clear()

    other = client_factory()  # the link may be opened in any browser
    page = other.get(path)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"
    assert "alice@new.example" in page.content.decode()
    User.objects.filter(pk=alice.pk).update(email_verified_at=None)
    assert other.post(path).status_code == 302

    alice.refresh_from_db()
    assert alice.email == "alice@new.example" and alice.email_verified
    event = AuditEvent.objects.get(action="email_changed")
    assert event.metadata["old_email"] == "alice@example.com"
    told = mail_to(mailoutbox, "alice@example.com")
    assert "was changed to alice@new.example" in told.body and "/auth/email/undo/" in told.body

    again = other.post(path)
    assert again.status_code == 410
    assert "already been used" in again.content.decode()


def test_a_get_of_the_link_changes_nothing(alice_up, alice, mailoutbox, emails_sent_at_once):
    ask(alice_up, "alice@new.example")
    path = link_path(mail_to(mailoutbox, "alice@new.example"), "/auth/email/confirm/")
    alice_up.get(path)
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_an_expired_link_says_so(alice_up, alice, mailoutbox, emails_sent_at_once, settings):
    ask(alice_up, "alice@new.example")
    path = link_path(mail_to(mailoutbox, "alice@new.example"), "/auth/email/confirm/")
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.EMAIL_CHANGE_TIMEOUT + 5)):
        response = alice_up.post(path)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_a_forged_or_tampered_link_is_not_valid(client, alice_up, mailoutbox, emails_sent_at_once):
    ask(alice_up, "alice@new.example")
    path = link_path(mail_to(mailoutbox, "alice@new.example"), "/auth/email/confirm/")
    token = path.rstrip("/").rsplit("/", 1)[1]
    undo_path = reverse("accounts:email_change_undo", args=[token])  # the wrong salt
    for bad in ("/auth/email/confirm/x/", path.replace(token, token[:-2] + "xx"), undo_path):
        response = client.post(bad)
        assert response.status_code == 404, bad
        assert "not valid" in response.content.decode()


def test_a_newer_request_replaces_the_older_link(alice_up, alice, mailoutbox, emails_sent_at_once):
    ask(alice_up, "first@new.example")
    first = link_path(mail_to(mailoutbox, "first@new.example"), "/auth/email/confirm/")
    ask(alice_up, "second@new.example")
    response = alice_up.post(first)
    assert response.status_code == 410
    assert "newer request" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_undo_before_confirmation_cancels_the_link_and_signs_out_everywhere(
    alice_up, alice, mailoutbox, emails_sent_at_once, client_factory
):
    ask(alice_up, "thief@evil.example")
    confirm = link_path(mail_to(mailoutbox, "thief@evil.example"), "/auth/email/confirm/")
    undo = link_path(mail_to(mailoutbox, "alice@example.com"), "/auth/email/undo/")
    owner = client_factory()
    assert "cancels the request" in owner.get(undo).content.decode()
    response = owner.post(undo)
    assert response.status_code == 302 and response["Location"] == "/auth/password/reset/"

    assert alice_up.post(confirm).status_code == 410
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    assert not Session.objects.filter(session_key=alice_up.session.session_key).exists()
    event = AuditEvent.objects.get(action="email_change_undone")
    assert event.metadata["reverted"] is False
    assert owner.post(undo).status_code == 410  # single use


def test_undo_after_confirmation_gives_the_old_address_back(
    alice_up, alice, mailoutbox, emails_sent_at_once, client_factory
):
    ask(alice_up, "thief@evil.example")
    confirm = link_path(mail_to(mailoutbox, "thief@evil.example"), "/auth/email/confirm/")
    undo = link_path(mail_to(mailoutbox, "alice@example.com"), "/auth/email/undo/")
    client_factory().post(confirm)
    alice.refresh_from_db()
    assert alice.email == "thief@evil.example"

    client_factory().post(undo)
    alice.refresh_from_db()
    assert alice.email == "alice@example.com" and alice.email_verified
    assert AuditEvent.objects.get(action="email_change_undone").metadata["reverted"] is True


def test_an_address_with_an_account_gets_a_notice_instead_of_a_link(
    alice_up, alice, bob, mailoutbox, emails_sent_at_once
):
    response = ask(alice_up, "BOB@example.com")
    assert response.status_code == 302  # the same answer as for a free address
    to_bob = mail_to(mailoutbox, "BOB@example.com")
    assert "already belongs" in to_bob.body and "/auth/email/confirm/" not in to_bob.body
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "This field is required."),
        ("not-an-address", "Enter a valid email address."),
        ("a" * 250 + "@example.com", "at most 254 characters"),
        ("ALICE@example.com", "already your email address"),
    ],
)
def test_bad_input_is_a_400_with_a_clear_message(alice_up, value, message):
    response = ask(alice_up, value)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not EmailChange.objects.exists()


def test_nothing_is_changed_while_impersonating(alice, rf):
    request = rf.post(PAGE)
    request.user = alice
    request.impersonator = User(pk=999)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        controls.request_email_change(user=alice, new_email="x@example.org", request=request)
    assert not EmailChange.objects.exists()
