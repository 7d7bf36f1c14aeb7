"""The catalogue of High Security Mode's page keys: one entry per kind of sensitive page,
with a label for the settings page and a safe default per role.

A view declares its key with ``@high_security("<key>")`` (security.stepup.decorators);
the policy table (``HighSecurityRule``, edited on the High Security settings page and in
the admin) overrides a default per (key, role). A new kind of page is one ``register``
line here (or in the app that owns it, in its ``AppConfig.ready``).

What the actions mean while High Security Mode is on for the page:

- ``blocked``: not even viewable without a step-up with a second factor in the last
  15 minutes;
- ``read_only``: viewable; every change (any request but GET/HEAD/OPTIONS) needs that
  step-up, and the page says so and offers "Verify to make changes";
- ``open``: no extra step (the page's own rules still apply).
"""

from __future__ import annotations

from dataclasses import dataclass

BLOCKED = "blocked"
READ_ONLY = "read_only"
OPEN = "open"
# (Without a fresh step-up with a second factor.)
ACTIONS = {BLOCKED: "Blocked", READ_ONLY: "Read-only", OPEN: "Open"}
# Strictest first: a user with several roles on a page gets the strictest of their rules.
STRICTNESS = (BLOCKED, READ_ONLY, OPEN)

# The roles the policy table knows. Team roles come from the teams app (a custom role of
# a team is "member"); "superuser" is a panel superuser; "user" is a signed-in user with
# no other role on the page (their own session list, say).
SUPERUSER = "superuser"
OWNER = "owner"
MANAGER = "manager"
DEVELOPER = "developer"
MEMBER = "member"
USER = "user"
ROLES = {
    SUPERUSER: "Superuser",
    OWNER: "Team Owner",
    MANAGER: "Team Manager",
    DEVELOPER: "Team Developer",
    MEMBER: "Custom team role",
    USER: "Signed-in user",
}


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    defaults: dict[str, str]

    def default_for(self, role: str) -> str:
        return self.defaults.get(role, BLOCKED)


PAGES: dict[str, Page] = {}


def register(key: str, label: str, **defaults: str) -> Page:
    """Add (or replace) a page key. Roles left out default to ``blocked`` (safe)."""
    unknown = set(defaults) - set(ROLES)
    bad = set(defaults.values()) - set(ACTIONS)
    if unknown or bad:
        raise ValueError(f"Unknown role or action for {key!r}: {sorted(unknown | bad)}")
    page = Page(key=key, label=label, defaults=dict(defaults))
    PAGES[key] = page
    return page


def get(key: str) -> Page:
    try:
        return PAGES[key]
    except KeyError:
        raise KeyError(f"No High Security page key {key!r}: register it in pages.py") from None


def strictest(actions) -> str:
    actions = set(actions)
    return next((a for a in STRICTNESS if a in actions), OPEN)


# Team pages: the people who can change them are blocked until they step up; the others
# may look (their pages refuse changes anyway) but a change still needs the step-up.
_TEAM = {
    SUPERUSER: BLOCKED,
    OWNER: BLOCKED,
    MANAGER: BLOCKED,
    DEVELOPER: READ_ONLY,
    MEMBER: READ_ONLY,
    USER: READ_ONLY,
}
register("members", "Members and invitations", **_TEAM)
register("roles", "Team roles and the permission matrix", **_TEAM)
register("team_policy", "Team security policy", **_TEAM)
# Operator pages: only superusers reach them (anyone else gets the view's 403 first).
register(
    "panel_settings",
    "Panel settings (blocks, failed attempts, metrics)",
    **dict.fromkeys(ROLES, BLOCKED),
)
register("api_keys", "API keys", **dict.fromkeys(ROLES, BLOCKED))
# Each user's own sessions: viewable, revoking needs the step-up.
register("sessions", "Session revocation", **dict.fromkeys(ROLES, READ_ONLY))
register("high_security", "High Security settings", **dict.fromkeys(ROLES, BLOCKED))
