import pytest

from accounts.models import OutboxEmail, User
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, user_factory):
    root = user_factory("operator", is_staff=True, is_superuser=True)
    client.force_login(root)
    return client


def test_operators_find_users_by_email_and_never_see_a_password_hash(admin_client, alice):
    listing = admin_client.get("/admin/accounts/user/", {"q": "ALICE@example"})
    assert listing.status_code == 200
    assert "alice@example.com" in listing.content.decode()
    page = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Alice Owner" in body
    assert alice.password not in body
    assert alice.password.split("$")[0] + "$" not in body
    assert 'name="password"' not in body


def test_a_user_added_in_the_admin_has_no_usable_password(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "full_name": "New Bie",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not User.objects.get(username="newbie").has_usable_password()


def test_the_admin_refuses_an_address_that_differs_only_in_case(admin_client, alice):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"username": "other", "email": "ALICE@example.com", "full_name": "X", "is_active": "on"},
    )
    assert response.status_code == 200
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1


def test_the_reset_action_sends_a_link_and_sets_no_password(
    admin_client, send, mailoutbox, alice, password
):
    with send():
        response = admin_client.post(
            "/admin/accounts/user/",
            {"action": "send_password_reset", "_selected_action": [alice.pk]},
        )
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["alice@example.com"]]
    alice.refresh_from_db()
    assert alice.check_password(password)


def test_the_outbox_is_read_only_and_hides_bodies(admin_client):
    email = OutboxEmail.objects.create(
        recipient="x@example.com",
        template="verify_email",
        subject="Confirm",
        body_text="secret link https://panel/auth/verify/abc/",
        body_html="<a>secret link</a>",
    )
    page = admin_client.get(f"/admin/accounts/outboxemail/{email.pk}/change/")
    assert page.status_code == 200
    assert "secret link" not in page.content.decode()
    assert admin_client.get("/admin/accounts/outboxemail/add/").status_code == 403
    admin_client.post(f"/admin/accounts/outboxemail/{email.pk}/change/", {"subject": "changed"})
    email.refresh_from_db()
    assert email.subject == "Confirm"


def test_the_resend_action_delivers_a_failed_email_and_skips_sent_ones(
    admin_client, send, mailoutbox
):
    failed = OutboxEmail.objects.create(
        recipient="x@example.com",
        template="verify_email",
        subject="Confirm",
        body_text="hello",
        status=OutboxEmail.Status.FAILED,
        attempts=5,
    )
    sent = OutboxEmail.objects.create(
        recipient="y@example.com", template="t", subject="Done", status=OutboxEmail.Status.SENT
    )
    with send():
        response = admin_client.post(
            "/admin/accounts/outboxemail/",
            {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == OutboxEmail.Status.SENT
    assert [m.to for m in mailoutbox] == [["x@example.com"]]
    event = AuditEvent.objects.get(action="outbox_resent")
    assert event.metadata == {"outbox_ids": [failed.pk]}


def test_the_outbox_shows_why_an_email_failed_and_when_it_is_tried_again(admin_client):
    """SMTP refusing: the operator sees the error and the next attempt (the retry's
    backoff after the last one: 10 s, 20 s, 40 s, ...)."""
    from datetime import UTC, datetime

    last = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
    email = OutboxEmail.objects.create(
        recipient="x@example.com",
        template="verify_email",
        subject="Confirm",
        attempts=3,
        last_attempt_at=last,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    listing = admin_client.get("/admin/accounts/outboxemail/").content.decode()
    assert "Connection unexpectedly closed" in listing
    detail = admin_client.get(f"/admin/accounts/outboxemail/{email.pk}/change/").content.decode()
    # The third attempt failed at 09:00:00; the retry after it waits 40 s.
    assert "2026-11-30 09:00:40 UTC" in detail
