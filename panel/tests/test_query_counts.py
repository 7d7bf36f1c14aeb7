"""Exact query counts of the signed-in pages, and no count that grows with the rows shown.

Every browser here signed in through the real pipeline (password, TOTP when 2FA is on),
and each page is requested right after, so the session middleware's once-a-minute
last-active write does not happen. The counts, and what each query is:

- every signed-in page starts with 1: the session's row, and in the same query the
  tracked-session row with its user (panel.session_store's read-along; Django's session
  check uses that user, accounts.backends.prefetched_user);
  a session verified with 2FA adds 1: django-otp's OTPMiddleware loads its device;
  a page with the panel's top bar adds 1: the user's teams with their roles and
  permission codes (teams.access, one query, for the team switcher and team pages);
  every signed-in request pays it, the admin's too, as the team security policy
  (idle timeout, required 2FA) is read from the same rows. With the cache on
  (TEAM_ACCESS_CACHE_SECONDS, on with Redis) each process keeps them under the team
  generation that the session query reads (panel.generations) until a team changes: the
  counts here are without it, and its saving has a test of its own.
- the Security tab adds 1 on PostgreSQL: its four statements (the 2FA device with its
  unused backup codes counted, the passkeys, the trusted devices, the sign-in activity)
  in one round trip (security.overview, panel.prepared.all_together), and 4 on SQLite,
  which takes one statement per execute; the passkey list also answers whether a passkey makes 2FA
  on without the app; an activity that lists an administrator acting as the user adds 1
  (the administrators' names);
- the Sessions tab adds 1 on PostgreSQL and 2 on SQLite: the sessions, and the held
  sign-ins if this browser is a trusted device (one statement with an EXISTS), read in
  one round trip where the connection allows it;
- the admin index adds 1 (the recent actions);
- the audit log adds 2 (the count of the filtered events, the page of events with their
  actor, user and impersonator), 3 when filtered by user (the user look-up);
- the 2FA step of sign-in is 4: the session, the pending user, the lock, the device.
- High Security Mode costs no query while it is off for the user's teams (the team's
  switch rides in the memberships query, the panel's is held in memory); with it on, a
  protected page adds 1 (the policy table's cells for the page and the user's roles).

A new query on one of these pages fails here: if it is meant, change the number and the
list above in the same commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from security.tests.helpers import (
    CHROME_LINUX,
    FIREFOX_WINDOWS,
    SAFARI_IPHONE,
    enroll,
    start_two_factor,
)

from .access import browser, sign_in

pytestmark = pytest.mark.django_db

AGENTS = [CHROME_LINUX, FIREFOX_WINDOWS, SAFARI_IPHONE]
PLACES = ["81.2.69.160", "90.10.20.30", "3.3.3.3", "2a02:6b8::1", "198.51.100.4"]

SIGNED_IN_BASE = 1
OTP_VERIFIED = 1
TEAMS = 1


def sessions_tab_lists() -> int:
    """The Sessions tab's two lists: one round trip on PostgreSQL, two on SQLite."""
    from django.db import connection

    return 1 if connection.vendor == "postgresql" else 2


def security_tab_lists() -> int:
    """The Security tab's four statements (passkeys, the app with its codes counted,
    trusted devices, activity): one round trip on PostgreSQL, four on SQLite."""
    from django.db import connection

    return 1 if connection.vendor == "postgresql" else 4


@pytest.fixture(autouse=True)
def _fast_and_fresh(settings):
    settings.BACKUP_CODE_SCRYPT_N = 2**8
    # The counts with the teams read from the database, on both legs; the cache's saving
    # is pinned on its own (test_the_teams_query_is_saved_once_the_process_holds_them).
    settings.TEAM_ACCESS_CACHE_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sam(user_factory):
    return user_factory("sam", full_name="Sam Plain")


@pytest.fixture
def sam_browser(sam, password):
    client = browser("203.0.113.5")
    sign_in(client, sam, password)
    return client


@pytest.fixture
def tia(user_factory):
    user = user_factory("tia", full_name="Tia Twofactor")
    return user, enroll(user)


@pytest.fixture
def tia_browser(tia, password):
    user, enrolled = tia
    client = browser("203.0.113.6")
    sign_in(client, user, password, enrolled)
    return client


@pytest.fixture
def root_browser(user_factory, password):
    root = user_factory("root_operator", is_staff=True, is_superuser=True)
    enrolled = enroll(root)
    client = browser("203.0.113.7")
    sign_in(client, root, password, enrolled)
    return client


def get_ok(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, (path, response)
    return response


# --- Rows that the pages list -------------------------------------------------------------


def other_sessions(user, count: int) -> None:
    """``count`` more live sessions of ``user``, from different browsers and places."""
    from security.models import TrackedSession

    for n in range(count):
        TrackedSession.objects.create(
            user=user,
            session_key_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
            ip=PLACES[n % len(PLACES)],
            user_agent=AGENTS[n % len(AGENTS)],
            browser=["Chrome", "Firefox", "Safari"][n % 3],
            os=["Linux", "Windows", "iOS"][n % 3],
            device_type=["desktop", "desktop", "mobile"][n % 3],
            city="Paris",
            country="France",
            method="password",
        )


def trusted_devices(user, count: int) -> None:
    from security.models import TrustedDevice

    for n in range(count):
        TrustedDevice.objects.create(
            user=user,
            token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
            name=f"Laptop {n}" if n % 2 else "",
            ip=PLACES[n % len(PLACES)],
            browser="Firefox",
            os="Windows",
            device_type="desktop",
        )


def activity(user, count: int) -> None:
    """``count`` sign-in events of ``user`` (successes, failures, lockouts, holds)."""
    from audit.models import AuditEvent

    actions = ["signin", "2fa_failed", "lockout", "new_device_code_failed", "signin"]
    for n in range(count):
        AuditEvent.objects.create(
            action=actions[n % len(actions)],
            outcome="failure" if n % 3 == 1 else "success",
            user=user,
            actor=user,
            ip=PLACES[n % len(PLACES)],
            user_agent=AGENTS[n % len(AGENTS)] + f" build/{n}",
            metadata={"method": "password"},
        )
    # Failed passwords are recorded before anyone is known: matched by the login typed.
    AuditEvent.objects.create(
        action="signin", outcome="failure", metadata={"login": user.username.upper()}
    )


def held_signins(user, count: int) -> None:
    from security.models import SuspiciousSignIn

    for n in range(count):
        SuspiciousSignIn.objects.create(
            user=user,
            ip=PLACES[n % len(PLACES)],
            browser="Safari",
            os="iOS",
            reasons=["new_country", "failure_burst"][: 1 + n % 2],
            expires_at=timezone.now() + timedelta(minutes=30),
        )


# --- Exact counts ---------------------------------------------------------------------------


def test_the_dashboard_takes_two_queries(sam_browser, django_assert_num_queries):
    with django_assert_num_queries(SIGNED_IN_BASE + TEAMS):
        get_ok(sam_browser, "/dashboard/")


def test_the_teams_query_is_saved_once_the_process_holds_them(
    settings, sam, password, django_assert_num_queries
):
    """With the cache on (TEAM_ACCESS_CACHE_SECONDS; Redis in production, the
    local-memory cache stands in here), the process keeps the user's teams under the team
    generation read with the session (panel.generations): the first page reads the teams,
    the next ones read nothing more than the session and the user, until a team write
    replaces the generation."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "q"}
    }
    settings.TEAM_ACCESS_CACHE_SECONDS = 300
    client = browser("203.0.113.5")
    sign_in(client, sam, password)
    get_ok(client, "/dashboard/")
    with django_assert_num_queries(SIGNED_IN_BASE):
        get_ok(client, "/dashboard/")
    from teams import access

    access.changed()  # any team write
    with django_assert_num_queries(SIGNED_IN_BASE + TEAMS):
        get_ok(client, "/dashboard/")
    with django_assert_num_queries(SIGNED_IN_BASE):
        get_ok(client, "/dashboard/")


def test_the_dashboard_with_2fa_takes_three_queries(tia_browser, django_assert_num_queries):
    with django_assert_num_queries(SIGNED_IN_BASE + OTP_VERIFIED + TEAMS):
        get_ok(tia_browser, "/dashboard/")


def test_the_security_tab_without_2fa_reads_its_lists_at_once(
    sam, sam_browser, django_assert_num_queries
):
    trusted_devices(sam, 2)
    activity(sam, 2)
    # Passkeys: one list, for the list and for whether one makes 2FA on without the app.
    with django_assert_num_queries(SIGNED_IN_BASE + TEAMS + security_tab_lists()):
        response = get_ok(sam_browser, "/settings/security/")
    assert "Enable 2FA" in response.content.decode()


def test_the_security_tab_with_2fa_reads_its_lists_at_once(
    tia, tia_browser, django_assert_num_queries
):
    user, _ = tia
    trusted_devices(user, 2)
    activity(user, 2)
    with django_assert_num_queries(SIGNED_IN_BASE + OTP_VERIFIED + TEAMS + security_tab_lists()):
        response = get_ok(tia_browser, "/settings/security/")
    assert "10 of 10 left" in response.content.decode()


def test_the_sessions_tab_with_three_sessions_reads_its_lists_at_once(
    sam, sam_browser, django_assert_num_queries
):
    other_sessions(sam, 2)
    with django_assert_num_queries(SIGNED_IN_BASE + TEAMS + sessions_tab_lists()):
        response = get_ok(sam_browser, "/settings/sessions/")
    assert response.content.decode().count('class="session-item') == 3


def test_the_sessions_tab_with_2fa_and_held_sign_ins_reads_its_lists_at_once(
    tia, tia_browser, django_assert_num_queries
):
    user, _ = tia
    other_sessions(user, 2)
    held_signins(user, 2)
    with django_assert_num_queries(SIGNED_IN_BASE + OTP_VERIFIED + TEAMS + sessions_tab_lists()):
        response = get_ok(tia_browser, "/settings/sessions/")
    assert response.content.decode().count("Yes, it was me") == 2


def test_the_2fa_step_of_sign_in_takes_six_queries(tia, password, django_assert_num_queries):
    user, _ = tia
    client = browser("203.0.113.8")
    start_two_factor(client, user, password)
    # One of them maps the username to its lockout key with the sign-in's own look-up
    # (accounts.backends.normalize_login), so every spelling shares one counter; one
    # asks whether the account has a passkey to offer first.
    with django_assert_num_queries(6):
        get_ok(client, "/auth/2fa/")


def test_the_admin_index_takes_four_queries(root_browser, django_assert_num_queries):
    with django_assert_num_queries(SIGNED_IN_BASE + OTP_VERIFIED + TEAMS + 1):
        get_ok(root_browser, "/admin/")


def test_the_audit_log_takes_five_queries_and_six_filtered_by_user(
    root_browser, django_assert_num_queries
):
    with django_assert_num_queries(SIGNED_IN_BASE + OTP_VERIFIED + TEAMS + 2):
        get_ok(root_browser, "/operations/audit/")
    with django_assert_num_queries(SIGNED_IN_BASE + OTP_VERIFIED + TEAMS + 3):
        get_ok(root_browser, "/operations/audit/?user=root_operator&ip=203.0.113.0/24")


# --- Counts that must not grow with the rows ----------------------------------------------


def audit_events(count: int, users) -> None:
    from audit.actions import Action
    from audit.services import audit

    for n in range(count):
        actor, user = users[n % len(users)], users[(n + 1) % len(users)]
        audit(Action.UNLOCK, actor=actor, user=user, impersonator=actor, team_id=n)


def test_the_audit_log_costs_the_same_for_three_or_thirty_events(root_browser, user_factory):
    users = [user_factory(f"audited{n}") for n in range(4)]
    audit_events(3, users)
    with_three = count_queries(root_browser, "/operations/audit/")
    audit_events(27, users)
    body = root_browser.get("/operations/audit/").content.decode()
    assert body.count("impersonated by") == 30
    assert count_queries(root_browser, "/operations/audit/") == with_three


def count_queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        get_ok(client, path)
    return len(queries)


def test_the_sessions_tab_costs_the_same_for_three_or_ten_sessions(tia, tia_browser):
    user, _ = tia
    other_sessions(user, 2)
    held_signins(user, 1)
    with_three = count_queries(tia_browser, "/settings/sessions/")
    other_sessions(user, 7)
    held_signins(user, 4)
    response = tia_browser.get("/settings/sessions/")
    assert response.content.decode().count('class="session-item') == 10
    assert count_queries(tia_browser, "/settings/sessions/") == with_three


def test_the_security_tab_costs_the_same_for_two_or_ten_rows(tia, tia_browser):
    user, _ = tia
    trusted_devices(user, 1)  # and the browser signed in here: 2
    activity(user, 1)
    with_two = count_queries(tia_browser, "/settings/security/")
    trusted_devices(user, 8)
    activity(user, 8)
    body = tia_browser.get("/settings/security/").content.decode()
    assert body.count('aria-label="Forget ') == 10
    assert count_queries(tia_browser, "/settings/security/") == with_two


def test_the_activitys_administrators_cost_one_query_whatever_their_number(
    tia, tia_browser, user_factory
):
    from audit.models import AuditEvent

    user, _ = tia
    without = count_queries(tia_browser, "/settings/security/")
    for n in range(3):
        admin = user_factory(f"admin{n}", full_name=f"Admin Number{n}", is_superuser=True)
        for action in ("impersonation_started", "impersonation_ended"):
            AuditEvent.objects.create(
                action=action, user=user, actor=admin, impersonator=admin, metadata={}
            )
    body = tia_browser.get("/settings/security/").content.decode()
    for n in range(3):
        assert f"Admin Number{n} (administrator) started acting as you" in body
    assert count_queries(tia_browser, "/settings/security/") == without + 1


# --- The admin's lists ------------------------------------------------------------------


def populate(user_factory, start: int, count: int) -> None:
    """``count`` users with everything the admin lists: a TOTP device, backup codes,
    sessions, devices, held sign-ins, audit events, lockouts, emails, axes records."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from accounts.models import OutboxEmail
    from security.models import Lockout

    for n in range(start, start + count):
        user = user_factory(f"member{n}")
        enroll(user)
        other_sessions(user, 1)
        trusted_devices(user, 1)
        held_signins(user, 1)
        activity(user, 1)
        Lockout.objects.create(ip=f"198.51.100.{n}", username=user.username)
        OutboxEmail.objects.create(recipient=user.email, template="verify_email", subject="Hi")
        common = {
            "user_agent": CHROME_LINUX,
            "ip_address": f"198.51.100.{n}",
            "username": user.username,
            "http_accept": "text/html",
            "path_info": "/auth/login/",
        }
        AccessAttempt.objects.create(**common, get_data="", post_data="", failures_since_start=1)
        AccessLog.objects.create(**common)
        AccessFailureLog.objects.create(**common, locked_out=False)


def test_no_admin_list_costs_more_with_more_rows(root_browser, user_factory):
    from django.contrib import admin
    from django.urls import reverse

    lists = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    assert len(lists) >= 10
    populate(user_factory, 1, 2)
    before = {path: count_queries(root_browser, path) for path in lists}
    populate(user_factory, 3, 6)
    after = {path: count_queries(root_browser, path) for path in lists}
    assert after == before


# --- The operations pages -------------------------------------------------------------


def failed_attempts(count: int, start: int) -> None:
    from audit.actions import Action
    from audit.models import AuditEvent
    from audit.services import audit
    from security.lockout.models import Lockout

    for n in range(start, start + count):
        audit(
            Action.SIGNIN,
            outcome=AuditEvent.Outcome.FAILURE,
            metadata={"login_fingerprint": f"{n:032x}"},
        )
        Lockout.objects.create(
            ip=f"198.51.100.{n}",
            username=f"name{n}",
            locked_until=timezone.now() + timedelta(minutes=5),
        )


def blocks(count: int, start: int) -> None:
    from security.blocking.models import BlockedNetwork

    for n in range(start, start + count):
        BlockedNetwork.objects.create(network=f"192.0.2.{n}/32", reason="test")


def test_the_failed_attempts_page_costs_the_same_for_two_or_twenty_rows(root_browser):
    failed_attempts(2, 1)
    with_two = count_queries(root_browser, "/operations/failed-attempts/")
    failed_attempts(18, 3)
    body = root_browser.get("/operations/failed-attempts/").content.decode()
    assert body.count("a name that is not an account") == 20
    assert count_queries(root_browser, "/operations/failed-attempts/") == with_two


def test_the_block_list_costs_the_same_for_two_or_twenty_blocks(root_browser):
    blocks(2, 1)
    with_two = count_queries(root_browser, "/operations/blocks/")
    blocks(18, 3)
    body = root_browser.get("/operations/blocks/").content.decode()
    assert body.count("Lift block of") == 20
    assert count_queries(root_browser, "/operations/blocks/") == with_two


def test_the_metrics_dashboard_costs_the_same_with_no_or_many_events(
    root_browser, django_assert_num_queries, settings
):
    # The hourly rollup brought up to date (latest hour, the hours to count, and their
    # delete and insert in a savepoint: 6), its counts and the current hour live (2); then
    # one grouped query a source: active accounts, password resets, ended sessions,
    # emails, failures by address and hour, 2FA coverage (6); the session errors' hourly
    # counters, one cache read (a query with the SQLite leg's database cache; none with
    # Redis in the services leg and production): 15 or 14 after the base.
    cache_read = 1 if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache") else 0
    with django_assert_num_queries(SIGNED_IN_BASE + OTP_VERIFIED + TEAMS + 14 + cache_read):
        get_ok(root_browser, "/operations/metrics/?window=30d")
    failed_attempts(20, 1)
    with django_assert_num_queries(SIGNED_IN_BASE + OTP_VERIFIED + TEAMS + 14 + cache_read):
        get_ok(root_browser, "/operations/metrics/?window=30d")


# --- Account controls: the email change pages -------------------------------------------


def test_the_email_change_page_takes_two_queries(sam_browser, django_assert_num_queries):
    import time

    from security.stepup.state import STEPUP_KEY

    session = sam_browser.session
    session[STEPUP_KEY] = time.time()
    session.save()
    with django_assert_num_queries(SIGNED_IN_BASE + TEAMS):
        response = get_ok(sam_browser, "/settings/security/email/")
    assert "New email address" in response.content.decode()


def test_an_emailed_email_change_link_takes_one_query(sam, django_assert_num_queries):
    from accounts import controls
    from accounts.models import EmailChange

    change = EmailChange.objects.create(user=sam, old_email=sam.email, new_email="s@example.org")
    visitor = browser("203.0.113.9")
    # The change with its user (one query); a visitor has no session to read.
    with django_assert_num_queries(1):
        get_ok(visitor, f"/auth/email/confirm/{controls.confirm_token(change)}/")
    with django_assert_num_queries(1):
        get_ok(visitor, f"/auth/email/undo/{controls.undo_token(change)}/")


# --- High Security Mode -------------------------------------------------------------------------


@pytest.fixture
def owner_browser(user_factory, password):
    """Olive, Owner of Acme with 2FA, signed in a moment ago (her sign-in is the step-up)."""
    from teams import services as team_services

    olive = user_factory("olive", full_name="Olive Owner")
    enrolled = enroll(olive)
    team = team_services.team_create(name="Acme", owner=olive)
    client = browser("203.0.113.8")
    sign_in(client, olive, password, enrolled)
    return client, team


def test_the_high_security_check_costs_no_query_when_the_teams_have_it_off(
    owner_browser, django_assert_num_queries
):
    from security.stepup import high_security

    client, team = owner_browser
    request = get_ok(client, f"/teams/{team.pk}/members/").wsgi_request
    # The team's switch came with the memberships (request.teams), the panel's is held
    # in memory: deciding costs nothing, on a team page or on the user's own pages.
    with django_assert_num_queries(0):
        assert not high_security.decide(request, "members", {"team_id": team.pk}).on
        assert not high_security.decide(request, "sessions", {}).on


def test_with_the_mode_on_a_protected_page_reads_the_policy_table_once(owner_browser):
    from teams import services as team_services

    client, team = owner_browser
    page = f"/teams/{team.pk}/members/"
    off = count_queries(client, page)
    team_services.team_set_high_security(actor=None, team=team, enabled=True, as_operator=True)
    assert count_queries(client, page) == off + 1
