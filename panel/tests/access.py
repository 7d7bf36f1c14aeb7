"""Helpers for the cross-cutting tests: every URL pattern, personas, a state fingerprint.

- ``url_patterns()`` walks ``get_resolver()`` recursively (the admin included) and yields
  one ``Route`` per pattern, with its name, converters and view.
- ``World`` builds the personas of the policy matrix, each a real browser (``Client``)
  signed in through the real sign-in pipeline, never ``force_login``: anonymous,
  half-signed-in (password right, 2FA pending), signed in without 2FA, signed in with
  2FA verified, signed in with a stale step-up, a staff member who is not a superuser,
  and a superuser with 2FA.
- ``fingerprint()`` is a snapshot of the security-relevant rows: a request that must not
  change anything leaves it equal.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from security.tests.helpers import (
    CHROME_LINUX,
    FIREFOX_WINDOWS,
    Enrolled,
    enroll,
    start_two_factor,
    submit_code,
)

LOGIN = "/auth/login/"
TWO_FACTOR = "/auth/2fa/"
STEPUP = "/settings/sessions/confirm/"
DEVICE = "/auth/device/"


# --- URL patterns -----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # "settings/sessions/<int:pk>/revoke/"
    name: str  # "security:session_revoke"; "admin:?" for unnamed patterns
    view: object
    converters: dict
    pattern: object

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:")

    @property
    def is_regex(self) -> bool:
        return self.route.count("(?P<") > 0 or "^" in self.route


def url_patterns() -> Iterator[Route]:
    """Every pattern the resolver knows, depth first, with its full route."""

    def walk(resolver, prefix: str, namespaces: tuple) -> Iterator[Route]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = namespaces + ((entry.namespace,) if entry.namespace else ())
                yield from walk(entry, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern):
                name = ":".join(namespaces + (entry.name or "?",))
                yield Route(
                    route=prefix + str(entry.pattern),
                    name=name,
                    view=entry.callback,
                    converters=dict(entry.pattern.converters),
                    pattern=entry.pattern,
                )

    yield from walk(get_resolver(), "", ())


def is_public(view) -> bool:
    """Marked ``@login_not_required`` (Django's admin marks all of its views so)."""
    return getattr(view, "login_required", True) is False


# --- Personas ---------------------------------------------------------------------------


@dataclass
class Persona:
    key: str
    client: Client
    user: object = None
    enrolled: Enrolled | None = None
    # Rows of this persona's user that the URL converters point at.
    other_session: object = None
    device: object = None
    held: object = None
    extra: dict = field(default_factory=dict)


def browser(ip: str, ua: str = CHROME_LINUX, **kwargs) -> Client:
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=ua, raise_request_exception=False, **kwargs)


def sign_in(client: Client, user, password: str, enrolled: Enrolled | None = None) -> None:
    """The real pipeline: password, then the TOTP code when 2FA is on."""
    if enrolled is None:
        response = client.post(LOGIN, {"username": user.username, "password": password})
    else:
        start_two_factor(client, user, password)
        response = submit_code(client, enrolled.code())
    assert response.status_code == 302, response
    assert response["Location"] == "/dashboard/", response["Location"]


def step_up(client: Client, password: str) -> None:
    response = client.post(STEPUP, {"password": password, "next": "/settings/sessions/"})
    assert response.status_code == 302 and response["Location"] == "/settings/sessions/"


def _other_rows(user):
    """Another live session, a trusted device and a held sign-in of ``user``."""
    from security.models import SuspiciousSignIn, TrackedSession, TrustedDevice

    now = timezone.now()
    other = TrackedSession.objects.create(
        user=user,
        session_key_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        ip="198.51.100.7",
        user_agent=FIREFOX_WINDOWS,
        browser="Firefox",
        os="Windows",
        device_type="desktop",
        method="password",
    )
    device = TrustedDevice.objects.create(
        user=user,
        token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        browser="Firefox",
        os="Windows",
        device_type="desktop",
    )
    held = SuspiciousSignIn.objects.create(
        user=user,
        ip="198.51.100.8",
        browser="Safari",
        os="iOS",
        reasons=["new_country"],
        expires_at=now + timedelta(minutes=30),
    )
    return other, device, held


PERSONAS = (
    "anonymous",
    "pending_2fa",
    "pending_device",
    "signed_in",
    "signed_in_2fa",
    "stale_stepup",
    "stepped_up",
    "staff",
    "superuser",
)


class World:
    """Every persona of the matrix, built fresh for one test."""

    def __init__(self, user_factory, password: str, *, enforce_csrf_checks: bool = False):
        self.password = password
        self.csrf = enforce_csrf_checks
        self.personas: dict[str, Persona] = {}
        self._build(user_factory)

    def _client(self, n: int) -> Client:
        return browser(f"203.0.113.{n}", enforce_csrf_checks=self.csrf)

    def _build(self, user_factory) -> None:
        pw = self.password
        self.personas["anonymous"] = Persona("anonymous", self._client(10))

        # Half-signed-in: the password was right, the TOTP step is pending.
        pat = user_factory("pat")
        pat_enrolled = enroll(pat)
        client = self._client(11)
        start_two_factor(client, pat, pw)
        self.personas["pending_2fa"] = Persona("pending_2fa", client, pat, pat_enrolled)

        # Half-signed-in on a second browser: the emailed new-device code is pending.
        dev = user_factory("dev")
        sign_in(self._client(30), dev, pw)
        client = browser("203.0.113.31", FIREFOX_WINDOWS, enforce_csrf_checks=self.csrf)
        response = client.post(LOGIN, {"username": dev.username, "password": pw})
        assert response.status_code == 302 and response["Location"] == DEVICE, response
        self.personas["pending_device"] = Persona("pending_device", client, dev)

        for n, (key, username, with_2fa, extra) in enumerate(
            [
                ("signed_in", "sam", False, {}),
                ("signed_in_2fa", "tia", True, {}),
                ("staff", "stan", False, {"is_staff": True}),
                ("superuser", "root_operator", True, {"is_staff": True, "is_superuser": True}),
                ("stepped_up", "val", True, {}),
            ],
            start=12,
        ):
            user = user_factory(username, **extra)
            enrolled = enroll(user) if with_2fa else None
            client = self._client(n)
            sign_in(client, user, pw, enrolled)
            if key == "stepped_up":
                step_up(client, pw)
            self.personas[key] = Persona(key, client, user, enrolled)

        # A step-up that is 16 minutes old (the limit is 15): signed in and stepped up
        # in the past, back now (well within the 60-minute idle limit).
        una = user_factory("una")
        una_enrolled = enroll(una)
        client = self._client(20)
        with time_machine.travel(timezone.now() - timedelta(minutes=16), tick=True):
            sign_in(client, una, pw, una_enrolled)
            step_up(client, pw)
        self.personas["stale_stepup"] = Persona("stale_stepup", client, una, una_enrolled)

        for persona in self.personas.values():
            owner = persona.user
            if owner is None:
                # Links in emails reach visitors who are not signed in: Dana's rows.
                owner = user_factory("dana", full_name="Dana Reyes")
            persona.other_session, persona.device, persona.held = _other_rows(owner)
            # An account that still has to confirm its address, for the verify links.
            persona.extra["unverified"] = user_factory(f"new_{persona.key}", verified=False)
            persona.extra["owner"] = owner

    def prepare(self, route: Route, persona: Persona) -> None:
        """What a visitor does before reaching a page that is never the first stop."""
        if route.name == "accounts:verify_confirm":
            # The emailed link puts its token into the session, then lands here.
            from accounts.tokens import make_verification_token

            token = make_verification_token(persona.extra["unverified"])
            response = persona.client.get(f"/auth/verify/{token}/")
            assert response.status_code == 302, response

    def __getitem__(self, key: str) -> Persona:
        return self.personas[key]

    # --- Filling path converters -----------------------------------------------------

    def kwargs_for(self, route: Route, persona: Persona) -> dict:
        """Plausible values for a route's converters, pointing at the persona's own rows
        (Dana's for an anonymous visitor) so the page gets past its lookups."""
        from accounts.tokens import make_verification_token, uid_for
        from security.sessions.services import report_token
        from security.suspicious import services as suspicious

        # Fresh from the database: a reset token covers last_login, which signing in set.
        owner = type(persona.extra["owner"]).objects.get(pk=persona.extra["owner"].pk)
        by_name = {
            "accounts:verify": {"token": make_verification_token(persona.extra["unverified"])},
            "accounts:password_reset_confirm": {
                "uidb64": uid_for(owner),
                "token": default_token_generator.make_token(owner),
            },
            "security:session_revoke": {"pk": persona.other_session.pk},
            "security:held_signin_decide": {"pk": persona.held.pk, "action": "approve"},
            "security:device_forget": {"pk": persona.device.pk},
            "security:signin_review": {"token": suspicious.decision_token(persona.held, "deny")},
            "security:not_me": {"token": report_token(persona.other_session)},
            "admin:app_list": {"app_label": "accounts"},
            # An ordinary account: the superuser may act as it, nobody else.
            "security:impersonate": {"user_id": persona.extra["unverified"].pk},
        }
        if route.name in by_name:
            return by_name[route.name]
        values = {}
        for key, converter in route.converters.items():
            kind = type(converter).__name__
            if kind == "IntConverter":
                values[key] = 1
            elif kind == "PathConverter":
                values[key] = str(self._admin_object_id(route))
            elif kind == "SlugConverter":
                values[key] = "a-slug"
            else:
                values[key] = "dummy-token"
        return values

    def _admin_object_id(self, route: Route):
        """The pk of an existing row of the admin page's model (1 when there is none)."""
        model = getattr(route.view, "model_admin", None)
        model = getattr(model, "model", None)
        if model is None:
            return 1
        pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        return pk if pk is not None else 1


def path_for(route: Route, kwargs: dict) -> str:
    from django.urls import reverse

    if route.route.endswith("(?P<url>.*)$"):
        return "/admin/no-such-page/"  # the admin's catch-all
    if route.name.endswith(":?"):
        # Unnamed admin patterns: the object's bare URL, which redirects to /change/.
        text = route.route
        for key, value in kwargs.items():
            text = text.replace(f"<path:{key}>", str(value))
        return "/" + text
    return reverse(route.name, kwargs=kwargs or None)


def says_what_went_wrong(body: str) -> bool:
    """A form with an alert on it, the error page, or a notice page (a heading and text,
    no fields: "This link is not valid", "Link expired")."""
    if 'role="alert"' in body or 'class="error-status"' in body:
        return True
    fields = re.findall(r"<input(?![^>]*type=\"hidden\")", body)
    return not fields and "<h1" in body and "<p>" in body


# --- A fingerprint of the rows a request could change -------------------------------------


def fingerprint() -> dict:
    """The security-relevant state: users, factors, sessions, devices, holds, audit rows.

    Timestamps that reads may refresh by design (last-active, last-seen) are left out.
    """
    from accounts.models import User
    from audit.models import AuditEvent
    from security.models import (
        BackupCode,
        EncryptedTOTPDevice,
        NewDeviceChallenge,
        SuspiciousSignIn,
        TrackedSession,
        TrustedDevice,
    )

    return {
        "users": list(
            User.objects.order_by("pk").values_list(
                "pk", "password", "is_active", "email", "email_verified_at"
            )
        ),
        "totp": list(
            EncryptedTOTPDevice.objects.order_by("pk").values_list("pk", "confirmed", "user_id")
        ),
        "backup_codes": list(BackupCode.objects.order_by("pk").values_list("pk", "used_at")),
        "sessions": list(
            TrackedSession.objects.order_by("pk").values_list("pk", "ended_at", "reported_at")
        ),
        "devices": list(TrustedDevice.objects.order_by("pk").values_list("pk", "user_id")),
        "held": list(SuspiciousSignIn.objects.order_by("pk").values_list("pk", "status")),
        "challenges": list(
            NewDeviceChallenge.objects.order_by("pk").values_list("pk", "attempts", "used_at")
        ),
        "audit": AuditEvent.objects.count(),
    }


# --- Team personas (teams/tests/test_team_matrix.py requests every team URL as each) -----

# persona -> its role in the team whose pages are requested (None: not a member).
TEAM_PERSONAS = {
    "outsider": None,
    "developer": "Developer",
    "manager": "Manager",
    "owner": "Owner",
    # Developer in this team, Owner of another: owning elsewhere gives nothing here.
    "two_teams": "Developer",
}


def team_answer(needed: str, persona: str) -> str:
    """What a team page declaring ``needed`` (teams.decorators: "" any member, "*" an
    Owner, else a permission code) answers ``persona`` on a GET: "404" for outsiders,
    "403" for members without it, "ok" (200, or 302/405 for a POST-only action)."""
    from teams.catalog import PREDEFINED_ROLES
    from teams.decorators import MEMBER, OWNER

    role = TEAM_PERSONAS[persona]
    if role is None:
        return "404"
    if role == "Owner" or needed == MEMBER:
        return "ok"
    if needed == OWNER:
        return "403"
    return "ok" if needed in PREDEFINED_ROLES[role] else "403"
