"""The High Security policy matrix: every page key x every role x every state, GET and POST.

For each page key, a page of that kind is requested (a GET, and a POST with a CSRF token
and a body that changes nothing) by a person of each role in each state, once with High
Security Mode off (the baseline: what the page answers on its own) and once with it on.
With the mode on, the answer must be:

- anonymous: the sign-in page (the mode changes nothing);
- the page's own refusal (403/404 from the team or operator check) when it refuses:
  a team outsider, a member without the permission or a non-superuser on an operator
  page learns nothing new;
- where the policy table (the catalogue's defaults here) says ``blocked`` (any method)
  or ``read_only`` (a POST): enrollment for an account without 2FA, the 2FA step-up
  (``level=2fa``) for a stale one (its sign-in and step-up 16 minutes old);
- otherwise, and always with a fresh step-up: the baseline, and a read-only GET shows
  "Verify to make changes".

States: anonymous, no 2FA, stale step-up, fresh step-up (a sign-in with the second factor
a moment ago counts), and impersonating: a superuser who signed in with 2FA a moment ago
acts as the person. The session is the administrator's, so their fresh step-up counts
(the answer is the baseline's); the pages out of reach while impersonating (the
person's sessions, API keys, High Security settings) answer 403 with the mode off and on.
Superusers cannot be impersonated, so the superuser role has no impersonating state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from security.stepup import pages, services
from security.tests.helpers import enroll, sign_in, start_two_factor, submit_code
from teams import services as team_services
from teams.models import Membership, Permission, Role, Team

pytestmark = pytest.mark.django_db

# Each state is a way the person's browser stands: a new state is one entry here and one
# branch in ``World.client_for``.
STATES = ("anonymous", "no_2fa", "stale", "fresh", "impersonating")

# Roles on team pages (the person is a member of the team with that role; "superuser" is
# a panel superuser who is a Developer of the team: the stricter rule of the two applies).
TEAM_ROLES = ("owner", "manager", "developer", "member", "superuser")
# Roles on operator pages (everyone but superusers gets the view's own 403).
PANEL_ROLES = ("superuser", "user")
# Roles on the user's own pages (session revocation): "user" with the panel's mode on,
# the team roles with their team's mode on.
OWN_ROLES = ("user", "owner", "developer")


@dataclass(frozen=True)
class Page:
    key: str
    scope: str  # "team", "panel" or "own"
    get: str  # path (``{t}`` is the team's id)
    post: str
    body: dict


# One page per key: a POST body that changes nothing (an invalid form, or a switch to the
# state it is already in), so that the baseline and the request with the mode on meet the
# same state.
PAGES = [
    Page("members", "team", "/teams/{t}/members/", "/teams/{t}/invitations/", {}),
    Page("roles", "team", "/teams/{t}/roles/", "/teams/{t}/roles/new/", {}),
    Page(
        "team_policy",
        "team",
        "/teams/{t}/policy/",
        "/teams/{t}/policy/",
        {"min_password_length": "3"},
    ),
    Page(
        "high_security",
        "team",
        "/teams/{t}/high-security/",
        "/teams/{t}/high-security/",
        {"enabled": "on"},
    ),
    Page(
        "high_security",
        "panel",
        "/operations/high-security/",
        "/operations/high-security/switch/",
        {"enabled": "on"},
    ),
    Page("panel_settings", "panel", "/operations/blocks/", "/operations/blocks/", {}),
    Page(
        "sessions",
        "own",
        "/settings/sessions/revoke-others/",
        "/settings/sessions/revoke-others/",
        {},
    ),
    Page("api_keys", "own", "/settings/api-keys/", "/settings/api-keys/new/", {}),
]
# Every page key has a page now.
WITHOUT_A_PAGE: set[str] = set()


def test_every_page_key_has_a_row_in_the_matrix():
    assert {p.key for p in PAGES} | WITHOUT_A_PAGE == set(pages.PAGES)


# --- The people ---------------------------------------------------------------------------


class World:
    """The team (Acme) and a person per (role, state): each signs in through the real
    pipeline (password, then the TOTP code when 2FA is on)."""

    def __init__(self, user_factory, password: str) -> None:
        self.password = password
        self.factory = user_factory
        self.owner_of_acme = user_factory("acme_owner")
        enroll(self.owner_of_acme)
        self.team = team_services.team_create(name="Acme", owner=self.owner_of_acme)
        self.custom = Role.objects.create(team=self.team, name="Auditor")
        self.custom.permissions.set(Permission.objects.filter(code="team.view"))
        self.superuser_2fa = user_factory("root", is_staff=True, is_superuser=True)
        enroll(self.superuser_2fa)
        self.clients: dict = {}
        self.n = 0

    def _member(self, user, role: str) -> None:
        if role == "user":
            return
        if role == "superuser":
            user.is_staff = user.is_superuser = True
            user.save()
            role = "developer"
        found = (
            self.custom
            if role == "member"
            else Role.objects.get(team__isnull=True, name=role.title())
        )
        Membership.objects.create(team=self.team, user=user, role=found)

    def client_for(self, role: str, state: str, scope: str) -> Client:
        key = (role, state, scope)
        if key in self.clients:
            return self.clients[key]
        self.n += 1
        client = Client(REMOTE_ADDR=f"203.0.113.{self.n}", raise_request_exception=False)
        if state != "anonymous":
            user = self.factory(f"{role}_{state}_{scope}")
            if scope == "panel" and role == "superuser":
                user.is_staff = user.is_superuser = True
                user.save()
            else:
                self._member(user, role)
            if state == "impersonating":
                # An operator of their own (a TOTP code is good once per account and step).
                operator = self.factory(f"op_{role}_{scope}", is_staff=True, is_superuser=True)
                enrolled = enroll(operator)
                start_two_factor(client, operator, self.password)
                assert submit_code(client, enrolled.code())["Location"] == "/dashboard/"
                started = client.post(f"/impersonate/{user.pk}/", {"reason": "matrix check"})
                assert started.status_code == 302, started
                assert client.get("/dashboard/").wsgi_request.impersonator == operator
            elif state == "no_2fa":
                assert sign_in(client, user, self.password)["Location"] == "/dashboard/"
            else:
                enrolled = enroll(user)
                when = timezone.now() - timedelta(minutes=16 if state == "stale" else 0)
                with time_machine.travel(when, tick=True):
                    start_two_factor(client, user, self.password)
                    response = submit_code(client, enrolled.code())
                assert response["Location"] == "/dashboard/", response
        self.clients[key] = client
        return client

    def switch(self, page: Page, on: bool) -> None:
        if page.scope == "team":
            team_services.team_set_high_security(
                actor=None, team=Team.objects.get(pk=self.team.pk), enabled=on, as_operator=True
            )
        else:
            services.set_panel_high_security(enabled=on)
            # The person's own page: their team's switch (roles other than "user").
            team_services.team_set_high_security(
                actor=None, team=Team.objects.get(pk=self.team.pk), enabled=on, as_operator=True
            )


@pytest.fixture
def world(user_factory, password, settings) -> World:
    settings.BACKUP_CODE_SCRYPT_N = 2**8
    cache.clear()
    return World(user_factory, password)


# --- What the answer must be --------------------------------------------------------------


def answer(response) -> tuple[int, str]:
    return response.status_code, response.get("Location", "")


def kind(response) -> str:
    """``login``, ``enroll``, ``stepup`` (the 2FA level), or ``page`` (anything else)."""
    status, location = answer(response)
    url = urlsplit(location)
    if status == 302 and url.path == "/auth/login/":
        return "login"
    if status == 302 and url.path == "/settings/security/2fa/enable/":
        return "enroll"
    if status == 302 and url.path == "/settings/sessions/confirm/":
        level = parse_qs(url.query).get("level")
        return "stepup" if level == ["2fa"] else "stepup(any factor)"
    return "page"


def expected(page: Page, role: str, state: str, method: str, baseline) -> str:
    if state == "anonymous":
        return "login"
    if baseline.status_code in (403, 404):
        return "page"  # the page's own refusal comes first
    if state == "impersonating":
        return "page"  # the administrator's own fresh step-up counts
    action = pages.strictest(pages.get(page.key).default_for(r) for r in roles_of(role, page.scope))
    refused = action == pages.BLOCKED or (action == pages.READ_ONLY and method == "POST")
    if not refused or state == "fresh":
        return "page"
    return "enroll" if state == "no_2fa" else "stepup"


def roles_of(role: str, scope: str) -> set[str]:
    if role == "superuser" and scope == "team":
        return {"superuser", "developer"}
    return {role}


def roles_for(page: Page) -> tuple[str, ...]:
    return {"team": TEAM_ROLES, "panel": PANEL_ROLES, "own": OWN_ROLES}[page.scope]


def states_for(role: str) -> tuple[str, ...]:
    """Superusers cannot be impersonated: no such state for them."""
    return tuple(s for s in STATES if not (role == "superuser" and s == "impersonating"))


# The list of what is out of reach while impersonating, as page keys: the
# person's sessions, API keys and High Security settings (403 whatever the mode).
OUT_OF_REACH = {"sessions", "api_keys", "high_security"}


def send(client: Client, method: str, path: str, body: dict):
    return client.get(path) if method == "GET" else client.post(path, body)


@pytest.mark.parametrize("protected", PAGES, ids=lambda p: f"{p.key}-{p.scope}")
def test_each_role_in_each_state_gets_what_the_policy_says(world, protected):
    # (Not named "page": that is pytest-playwright's fixture, which would make this a
    # browser test.)
    page = protected
    wrong = []
    checked = 0
    for role in roles_for(page):
        for state in states_for(role):
            client = world.client_for(role, state, page.scope)
            for method in ("GET", "POST"):
                path = (page.get if method == "GET" else page.post).format(t=world.team.pk)

                world.switch(page, False)
                baseline = send(client, method, path, page.body)
                world.switch(page, True)
                got = send(client, method, path, page.body)
                want = expected(page, role, state, method, baseline)
                checked += 1
                if state == "impersonating" and page.key in OUT_OF_REACH:
                    if (baseline.status_code, got.status_code) != (403, 403):
                        wrong.append((role, state, method, path, "403 out of reach", answer(got)))
                    continue
                if want == "page" and answer(got) != answer(baseline):
                    wrong.append((role, state, method, path, answer(baseline), answer(got)))
                elif want != "page" and kind(got) != want:
                    wrong.append((role, state, method, path, want, answer(got)))
                elif (
                    want == "page"
                    and method == "GET"
                    and got.status_code == 200
                    and state not in ("fresh", "impersonating")
                ):
                    # A read-only page that opened says so and offers the step-up.
                    read_only = "Verify to make changes" in got.content.decode()
                    action = pages.strictest(
                        pages.get(page.key).default_for(r) for r in roles_of(role, page.scope)
                    )
                    if read_only != (action == pages.READ_ONLY):
                        wrong.append((role, state, method, path, "notice", read_only))
    assert checked == sum(len(states_for(role)) for role in roles_for(page)) * 2
    assert not wrong, "\n".join(map(str, wrong))


def test_a_stored_rule_overrides_the_default(world):
    """The table, not the catalogue, decides: a Developer's members page made ``blocked``."""
    client = world.client_for("developer", "stale", "team")
    path = f"/teams/{world.team.pk}/members/"
    team_services.team_set_high_security(
        actor=None, team=world.team, enabled=True, as_operator=True
    )
    assert client.get(path).status_code == 200
    services.update_policy(cells={("members", "developer"): pages.BLOCKED})
    assert kind(client.get(path)) == "stepup"
    services.update_policy(cells={("members", "developer"): pages.OPEN})
    response = client.get(path)
    assert response.status_code == 200
    assert "Verify to make changes" not in response.content.decode()
