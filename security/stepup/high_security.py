"""High Security Mode: is it on for this page, which roles does the user have there, and
what does the policy table say.

The teams app sits above security, so it answers "is it on for this team, and what is
the user's role there" through a provider it registers here (``register_scope_provider``
in its ``AppConfig.ready``), as it does for ``security.sessions.services.policy_for``.
A provider reads the memberships that ``request.teams`` already loads in one query (the
team's switch rides in that query), so a request for a page whose teams have the mode
off costs no query.

The panel-wide switch is one row, kept in memory per process for ``PANEL_FLAG_SECONDS``:
a sensitive page costs no query for it either; another process sees a change within
that time, the process that made it at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.http import HttpRequest

from security.exceptions import HighSecurityRequired
from security.stepup import pages, state


@dataclass(frozen=True)
class Scope:
    """What one provider says about a page: whether the mode is on there (``on``) and the
    user's roles there (pages.ROLES keys)."""

    on: bool
    roles: frozenset[str]


@dataclass(frozen=True)
class Decision:
    page_key: str
    on: bool
    action: str  # pages.BLOCKED / READ_ONLY / OPEN
    roles: frozenset[str]

    @property
    def needs_verification(self) -> bool:
        return self.on and self.action != pages.OPEN

    def allows(self, method: str, *, verified: bool) -> bool:
        if verified or not self.on or self.action == pages.OPEN:
            return True
        return self.action == pages.READ_ONLY and method in SAFE_METHODS


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# ``provider(request, view_kwargs) -> Scope | None`` (None: nothing to say).
ScopeProvider = Callable[[HttpRequest, dict], "Scope | None"]
_providers: dict[str, ScopeProvider] = {}


def register_scope_provider(name: str, provider: ScopeProvider) -> None:
    _providers[name] = provider


# --- The panel-wide switch ----------------------------------------------------------------

PANEL_FLAG_SECONDS = 5.0
_panel_flag: dict[str, float | bool] = {}


def panel_enabled() -> bool:
    """Whether a superuser turned High Security Mode on for the whole panel."""
    now = time.monotonic()
    if _panel_flag and now - float(_panel_flag["at"]) < PANEL_FLAG_SECONDS:
        return bool(_panel_flag["on"])
    from security.stepup.models import PanelHighSecurity

    on = PanelHighSecurity.objects.filter(pk=1, enabled=True).exists()
    _panel_flag.update(on=on, at=now)
    return on


def remember_panel_flag(on: bool | None) -> None:
    """Set the in-memory copy (after this process changed the switch), or forget it
    (None: read the row on next use)."""
    _panel_flag.clear()
    if on is not None:
        _panel_flag.update(on=bool(on), at=time.monotonic())


# --- The decision -------------------------------------------------------------------------


def roles_and_scope(request: HttpRequest, view_kwargs: dict | None = None) -> Scope:
    user = request.user
    roles: set[str] = set()
    on = False
    for provider in _providers.values():
        found = provider(request, view_kwargs or {})
        if found is not None:
            on = on or found.on
            roles |= found.roles
    if getattr(user, "is_superuser", False):
        roles.add(pages.SUPERUSER)
    if not roles:
        roles.add(pages.USER)
    return Scope(on=on, roles=frozenset(roles))


def action_for(page_key: str, roles: Iterable[str]) -> str:
    """The strictest rule of the policy table (or the catalogue's default) over ``roles``."""
    from security.stepup.models import HighSecurityRule

    page = pages.get(page_key)
    roles = set(roles)
    stored = dict(
        HighSecurityRule.objects.filter(page_key=page_key, role__in=roles).values_list(
            "role", "action"
        )
    )
    return pages.strictest(stored.get(role, page.default_for(role)) for role in roles)


def decide(request: HttpRequest, page_key: str, view_kwargs: dict | None = None) -> Decision:
    """What High Security Mode asks of this user on this page. No query when the mode is
    off for the page (the teams' switches come with the memberships already loaded)."""
    pages.get(page_key)  # an unknown key fails loudly, in tests first
    scope = roles_and_scope(request, view_kwargs)
    on = scope.on or panel_enabled()
    if not on:
        return Decision(page_key=page_key, on=False, action=pages.OPEN, roles=scope.roles)
    return Decision(
        page_key=page_key, on=True, action=action_for(page_key, scope.roles), roles=scope.roles
    )


def require(request: HttpRequest, page_key: str, *, method: str = "POST", **view_kwargs) -> None:
    """For services that change protected state: check again, whatever page called them.
    Raises ``HighSecurityRequired`` unless this request may change ``page_key``'s state
    (with ``method="GET"``: may see it; for pages the middleware does not see, such as
    the admin's)."""
    if request is None or not request.user.is_authenticated:
        return  # an operator command, a task or an emailed link: no session to step up
    decision = decide(request, page_key, view_kwargs)
    if not decision.allows(method, verified=state.is_verified(request)):
        raise HighSecurityRequired(page_key=page_key)
