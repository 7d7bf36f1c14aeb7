"""The policy matrix: every URL pattern the resolver knows, requested as every persona.

Each page is requested with GET, with a POST that carries no CSRF token, and with an
empty POST, as: anonymous; half-signed-in (password right, 2FA pending); half-signed-in
on a new browser (emailed device code pending); signed in without 2FA; signed in with
2FA verified; signed in with a step-up 16 minutes old; signed in with a fresh step-up;
a staff member who is not a superuser; a superuser with 2FA.

What holds everywhere: no 500; a POST without a CSRF token is refused (403) and changes
nothing; a GET never changes anything (a POST-only action answers 405 or shows a
confirmation page). What each persona gets on each page is the table ``EXPECTED`` below,
which docs/access-matrix.md prints (a test keeps the two equal). A new URL fails
``test_every_url_is_in_the_matrix`` until it has a row, and a new public page fails
``test_public_pages_are_exactly_the_reviewed_list`` until it is added to ``PUBLIC``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils.http import urlencode

from .access import (
    DEVICE,
    LOGIN,
    PERSONAS,
    STEPUP,
    TWO_FACTOR,
    World,
    fingerprint,
    is_public,
    path_for,
    says_what_went_wrong,
    team_answer,
    url_patterns,
)

pytestmark = pytest.mark.django_db

DOC = Path(django_settings.BASE_DIR) / "docs" / "access-matrix.md"

# --- The reviewed list of public pages (marked @login_not_required) ----------------------
# Adding a public page means adding it here, after checking that it signs nobody in, shows
# nothing personal and is rate-limited if it sends email or checks a secret.
PUBLIC = {
    "security:login": "sign-in",
    "security:logout": "sign-out (POST only; also ends a half-finished sign-in)",
    "accounts:signup": "sign-up",
    "accounts:signup_done": "check your email (after sign-up)",
    "accounts:verify_resend": "resend the verification link",
    "accounts:verify_sent": "check your email (after resend)",
    "accounts:verify": "the emailed verification link (moves the token into the session)",
    "accounts:verify_confirm": "confirm the address (POST)",
    "accounts:password_reset": "ask for a reset link",
    "accounts:password_reset_sent": "check your email (after reset request)",
    "accounts:password_reset_confirm": "the emailed reset link and the new-password form",
    "accounts:password_strength": "password strength endpoint (POST, JSON)",
    "accounts:email_change_confirm": "the emailed link confirming a new address (POST confirms)",
    "accounts:email_change_undo": "the undo link emailed to the old address (POST undoes)",
    "security:twofactor_signin": "the 2FA step of sign-in",
    "security:twofactor_passkey_options": "passkey options of the 2FA step (POST, JSON)",
    "security:passkey_signin": "passwordless sign-in with a passkey (POST, rate-limited)",
    "security:passkey_signin_options": "passkey options for passwordless sign-in (POST, JSON)",
    "security:device_code": "the emailed new-device code step of sign-in",
    "security:device_code_resend": "send a new device code (POST)",
    "security:signin_held": "waiting page of a sign-in held for approval",
    "security:signin_review": "approve/deny link of a held sign-in (decision by POST)",
    "security:not_me": '"This wasn\'t me" link of a new sign-in email (decision by POST)',
    "health": "load-balancer health check (database, cache, broker; says ok or error only)",
    "security:prometheus_metrics": "Prometheus metrics: 404 without METRICS_TOKEN, else bearer",
    "teams:invitation": "the emailed team invitation (joining needs a sign-in or a new account)",
}

SIGNED_IN = ("signed_in", "signed_in_2fa", "stale_stepup", "stepped_up", "staff", "superuser")
WITH_2FA = ("signed_in_2fa", "stale_stepup", "stepped_up", "superuser")
PENDING = {"pending_2fa": "2fa", "pending_device": "device"}
TEAM_SHORT = {
    "outsider": "out",
    "developer": "dev",
    "manager": "mgr",
    "owner": "own",
    "two_teams": "two",
}


def each(personas, cell: str) -> dict:
    return dict.fromkeys(personas, cell)


def private(signed_in: str, **overrides) -> dict:
    """A page behind sign-in: visitors go to sign-in, half-signed-in browsers to their step."""
    row = {"anonymous": "login | login", "pending_2fa": "2fa | 2fa"}
    row["pending_device"] = "device | device"
    row.update(each(SIGNED_IN, signed_in))
    row.update(overrides)
    return row


def public(everyone: str, **overrides) -> dict:
    row = each(PERSONAS, everyone)
    row.update(overrides)
    return row


# Cells are "GET | POST" (the POST has a valid CSRF token and an empty body):
#   200, 400, 403, 404, 405 - that status
#   login   - 302 to /auth/login/?next=<this page>
#   2fa     - 302 to /auth/2fa/ (the pending 2FA step)
#   device  - 302 to /auth/device/ (the pending device-code step)
#   stepup  - 302 to /settings/sessions/confirm/?next=<this page>
#   →/x/    - 302 to /x/ exactly;  →…/set-password/ - to the reset form without the token
#   a trailing ! - this request may change state (every other one must not)
TO_SECURITY = "→/settings/security/ | →/settings/security/"
# Every URL of a team (its path carries team_id), read from the URL configuration.
TEAM_PAGES = sorted(r.name for r in url_patterns() if "team_id" in r.converters)
TO_DASHBOARD = "→/dashboard/ | →/dashboard/"
EXPECTED: dict[str, dict[str, str]] = {
    "home": private("→/dashboard/ | 405"),
    "dashboard": private("200 | 405"),
    "security:login": public("200 | 400", **each(SIGNED_IN, "→/dashboard/ | →/dashboard/")),
    "security:logout": public("405 | →/auth/login/", **each(SIGNED_IN, "405 | →/auth/login/!")),
    "accounts:signup": public("200 | 400", **each(SIGNED_IN, "→/dashboard/ | →/dashboard/")),
    "accounts:signup_done": public("200 | 405"),
    "accounts:verify_resend": public("200 | 400"),
    "accounts:verify_sent": public("200 | 405"),
    # Reached after following an emailed link (World.prepare); the POST confirms.
    "accounts:verify_confirm": public("200 | →/auth/login/!"),
    "accounts:verify": public("→/auth/verify/confirm/ | 405"),
    "accounts:password_reset": public("200 | 400"),
    "accounts:password_reset_sent": public("200 | 405"),
    "accounts:password_reset_confirm": public("→…/set-password/ | →…/set-password/"),
    "accounts:password_strength": public("405 | 400"),
    "accounts:settings": private("→/settings/security/ | 405"),
    "accounts:settings_security": private("200 | 405"),
    "accounts:settings_password": private("200 | 400"),
    # Changing the address needs a fresh step-up; its emailed links are signed (a forged
    # token is "not valid" for everyone; accounts/tests/test_email_change.py follows real ones).
    "accounts:settings_email": private("200 | 400", stale_stepup="stepup | stepup"),
    "accounts:email_change_confirm": public("404 | 404"),
    "accounts:email_change_undo": public("404 | 404"),
    "security:twofactor_signin": public(
        "→/auth/login/ | →/auth/login/",
        pending_2fa="200 | 400",
        pending_device="device | device",
        **each(SIGNED_IN, TO_DASHBOARD),
    ),
    "security:twofactor_enable": private("200 | 400", **each(WITH_2FA, TO_SECURITY)),
    "security:twofactor_setup": private(
        "→/settings/security/2fa/enable/ | →/settings/security/2fa/enable/",
        **each(WITH_2FA, TO_SECURITY),
    ),
    "security:twofactor_regenerate": private(TO_SECURITY, **each(WITH_2FA, "200 | 400")),
    "security:twofactor_disable": private(TO_SECURITY, **each(WITH_2FA, "200 | 400")),
    # Passkeys: adding needs a fresh step-up (a sign-in in the last 15 minutes counts as
    # one: only the stale persona has none); the personas have none to rename or remove.
    "security:passkey_add": private("200 | 400", stale_stepup="stepup | stepup"),
    "security:passkey_add_options": private("405 | 400", stale_stepup="405 | 403"),
    "security:passkey_rename": private("404 | 404"),
    "security:passkey_remove": private("404 | 404"),
    "security:twofactor_passkey_options": public("405 | 400"),
    "security:passkey_signin_options": public("405 | 200", **each(SIGNED_IN, "405 | 400")),
    "security:passkey_signin": public("405 | 400", **each(SIGNED_IN, "405 | →/dashboard/")),
    "security:sessions": private("200 | 405"),
    "security:stepup": private("200 | 400"),
    "security:stepup_passkey_options": private("405 | 400"),
    "security:session_revoke": private(
        "200 | →/settings/sessions/!", stale_stepup="stepup | stepup"
    ),
    "security:sessions_revoke_others": private(
        "200 | →/settings/sessions/!", stale_stepup="stepup | stepup"
    ),
    "security:held_signin_decide": private("405 | →/settings/sessions/!"),
    "security:device_forget": private("405 | →/settings/security/!"),
    "security:device_code": public(
        "→/auth/login/ | →/auth/login/",
        pending_2fa="2fa | 2fa",
        pending_device="200 | 400!",
        **each(SIGNED_IN, TO_DASHBOARD),
    ),
    "security:device_code_resend": public(
        "405 | →/auth/login/",
        pending_2fa="405 | 2fa",
        pending_device="405 | →/auth/device/!",
        **each(SIGNED_IN, "405 | →/dashboard/"),
    ),
    # A sign-in waiting at another step is sent there (the page ends only a hold).
    "security:signin_held": public(
        "→/auth/login/ | →/auth/login/",
        pending_2fa="2fa | 2fa",
        pending_device="device | device",
        **each(SIGNED_IN, TO_DASHBOARD),
    ),
    "security:signin_review": public("200 | 200!"),
    "security:not_me": public("200 | 200!"),
    # Operations pages: superusers only (403 for everyone else signed in, staff included).
    "security:audit_log": private("403 | 405", superuser="200 | 405"),
    "security:audit_export": private("403 | 405", superuser="200 | 405"),
    "security:failed_attempts": private("403 | 405", superuser="200 | 405"),
    "security:failed_attempts_unlock": private(
        "405 | 403", superuser="405 | →/operations/failed-attempts/"
    ),
    "security:ip_blocks": private("403 | 403", superuser="200 | 400"),
    "security:ip_block_remove": private("405 | 403", superuser="405 | 404"),
    "security:metrics_dashboard": private("403 | 405", superuser="200 | 405"),
    # High Security Mode (off here; security/tests/stepup/test_high_security_matrix.py
    # requests every protected page with the mode on).
    "security:high_security": private("403 | 403", superuser="200 | 400"),
    "security:high_security_switch": private(
        "405 | 403", superuser="405 | →/operations/high-security/"
    ),
    "health": public("200 | 405"),
    # Impersonation: only a superuser (here) or a team's user.manage holder finds the
    # account (anyone else: 404); starting needs a fresh step-up; ending is a POST.
    "security:impersonate": private("404 | 404", superuser="200 | 400"),
    "security:impersonate_end": private("405 | →/dashboard/"),
    # No METRICS_TOKEN in the tests: the endpoint does not exist.
    "security:prometheus_metrics": public("404 | 405"),
    # Teams: none of these personas belongs to a team, so every team page is a 404 (an
    # outsider learns nothing); teams/tests/test_team_matrix.py requests the same URLs as
    # the team's own personas (Owner, Manager, Developer, a member of two teams).
    "teams:switch": private("405 | 404"),
    # The team choice after sign-in: a POST naming no team of the user's is a 404.
    "teams:choose": private("200 | 404"),
    # A token of the wrong shape: "not valid" for everyone.
    "teams:invitation": public("404 | 404"),
    **{name: private("404 | 404") for name in TEAM_PAGES},
    # Profile > Settings > API Keys. Creating needs a fresh step-up (a sign-in a moment
    # ago counts: only the stale persona is asked); these personas have no team, so the
    # form sends them back to the list (a key acts in a team).
    "api:keys": private("200 | 405"),
    "api:key_create": private(
        "→/settings/api-keys/ | →/settings/api-keys/",
        stale_stepup="stepup | stepup",
    ),
    "api:key_revoke": private("405 | 404"),
}

# The admin (django.contrib.admin, about a hundred URLs) follows rules, checked on each.
ADMIN_RULES = {
    "anonymous": "→ /auth/login/?next=<page> (directly, or through /admin/login/)",
    "pending_2fa": "2fa (GET and POST)",
    "pending_device": "device (GET and POST)",
    "signed in, not a superuser (staff included)": "403 (after /admin/login/ or /admin/)",
    "superuser": (
        "no 500; every changelist and the index 200; GET never changes anything; an "
        "empty POST changes nothing except /admin/logout/"
    ),
}


# --- Fixtures ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_and_fresh(settings):
    settings.BACKUP_CODE_SCRYPT_N = 2**8  # the cost of a check is not what this tests
    cache.clear()  # rate-limit counters live in the database cache
    yield
    cache.clear()


@pytest.fixture
def world(user_factory, password) -> World:
    return World(user_factory, password)


# --- Checking one response ----------------------------------------------------------------


def sends_to_sign_in(response, path: str) -> bool:
    """A 302 to the panel's sign-in whose only parameter is ``next=<path>``."""
    url = urlsplit(response.get("Location", ""))
    return (
        response.status_code == 302
        and url.path == LOGIN
        and parse_qs(url.query, keep_blank_values=True) == {"next": [path]}
    )


def check(response, expected: str, path: str, where: str) -> None:
    """``response`` is what the cell ``expected`` says (one side, without the "!"); a 4xx
    also says what went wrong."""
    status = response.status_code
    location = response.get("Location", "")
    if 400 <= status < 500 and response.get("Content-Type", "").startswith("text/html"):
        assert says_what_went_wrong(response.content.decode()), f"{where}: {status}, no message"
    if expected == "login":
        assert sends_to_sign_in(response, path), f"{where}: {status} {location}"
        return
    targets = {
        "2fa": TWO_FACTOR,
        "device": DEVICE,
        "stepup": STEPUP + "?" + urlencode({"next": path}),
    }
    if expected.isdigit():
        assert status == int(expected), f"{where}: {status} {location}, expected {expected}"
    elif expected in targets:
        assert (status, location) == (302, targets[expected]), f"{where}: {status} {location}"
    elif expected == "→…/set-password/":
        assert status == 302 and location.endswith("/set-password/"), f"{where}: {location}"
    elif expected.startswith("→"):
        assert (status, location) == (302, expected[1:]), f"{where}: {status} {location}"
    else:  # pragma: no cover - a typo in the table
        raise AssertionError(f"unknown cell {expected!r}")


def assert_refused_without_csrf_token(client, path: str, where: str) -> None:
    before = fingerprint()
    client.handler.enforce_csrf_checks = True
    try:
        response = client.post(path)
    finally:
        client.handler.enforce_csrf_checks = False
    assert response.status_code == 403, f"{where}: POST without a CSRF token got {response}"
    assert "Form expired" in response.content.decode(), where
    assert fingerprint() == before, f"{where}: a POST without a CSRF token changed state"


# --- The table is complete and honest --------------------------------------------------------


def site_routes():
    """The pages (the JSON API under /api/ has its own matrix, api/tests/test_api_matrix.py:
    it authenticates with a header, not a session, and answers JSON)."""
    return [r for r in url_patterns() if not r.is_admin and not r.route.startswith("api/")]


def admin_routes():
    routes = [r for r in url_patterns() if r.is_admin]
    # Signing out last: the superuser's session is needed for every other admin page.
    return sorted(routes, key=lambda r: r.name == "admin:logout")


def test_every_url_is_in_the_matrix():
    names = [r.name for r in site_routes()]
    assert len(names) == len(set(names)), "two site URLs share a name"
    assert set(names) == set(EXPECTED), "add a row to EXPECTED (and docs/access-matrix.md)"
    assert all(r.name.startswith("admin:") for r in url_patterns() if r.is_admin)


def test_public_pages_are_exactly_the_reviewed_list():
    marked = {r.name for r in site_routes() if is_public(r.view)}
    assert marked == set(PUBLIC)


def test_the_table_sends_every_private_page_through_sign_in_and_the_pending_steps():
    for name, row in EXPECTED.items():
        assert set(row) == set(PERSONAS), name
        if name in PUBLIC:
            continue
        assert row["anonymous"] == "login | login", name
        for persona, step in PENDING.items():
            assert row[persona] == f"{step} | {step}", (name, persona)


def test_docs_access_matrix_prints_the_table():
    if os.environ.get("PANEL_WRITE_ACCESS_MATRIX") == "1":
        DOC.write_text(render_doc())
    assert DOC.read_text() == render_doc(), "regenerate: see the top of docs/access-matrix.md"


# --- The crawl ------------------------------------------------------------------------------


@pytest.mark.parametrize("route", site_routes(), ids=lambda r: r.name)
def test_each_page_answers_each_persona_as_the_matrix_says(route, world):
    row = EXPECTED[route.name]
    for key in PERSONAS:
        persona = world[key]
        client = persona.client
        path = path_for(route, world.kwargs_for(route, persona))
        get_cell, post_cell = (cell.strip() for cell in row[key].split("|"))
        where = f"{route.name} as {key}: {path}"

        world.prepare(route, persona)
        before = fingerprint()
        response = client.get(path)
        assert response.status_code < 500, where
        check(response, get_cell, path, f"GET {where}")
        assert fingerprint() == before, f"GET {where} changed state"

        assert_refused_without_csrf_token(client, path, where)

        before = fingerprint()
        response = client.post(path)
        assert response.status_code < 500, where
        check(response, post_cell.rstrip("!"), path, f"POST {where}")
        if not post_cell.endswith("!"):
            assert fingerprint() == before, f"POST {where} changed state"


def test_every_admin_page_follows_the_admin_rules(world):
    superuser = world["superuser"].client
    changelists = 0
    for route in admin_routes():
        for key in PERSONAS:
            client = world[key].client
            path = path_for(route, world.kwargs_for(route, world[key]))
            where = f"{route.name} as {key}: {path}"
            for method in ("get", "post"):
                before = fingerprint()
                response = getattr(client, method)(path)
                assert response.status_code < 500, f"{method} {where}"
                if key == "anonymous":
                    final = _follow(client, response, hops=2)
                    # The admin's own sign-in page sends visitors on with next=/admin/.
                    target = "/admin/" if route.name == "admin:login" else path
                    assert sends_to_sign_in(final, target), f"{method} {where}: {final}"
                elif key in PENDING:
                    check(response, PENDING[key], path, f"{method} {where}")
                elif key != "superuser":
                    final = _follow(client, response, hops=3)
                    assert final.status_code == 403, f"{method} {where}: {final}"
                    assert says_what_went_wrong(final.content.decode()), where
                elif route.name.endswith("_changelist") or route.name == "admin:index":
                    assert response.status_code == 200, f"{method} {where}"
                    changelists += method == "get"
                if not (key == "superuser" and route.name == "admin:logout" and method == "post"):
                    assert fingerprint() == before, f"{method} {where} changed state"
            assert_refused_without_csrf_token(client, path, where)
    assert changelists >= 10
    # The superuser's last request was the sign-out.
    assert sends_to_sign_in(_follow(superuser, superuser.get("/admin/"), hops=2), "/admin/")


def _follow(client, response, *, hops: int):
    """Follow up to ``hops`` redirects inside /admin/; the first response leaving it (or
    the last one) is returned."""
    for _ in range(hops):
        location = response.get("Location", "")
        if response.status_code != 302 or not location.startswith("/admin/"):
            break
        response = client.get(location)
    return response


def test_no_one_reaches_another_users_sessions_devices_or_held_sign_ins(world):
    sam, val = world["signed_in"], world["stepped_up"]
    others = world["signed_in_2fa"]
    before = fingerprint()
    for persona in (sam, val):
        for method, path in [
            ("get", f"/settings/sessions/{others.other_session.pk}/revoke/"),
            ("post", f"/settings/sessions/{others.other_session.pk}/revoke/"),
            ("post", f"/settings/devices/{others.device.pk}/forget/"),
            ("post", f"/settings/sessions/held/{others.held.pk}/approve/"),
            ("post", f"/settings/sessions/held/{others.held.pk}/deny/"),
        ]:
            response = getattr(persona.client, method)(path)
            assert response.status_code == 404, (persona.key, method, path, response)
    assert fingerprint() == before


def test_a_held_sign_in_link_for_an_unknown_action_is_a_404(world):
    sam = world["signed_in"]
    response = sam.client.post(f"/settings/sessions/held/{sam.held.pk}/delete/")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/auth/verify/not-a-token/",
        "/auth/password/reset/MQ/not-a-token/",
        "/auth/password/reset/%FF%FE/x/",
        "/auth/review/not-a-token/",
        "/auth/not-me/not-a-token/",
        "/auth/email/confirm/not-a-token/",
        "/auth/email/undo/" + "A" * 2000 + "/",
        "/auth/review/" + "A" * 2000 + "/",
        "/settings/sessions/99999999999999999999999/revoke/",
        "/settings/devices/0/forget/",
    ],
)
def test_forged_tokens_and_ids_get_a_4xx_page_not_a_500(path, world):
    for key in ("anonymous", "signed_in"):
        client = world[key].client
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code < 500, (key, method, path)
            if response.status_code in (400, 404):
                assert b"<h1" in response.content  # a page saying what happened


# --- docs/access-matrix.md ---------------------------------------------------------------


def render_doc() -> str:
    """The text of docs/access-matrix.md, from EXPECTED, PUBLIC and ADMIN_RULES."""
    from django.urls import reverse

    routes = {r.name: r.route for r in site_routes()}
    head = [
        "# Access matrix",
        "",
        "Who gets what on every page. Generated from `EXPECTED` in",
        "`panel/tests/test_policy_matrix.py`, which requests every URL as every persona and",
        "fails when a page answers differently, when a URL has no row, or when this file is",
        "out of date (`PANEL_WRITE_ACCESS_MATRIX=1 pytest panel/tests/test_policy_matrix.py`",
        "rewrites it).",
        "",
        "Personas: **anon** anonymous; **p-2fa** password right, 2FA step pending;",
        "**p-dev** password (and 2FA) right, emailed new-device code pending; **user** signed",
        "in without 2FA; **2fa** signed in with 2FA verified; **stale** 2FA, step-up 16",
        "minutes old; **fresh** 2FA, step-up just now; **staff** `is_staff`, not a",
        "superuser; **root** superuser with 2FA.",
        "",
        "Each cell is `GET | POST` (POST with a CSRF token and an empty body). `login` = 302",
        "to `/auth/login/?next=<page>`; `2fa` = 302 to `/auth/2fa/`; `device` = 302 to",
        "`/auth/device/`; `stepup` = 302 to `/settings/sessions/confirm/?next=<page>`;",
        "`→/x/` = 302 to `/x/`; a number is the status; `!` marks the only requests that",
        "may change state. Everywhere: no 500, a POST without a CSRF token gets 403 and",
        "changes nothing, a GET changes nothing.",
        "",
    ]
    short = {
        "anonymous": "anon",
        "pending_2fa": "p-2fa",
        "pending_device": "p-dev",
        "signed_in": "user",
        "signed_in_2fa": "2fa",
        "stale_stepup": "stale",
        "stepped_up": "fresh",
        "staff": "staff",
        "superuser": "root",
    }
    table = [
        "| URL name | path | public | " + " | ".join(short[p] for p in PERSONAS) + " |",
        "|---|---|---|" + "---|" * len(PERSONAS),
    ]
    for name in sorted(EXPECTED, key=lambda n: routes[n]):
        cells = [EXPECTED[name][p].replace("|", "\\|") for p in PERSONAS]
        flag = "yes" if name in PUBLIC else ""
        table.append(f"| `{name}` | `/{routes[name]}` | {flag} | " + " | ".join(cells) + " |")
    public_list = ["", "## Public pages (reviewed list)", ""]
    public_list += [f"- `{name}`: {why}" for name, why in sorted(PUBLIC.items())]
    team = [
        "",
        "## Team pages, as the team's own personas",
        "",
        "Every URL carrying `team_id`, read from the URL configuration, with the permission",
        "its view declares (`@team_permission`; `member` = any member, `*` = Owner only).",
        "`teams/tests/test_team_matrix.py` requests each as these personas and fails for a",
        "team URL without a declaration. **out** a signed-in outsider; **dev**, **mgr**,",
        "**own** the team's Developer, Manager and Owner; **two** Developer here and Owner",
        "of another team. `ok` = 200 (or 302/405 for a POST-only action), 403 = a page",
        "naming the missing permission, 404 = nothing here.",
        "",
        "| URL name | path | needs | " + " | ".join(TEAM_SHORT.values()) + " |",
        "|---|---|---|" + "---|" * len(TEAM_SHORT),
    ]
    for route in sorted(
        (r for r in site_routes() if "team_id" in r.converters), key=lambda r: r.route
    ):
        needed = route.view.team_permission
        cells = [team_answer(needed, persona) for persona in TEAM_SHORT]
        team.append(
            f"| `{route.name}` | `/{route.route}` | `{needed or 'member'}` | "
            + " | ".join(cells)
            + " |"
        )
    admin = ["", "## Admin (`/admin/...`, every URL of the admin site)", ""]
    admin += [f"- **{who}**: {what}" for who, what in ADMIN_RULES.items()]
    admin += [
        "",
        f"The admin index is `{reverse('admin:index')}`; its own sign-in page sends everyone",
        "to the panel's sign-in (password, lockout, 2FA).",
    ]
    return "\n".join(head + table + public_list + team + admin) + "\n"
