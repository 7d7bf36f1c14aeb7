"""Who may impersonate whom.

Superusers may act as any active user except another superuser. Anyone else only through
a rule a higher app registers (teams registers "a holder of ``user.manage`` over a member
of their own team whose role is lower"): security knows nothing about teams, as
``security.sessions.services.policy_for`` knows nothing about team policies.

``may_impersonate`` is also django-hijack's ``HIJACK_PERMISSION_CHECK`` (same keyword
arguments), so hijack's own helpers (the ``can_hijack`` template filter) agree with it.
"""

from __future__ import annotations

from collections.abc import Callable

# A rule answers True when ``hijacker`` may act as ``hijacked`` (both active, different,
# the target no superuser: checked before any rule runs).
Rule = Callable[..., bool]

_rules: dict[str, Rule] = {}


def register_rule(name: str, rule: Rule) -> None:
    """Add (or replace) a rule called as ``rule(hijacker=..., hijacked=...)``. A rule can
    only allow more; the superuser exclusion above always holds."""
    _rules[name] = rule


def may_impersonate(*, hijacker, hijacked) -> bool:
    """Whether ``hijacker`` may act as ``hijacked``."""
    if hijacker is None or hijacked is None:
        return False
    if not getattr(hijacker, "is_authenticated", False) or not hijacker.is_active:
        return False
    if not hijacked.is_active or hijacked.pk == hijacker.pk or hijacked.is_superuser:
        return False
    if hijacker.is_superuser:
        return True
    return any(rule(hijacker=hijacker, hijacked=hijacked) for rule in _rules.values())
