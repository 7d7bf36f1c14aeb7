"""The audit trail: what audit() records, what it refuses to record, and its admin."""

from __future__ import annotations

import logging

import pytest
from django.test import RequestFactory

from audit.models import AuditEvent
from audit.services import audit, clean_metadata, escape_for_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_from(alice):
    def make(user=None, **meta):
        request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7", **meta)
        request.user = user or alice
        return request

    return make


def test_an_event_records_actor_user_ip_and_user_agent(alice, bob, request_from):
    request = request_from(alice, HTTP_USER_AGENT="Firefox/130")
    event = audit("password_changed", request=request, user=bob, metadata={"reason": "reset"})

    event.refresh_from_db()
    assert event.action == "password_changed"
    assert event.outcome == AuditEvent.Outcome.SUCCESS
    assert event.actor == alice
    assert event.user == bob
    assert event.ip == "203.0.113.7"
    assert event.user_agent == "Firefox/130"
    assert event.metadata == {"reason": "reset"}
    assert event.created_at.utcoffset().total_seconds() == 0


def test_the_affected_user_defaults_to_the_actor(alice, request_from):
    event = audit("signout", request=request_from(alice))
    assert event.user == alice and event.actor == alice


def test_an_unknown_outcome_is_refused(alice):
    with pytest.raises(ValueError, match="outcome"):
        audit("signin", user=alice, outcome="maybe")
    assert AuditEvent.objects.count() == 0


def test_secrets_passed_in_metadata_are_dropped(alice):
    event = audit(
        "signin",
        user=alice,
        metadata={
            "method": "totp",
            "password": "correct horse",
            "new_password1": "hunter2hunter2",
            "code": "123456",
            "otp_token": "654321",
            "backup_code": "abcd-efgh",
            "reset_token": "tok",
            "secret": "JBSWY3DPEHPK3PXP",
            "session_key": "abc123",
            "key": "pk_live",
            "nested": {"totp_secret": "JBSWY3DP", "device": "phone", "list": [{"Token": "x"}]},
        },
    )
    event.refresh_from_db()
    assert event.metadata == {"method": "totp", "nested": {"device": "phone", "list": [{}]}}
    stored = str(event.metadata)
    for secret in ("correct horse", "hunter2", "123456", "654321", "abcd", "JBSWY3DP", "abc123"):
        assert secret not in stored


def test_metadata_is_made_json_safe_and_bounded():
    import datetime
    import uuid

    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    cleaned = clean_metadata(
        {
            "when": datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC),
            "id": value,
            "long": "x" * 5000,
            "deep": {"a": {"b": {"c": {"d": {"e": 1}}}}},
        }
    )
    assert cleaned["when"] == "2026-01-05T09:00:00Z"
    assert cleaned["id"] == str(value)
    assert len(cleaned["long"]) == 500
    assert cleaned["deep"] == {"a": {"b": {"c": "…"}}}  # four levels, the root included


def test_the_log_line_escapes_carriage_returns_and_line_feeds(user_factory, caplog):
    mallory = user_factory(
        "mallory\r\n2026-01-05 INFO panel.audit audit action=signin outcome=success user=admin"
    )
    caplog.set_level(logging.INFO, logger="panel.audit")

    audit("signin", user=mallory, outcome=AuditEvent.Outcome.FAILURE)

    lines = [r.getMessage() for r in caplog.records if r.name == "panel.audit"]
    assert len(lines) == 1
    line = lines[0]
    assert "\r" not in line and "\n" not in line
    assert "user=mallory\\x0d\\x0a2026-01-05 INFO" in line
    assert line.startswith("audit action=signin outcome=failure user=mallory")


def test_escape_for_log_turns_every_control_character_into_text():
    assert escape_for_log("a\x00b\x1b[31mc\u2028d") == "a\\x00b\\x1b[31mc\\x2028d"
    assert escape_for_log(None) == "-"


def test_nothing_secret_reaches_the_log(alice, caplog):
    caplog.set_level(logging.DEBUG)
    audit("password_changed", user=alice, metadata={"password": "correct horse battery"})
    assert "correct horse" not in caplog.text


def test_an_event_cannot_be_changed_or_deleted_through_the_orm(alice):
    event = audit("signin", user=alice)

    event.action = "nothing happened"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.get(pk=event.pk).action == "signin"


# --- Admin ------------------------------------------------------------------------------


def test_the_admin_lists_audit_events_with_filters_and_search(operator_client, alice, bob):
    audit("signin", user=alice)
    audit("signin", user=bob, outcome=AuditEvent.Outcome.FAILURE)
    audit("password_changed", user=bob)

    page = operator_client.get("/admin/audit/auditevent/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "password_changed" in body
    assert "By action" in body and "By outcome" in body

    failures = operator_client.get("/admin/audit/auditevent/?outcome=failure")
    assert failures.context["cl"].result_count == 1

    by_user = operator_client.get("/admin/audit/auditevent/?q=bob")
    assert {e.action for e in by_user.context["cl"].result_list} == {"signin", "password_changed"}
    assert all(e.user == bob for e in by_user.context["cl"].result_list)


def test_the_admin_cannot_add_change_or_delete_audit_events(operator_client, alice):
    event = audit("signin", user=alice)
    base = "/admin/audit/auditevent/"

    assert operator_client.get(f"{base}add/").status_code == 403
    assert operator_client.get(f"{base}{event.pk}/delete/").status_code == 403
    detail = operator_client.get(f"{base}{event.pk}/change/")
    assert detail.status_code == 200  # a read-only view
    assert 'name="_save"' not in detail.content.decode()
    posted = operator_client.post(f"{base}{event.pk}/change/", {"action": "rewritten"})
    assert posted.status_code == 403
    listing = operator_client.get(base)
    assert 'name="action"' not in listing.content.decode()  # no bulk actions
    assert AuditEvent.objects.get(pk=event.pk).action == "signin"


def test_the_admin_is_for_superusers_only(client, user_factory, alice):
    audit("signin", user=alice)
    staff = user_factory("staffer", is_staff=True)
    client.force_login(staff)
    response = client.get("/admin/audit/auditevent/", follow=True)
    assert response.status_code == 403
    assert "Panel administration" not in response.content.decode()
    assert "signin" not in response.content.decode()


def test_the_admin_site_admits_active_superusers_only(rf, user_factory):
    from panel.admin import PanelAdminSite

    site = PanelAdminSite()
    request = rf.get("/admin/")
    for user, allowed in (
        (user_factory("root1", is_staff=True, is_superuser=True), True),
        (user_factory("root2", is_staff=False, is_superuser=True), True),
        (user_factory("staff1", is_staff=True), False),
        (user_factory("gone", is_staff=True, is_superuser=True, is_active=False), False),
    ):
        request.user = user
        assert site.has_permission(request) is allowed, user.username


def test_a_signed_in_non_superuser_at_the_admin_sites_login_is_refused(rf, user_factory):
    from django.core.exceptions import PermissionDenied

    from panel.admin import PanelAdminSite

    request = rf.get("/admin/login/")
    request.user = user_factory("staffer", is_staff=True)
    with pytest.raises(PermissionDenied):
        PanelAdminSite().login(request)


def test_the_admin_sends_visitors_to_the_panel_sign_in(client):
    response = client.get("/admin/audit/auditevent/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/?next=/admin/audit/auditevent/"


def test_the_admin_login_form_is_never_shown(rf):
    from django.contrib.auth.models import AnonymousUser

    from panel.admin import PanelAdminSite

    request = rf.get("/admin/login/?next=https://evil.example/")
    request.user = AnonymousUser()
    response = PanelAdminSite().login(request)
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/?next=%2Fadmin%2F"


def test_a_signed_in_non_superuser_gets_403_from_the_admin(client, user_factory):
    client.force_login(user_factory("staffer", is_staff=True))
    response = client.get("/admin/audit/auditevent/", follow=True)
    assert response.status_code == 403
    assert "Access denied" in response.content.decode()


def test_a_superuser_at_the_admin_login_goes_to_the_admin_not_an_offsite_next(operator_client):
    response = operator_client.get("/admin/login/?next=https://evil.example/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
