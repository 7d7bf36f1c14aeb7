"""Impersonation: who may act as whom, the POST with a reason after a step-up, no nesting,
the 30-minute limit, sign-out, the pages out of reach, both names on every audit event,
the notice email and the withheld ones, the user's activity."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.urls import reverse

from audit.models import AuditEvent
from security.impersonation import rules, state
from security.impersonation.services import may_impersonate
from security.stepup.state import STEPUP_KEY
from teams.tests.conftest import join

pytestmark = pytest.mark.django_db

START = "security:impersonate"
END = reverse("security:impersonate_end")
REASON = "Ticket 4121: the customer cannot see their domains"


def stepped_up(client) -> None:
    session = client.session
    session[STEPUP_KEY] = time.time()
    session.save()


def sign_in(client, user, *, stepup: bool = True):
    client.force_login(user)
    if stepup:
        stepped_up(client)
    return client


def start(client, target, reason: str = REASON):
    return client.post(reverse(START, args=[target.pk]), {"reason": reason})


def acting_as(client):
    return client.session.get(state.SESSION_KEY)


# --- Who may act as whom ------------------------------------------------------------------


def test_a_superuser_may_act_as_anyone_but_another_superuser(operator, user_factory, bob):
    other_super = user_factory("root2", is_staff=True, is_superuser=True)
    assert may_impersonate(hijacker=operator, hijacked=bob)
    assert not may_impersonate(hijacker=operator, hijacked=other_super)
    assert not may_impersonate(hijacker=operator, hijacked=operator)


def test_nobody_acts_as_a_disabled_account(operator, bob):
    bob.is_active = False
    bob.save()
    assert not may_impersonate(hijacker=operator, hijacked=bob)


def test_an_owner_may_act_as_a_manager_and_a_developer_of_their_team(alice, mia, dave):
    assert may_impersonate(hijacker=alice, hijacked=mia)
    assert may_impersonate(hijacker=alice, hijacked=dave)


def test_a_manager_may_act_as_a_developer_but_not_an_owner_or_another_manager(
    alice, mia, dave, acme, user_factory
):
    other_manager = user_factory("max", full_name="Max Manager")
    join(acme, other_manager, "Manager")
    assert may_impersonate(hijacker=mia, hijacked=dave)
    assert not may_impersonate(hijacker=mia, hijacked=alice)
    assert not may_impersonate(hijacker=mia, hijacked=other_manager)


def test_a_developer_holds_no_user_manage_and_acts_as_nobody(alice, mia, dave, acme, user_factory):
    other_dev = user_factory("dora")
    join(acme, other_dev, "Developer")
    assert not may_impersonate(hijacker=dave, hijacked=other_dev)
    assert not may_impersonate(hijacker=dave, hijacked=mia)


def test_a_team_role_counts_only_in_its_own_team(alice, acme, globex, user_factory):
    stranger = user_factory("gus")
    join(globex, stranger, "Developer")
    assert not may_impersonate(hijacker=alice, hijacked=stranger)


def test_a_team_owner_never_acts_as_a_superuser_member(alice, acme, operator):
    join(acme, operator, "Developer")
    assert not may_impersonate(hijacker=alice, hijacked=operator)


def test_the_team_rule_is_registered_from_teams():
    assert "teams" in rules._rules


# --- Starting -----------------------------------------------------------------------------


def test_get_shows_the_form_and_starts_nothing(client, operator, bob):
    sign_in(client, operator)
    response = client.get(reverse(START, args=[bob.pk]))
    assert response.status_code == 200
    assert b'name="reason"' in response.content
    assert acting_as(client) is None
    assert not AuditEvent.objects.filter(action="impersonation_started").exists()


def test_a_post_with_a_reason_starts_and_is_audited_with_the_reason(client, operator, bob):
    sign_in(client, operator)
    key_before = client.session.session_key
    response = start(client, bob)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert acting_as(client)["user_id"] == bob.pk
    assert client.session.session_key != key_before
    event = AuditEvent.objects.get(action="impersonation_started")
    assert (event.actor, event.user, event.impersonator) == (operator, bob, operator)
    assert event.metadata["reason"] == REASON


def test_a_post_without_a_reason_is_refused(client, operator, bob):
    sign_in(client, operator)
    response = start(client, bob, reason="   ")
    assert response.status_code == 400
    assert b"Write why" in response.content or b"required" in response.content
    assert acting_as(client) is None


def test_a_post_without_csrf_is_refused(operator, bob):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    sign_in(client, operator)
    response = start(client, bob)
    assert response.status_code == 403
    assert acting_as(client) is None


def test_starting_needs_a_fresh_stepup(client, operator, bob):
    sign_in(client, operator, stepup=False)
    response = start(client, bob)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("security:stepup"))
    assert acting_as(client) is None


def test_someone_the_rules_refuse_gets_a_404(client, mia, alice, dave):
    sign_in(client, dave)
    assert start(client, mia).status_code == 404
    sign_in(client, mia)
    assert start(client, alice).status_code == 404
    assert acting_as(client) is None


def test_a_team_manager_starts_acting_as_a_developer(client, mia, dave):
    sign_in(client, mia)
    assert start(client, dave).status_code == 302
    assert acting_as(client)["user_id"] == dave.pk


def test_impersonating_while_impersonating_is_refused(client, operator, bob, charlie):
    sign_in(client, operator)
    start(client, bob)
    response = start(client, charlie)
    assert response.status_code == 403
    assert "one impersonation at a time" in response.content.decode()
    assert acting_as(client)["user_id"] == bob.pk
    assert AuditEvent.objects.filter(action="impersonation_started").count() == 1


def test_the_service_refuses_nesting_too(rf, operator, bob, charlie):
    from security.exceptions import ImpersonationRefused
    from security.impersonation import services

    request = rf.post("/")
    request.user = charlie
    request.impersonator = operator
    request.session = {}
    with pytest.raises(ImpersonationRefused):
        services.start(request=request, target=bob, reason="x")


# --- While acting ---------------------------------------------------------------------------


def test_pages_show_the_user_and_the_orange_banner(client, operator, bob):
    sign_in(client, operator)
    start(client, bob)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    assert response.wsgi_request.user == bob
    assert response.wsgi_request.impersonator == operator
    page = response.content.decode()
    assert "data-impersonation-banner" in page
    assert "You are signed in as <strong>Bob Member</strong> (impersonating)" in page
    assert REASON in page
    assert "30 min left" in page
    assert f'action="{END}"' in page


def test_every_action_while_acting_names_both(client, operator, bob):
    from audit.actions import Action
    from audit.services import acting_as as audit_acting_as, audit

    sign_in(client, operator)
    start(client, bob)
    response = client.get(reverse("dashboard"))
    with_request = audit(Action.TEAM_CREATED, request=response.wsgi_request)
    assert (with_request.actor, with_request.user, with_request.impersonator) == (
        bob,
        bob,
        operator,
    )
    # A service that records without the request still names the administrator: the
    # middleware runs the request inside audit.services.acting_as.
    with audit_acting_as(operator):
        without_request = audit(Action.TEAM_RENAMED, actor=bob)
    assert without_request.impersonator == operator
    assert audit(Action.TEAM_RENAMED, actor=bob).impersonator is None


def test_a_team_change_made_while_acting_names_both(client, alice, mia, dave, acme):
    sign_in(client, alice)
    start(client, mia)
    membership = dave.memberships.get(team=acme)
    response = client.post(reverse("teams:member_remove", args=[acme.pk, membership.pk]))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="member_removed")
    assert (event.actor, event.user, event.impersonator) == (mia, dave, alice)


SENSITIVE = [
    ("accounts:settings_password", []),
    ("security:twofactor_enable", []),
    ("security:twofactor_setup", []),
    ("security:twofactor_regenerate", []),
    ("security:twofactor_disable", []),
    ("security:passkey_add", []),
    ("security:passkey_rename", [1]),
    ("security:passkey_remove", [1]),
    ("security:sessions", []),
    ("security:sessions_revoke_others", []),
    ("security:session_revoke", [1]),
    ("security:stepup", []),
]


@pytest.mark.parametrize(("name", "args"), SENSITIVE)
def test_the_users_own_secrets_are_out_of_reach(client, operator, bob, name, args):
    sign_in(client, operator)
    start(client, bob)
    response = client.get(reverse(name, args=args))
    assert response.status_code == 403
    assert "End the impersonation" in response.content.decode()
    assert "data-impersonation-banner" in response.content.decode()


def test_posting_a_new_password_while_acting_changes_nothing(client, operator, bob, password):
    sign_in(client, operator)
    start(client, bob)
    response = client.post(
        reverse("accounts:settings_password"),
        {"old_password": password, "new_password1": "a" * 20, "new_password2": "a" * 20},
    )
    assert response.status_code == 403
    bob.refresh_from_db()
    assert bob.check_password(password)


def test_every_page_declared_out_of_reach_is_refused(client, operator, bob):
    """Whatever the URL configuration marks @not_while_impersonating answers 403."""
    import uuid

    from django.urls.converters import IntConverter, UUIDConverter

    from panel.tests.access import url_patterns

    sign_in(client, operator)
    start(client, bob)
    marked = [r for r in url_patterns() if getattr(r.view, "not_while_impersonating", False)]
    assert len(marked) >= len(SENSITIVE) + 1
    samples = {IntConverter: 1, UUIDConverter: uuid.uuid4()}
    for route in marked:
        kwargs = {
            key: samples.get(type(converter), "approve")
            for key, converter in route.converters.items()
        }
        for method in (client.get, client.post):
            response = method(reverse(route.name, kwargs=kwargs or None))
            assert response.status_code == 403, route.name
    assert acting_as(client)["user_id"] == bob.pk


# --- Ending ---------------------------------------------------------------------------------


def test_end_goes_back_to_the_administrator_and_is_audited(client, operator, bob):
    sign_in(client, operator)
    start(client, bob)
    response = client.post(END)
    assert response.status_code == 302
    assert acting_as(client) is None
    assert client.get(reverse("dashboard")).wsgi_request.user == operator
    event = AuditEvent.objects.get(action="impersonation_ended")
    assert (event.actor, event.user, event.impersonator) == (operator, bob, operator)
    assert event.metadata["reason"] == REASON
    assert event.metadata["how"] == "ended"


def test_end_is_a_post(client, operator, bob):
    sign_in(client, operator)
    start(client, bob)
    assert client.get(END).status_code == 405
    assert acting_as(client) is not None


def test_after_thirty_minutes_it_ends_by_itself(client, operator, bob):
    sign_in(client, operator)
    with time_machine.travel(time.time(), tick=False) as traveller:
        start(client, bob)
        traveller.shift(29 * 60)
        assert client.get(reverse("dashboard")).wsgi_request.user == bob
        traveller.shift(61)
        response = client.post(reverse("teams:switch"), {"team": "1"})
        # The POST is not run as anyone: back to the administrator's dashboard.
        assert response.status_code == 302
        assert response["Location"] == reverse("dashboard")
        assert acting_as(client) is None
        page = client.get(reverse("dashboard"))
    assert page.wsgi_request.user == operator
    assert "ended after 30 minutes" in page.content.decode()
    event = AuditEvent.objects.get(action="impersonation_ended")
    assert event.metadata["how"] == "expired"
    assert event.impersonator == operator


def test_signing_out_ends_it(client, operator, bob):
    sign_in(client, operator)
    start(client, bob)
    client.post(reverse("security:logout"))
    event = AuditEvent.objects.get(action="impersonation_ended")
    assert event.metadata["how"] == "signout"
    assert (event.actor, event.user) == (operator, bob)
    assert client.get(reverse("dashboard")).status_code == 302


def test_it_ends_when_the_user_becomes_a_superuser(client, operator, bob):
    sign_in(client, operator)
    start(client, bob)
    bob.is_superuser = True
    bob.save()
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert acting_as(client) is None
    assert AuditEvent.objects.get(action="impersonation_ended").metadata["how"] == "not_allowed"


# --- Email and activity ---------------------------------------------------------------------


def test_the_user_is_emailed_when_it_starts(client, operator, bob, mailoutbox, emails_sent_at_once):
    sign_in(client, operator)
    start(client, bob)
    assert [m.to for m in mailoutbox] == [[bob.email]]
    assert "acting as you" in mailoutbox[0].subject
    assert REASON in mailoutbox[0].body
    assert operator.get_full_name() in mailoutbox[0].body


def test_the_setting_turns_the_start_email_off(
    client, operator, bob, mailoutbox, emails_sent_at_once, settings
):
    settings.PANEL_IMPERSONATION_NOTICE = False
    sign_in(client, operator)
    start(client, bob)
    assert mailoutbox == []
    assert acting_as(client) is not None


def test_no_notice_goes_to_the_user_about_what_the_administrator_does(
    client, alice, dave, acme, mailoutbox, emails_sent_at_once, settings
):
    from accounts.models import OutboxEmail

    settings.PANEL_IMPERSONATION_NOTICE = False
    sign_in(client, alice)
    start(client, dave)
    # Acting as Dave, the Owner makes Dave leave the team: the "you were removed" notice
    # would tell Dave he did it. It is withheld; the change and its audit event stand.
    response = client.post(reverse("teams:leave", args=[acme.pk]))
    assert response.status_code == 302
    assert not dave.memberships.exists()
    assert mailoutbox == []
    assert not OutboxEmail.objects.filter(recipient=dave.email).exists()
    assert AuditEvent.objects.get(action="member_removed").impersonator == alice


def test_the_same_change_by_the_user_themselves_is_notified(
    client, dave, acme, mailoutbox, emails_sent_at_once
):
    sign_in(client, dave)
    client.post(reverse("teams:leave", args=[acme.pk]))
    assert [m.to for m in mailoutbox] == [[dave.email]]


def test_notices_to_the_user_are_withheld_only_during_the_request():
    from accounts.emails import is_withheld, notices_withheld_from

    with notices_withheld_from("Bob@Example.com"):
        assert is_withheld("bob@example.com")
        assert not is_withheld("carol@example.com")
    assert not is_withheld("bob@example.com")


def test_the_user_sees_in_their_activity_who_acted_as_them_and_why(client, operator, bob):
    sign_in(client, operator)
    start(client, bob)
    client.post(END)
    client.force_login(bob)
    page = client.get(reverse("accounts:settings_security")).content.decode()
    assert "Recent sign-in activity" in page
    assert f"{operator.get_full_name()} (administrator) started acting as you" in page
    assert f"{operator.get_full_name()} (administrator) stopped acting as you" in page
    assert f"Reason: {REASON}" in page


# --- Pages that offer it ----------------------------------------------------------------------


def test_the_members_page_offers_impersonate_where_allowed(client, alice, mia, dave, acme):
    sign_in(client, alice)
    page = client.get(reverse("teams:members", args=[acme.pk])).content.decode()
    assert reverse(START, args=[mia.pk]) in page
    assert reverse(START, args=[dave.pk]) in page
    assert reverse(START, args=[alice.pk]) not in page
    sign_in(client, mia)
    page = client.get(reverse("teams:members", args=[acme.pk])).content.decode()
    assert reverse(START, args=[dave.pk]) in page
    assert reverse(START, args=[alice.pk]) not in page
    sign_in(client, dave)
    page = client.get(reverse("teams:members", args=[acme.pk])).content.decode()
    assert "Impersonate" not in page


def test_the_admin_user_list_links_to_impersonation(client, operator, bob):
    sign_in(client, operator)
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert reverse(START, args=[bob.pk]) in page
    assert reverse(START, args=[operator.pk]) not in page


# --- django-hijack --------------------------------------------------------------------------


def test_hijacks_signals_are_sent_at_start_and_end(client, operator, bob):
    from hijack import signals

    seen = []

    def record(sender, request, hijacker, hijacked, **kwargs):
        seen.append((hijacker, hijacked))

    signals.hijack_started.connect(record, dispatch_uid="test_started")
    signals.hijack_ended.connect(record, dispatch_uid="test_ended")
    try:
        sign_in(client, operator)
        start(client, bob)
        client.post(END)
    finally:
        signals.hijack_started.disconnect(dispatch_uid="test_started")
        signals.hijack_ended.disconnect(dispatch_uid="test_ended")
    assert seen == [(operator, bob), (operator, bob)]


def deny_everyone(*, hijacker, hijacked) -> bool:
    return False


def test_the_hijack_permission_check_setting_decides(client, operator, bob, settings):
    settings.HIJACK_PERMISSION_CHECK = f"{__name__}.deny_everyone"
    sign_in(client, operator)
    assert start(client, bob).status_code == 404
    assert acting_as(client) is None


def test_the_session_stays_the_administrators(client, operator, bob):
    """Nobody signs in as the user: no sign-in event or session of theirs, and the
    administrator's tracked session carries on."""
    from security.sessions.models import TrackedSession

    sign_in(client, operator)
    start(client, bob)
    client.get(reverse("dashboard"))
    assert not TrackedSession.objects.filter(user=bob).exists()
    assert not AuditEvent.objects.filter(action="signin", user=bob).exists()
    assert TrackedSession.objects.filter(user=operator, ended_at__isnull=True).count() == 1
    client.post(END)
    assert TrackedSession.objects.filter(user=operator, ended_at__isnull=True).count() == 1
