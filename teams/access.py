"""A user's memberships and their permission sets, resolved in one query.

``load(user)`` returns ``{team_id: TeamAccess}`` with one query (the memberships joined to
their team, their role and the role's permission codes, one row per code). The request's
``TeamContext`` (teams.middleware) calls it at most once per request and keeps the result
on the user, where the permission backend (teams.backends) finds it.

Every signed-in page needs it (the session policy is the strictest of the user's teams),
so with a shared cache (``TEAM_ACCESS_CACHE_SECONDS``, on with Redis) the result is also
kept there, under a generation that any write to a team, a membership, a role or its
permissions replaces (teams.receivers): one cache round trip instead of the query and its
four-table SQL compilation. The generation is read before the query and stored with the
result, so a write that lands in between leaves an entry that no later read accepts; it
is replaced again when the write's transaction commits. A cache that fails (Redis down)
is skipped: the query answers, as without a cache.

Before that cache, each process keeps what it loaded in its own memory, under the team
generation that the request's session query read from the database (panel.generations):
the same generation replaced, in the writing transaction, by every team write. A request
whose process loaded the user's teams under the current generation makes no query and no
cache round trip. Kept pickled, so that each request gets objects of its own to change.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_started
from django.db import transaction
from django.db.models import F

from panel import generations
from security.sessions import services as session_services

from .models import Membership, Role, Team

logger = logging.getLogger(__name__)

CACHE_ATTR = "_team_access_cache"
# The shape of what is pickled: a deploy that changes these models reads new keys.
_SHAPE = hashlib.sha256(
    repr(
        [
            (m.__name__, [f.attname for f in m._meta.concrete_fields])
            for m in (Team, Role, Membership)
        ]
    ).encode()
).hexdigest()[:8]
GENERATION_KEY = f"teams:access:{_SHAPE}:generation"
# Set on the database connection while its open transaction has written team data;
# cleared when that transaction commits, and at the start of each request (a rolled back
# one leaves it set until then: entries are not stored meanwhile, which is only slower).
_DIRTY = "_team_access_written"
GENERATION = "team_access"  # panel.generations
# This process's: {user_id: (generation, monotonic expiry, pickled result)}.
_kept: dict[int, tuple[int, float, bytes]] = {}
KEPT_MAX = 10_000


@dataclass(frozen=True)
class TeamAccess:
    team: Team
    membership: Membership
    permissions: frozenset[str]

    @property
    def role(self):
        return self.membership.role

    @property
    def is_owner(self) -> bool:
        return self.membership.role.is_owner

    def has(self, permission: str) -> bool:
        return self.is_owner or permission in self.permissions


def load(user) -> dict[int, TeamAccess]:
    """Every membership of ``user`` with its permission set: one query (or one cache
    read), kept on the user for the request."""
    cached = getattr(user, CACHE_ATTR, None)
    if cached is not None:
        return cached
    pk = getattr(user, "pk", None)
    if not pk:
        result: dict[int, TeamAccess] = {}
    elif not settings.TEAM_ACCESS_CACHE_SECONDS:
        result = _query(pk)
    else:
        generation = generations.current(GENERATION)
        result = _shared(pk) if generation is None else _kept_under(pk, generation)
    setattr(user, CACHE_ATTR, result)
    return result


def _query(user_id: int) -> dict[int, TeamAccess]:
    found: dict[int, tuple[Membership, set[str]]] = {}
    rows = (
        Membership.objects.filter(user_id=user_id)
        .select_related("team", "role")
        .annotate(permission_code=F("role__permissions__code"))
        .order_by("team__name", "team_id")
    )
    for row in rows:
        membership, codes = found.setdefault(row.team_id, (row, set()))
        if row.permission_code:
            codes.add(row.permission_code)
    return {
        team_id: TeamAccess(team=m.team, membership=m, permissions=frozenset(codes))
        for team_id, (m, codes) in found.items()
    }


def _kept_under(user_id: int, generation: int) -> dict[int, TeamAccess]:
    """From this process's memory if kept under ``generation``, else from the database
    (not from the shared cache: its own generation is replaced only after the commit)."""
    now = time.monotonic()
    entry = _kept.get(user_id)
    if entry is not None and entry[0] == generation and entry[1] > now:
        return pickle.loads(entry[2])  # noqa: S301 (bytes this process pickled)
    result = _query(user_id)
    if len(_kept) >= KEPT_MAX:
        _kept.clear()
    _kept[user_id] = (
        generation,
        now + settings.TEAM_ACCESS_CACHE_SECONDS,
        pickle.dumps(result, pickle.HIGHEST_PROTOCOL),
    )
    return result


def _user_key(user_id: int) -> str:
    return f"teams:access:{_SHAPE}:user:{user_id}"


def _shared(user_id: int) -> dict[int, TeamAccess]:
    key = _user_key(user_id)
    try:
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        if generation is None:
            cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            generation = cache.get(GENERATION_KEY)
        entry = found.get(key)
    except Exception as error:  # noqa: BLE001 (any cache failure: the query answers)
        logger.warning("team access cache unavailable (%s)", type(error).__name__)
        return _query(user_id)
    if entry is not None and generation is not None and entry[0] == generation:
        return entry[1]
    result = _query(user_id)
    connection = transaction.get_connection()
    if generation is not None and not (
        getattr(connection, _DIRTY, False) and connection.in_atomic_block
    ):
        # Not after this transaction's own team writes: those rows are uncommitted and
        # may be rolled back, which replaces no generation.
        try:
            cache.set(key, (generation, result), timeout=settings.TEAM_ACCESS_CACHE_SECONDS)
        except Exception as error:  # noqa: BLE001
            logger.warning("team access cache unavailable (%s)", type(error).__name__)
    return result


def changed() -> None:
    """A team, membership, role or role permission changed: every cached entry is stale.
    Replaced now (for this transaction's own later reads) and again at commit (an entry
    stored meanwhile from the rows before the write must not outlive it)."""
    if not settings.TEAM_ACCESS_CACHE_SECONDS:
        return
    generations.replace(GENERATION)
    _new_generation()
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        setattr(connection, _DIRTY, True)
    transaction.on_commit(_committed)


def _committed() -> None:
    setattr(transaction.get_connection(), _DIRTY, False)
    _new_generation()


def _new_generation() -> None:
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as error:  # noqa: BLE001
        # A stale entry could then outlive the change: drop them all. If even that fails
        # the cache is down and nothing is read from it.
        logger.error("team access generation not replaced (%s)", type(error).__name__)
        try:
            cache.delete(GENERATION_KEY)
        except Exception:  # noqa: BLE001, S110
            pass


def forget(user) -> None:
    """Drop the cached memberships (after a change made in this request), and the session
    policy made from them."""
    if hasattr(user, CACHE_ATTR):
        delattr(user, CACHE_ATTR)
    session_services.forget_policy(user)


def access_for(user, team_id) -> TeamAccess | None:
    try:
        return load(user).get(int(team_id))
    except (TypeError, ValueError):
        return None


def _request_started(**kwargs) -> None:
    setattr(transaction.get_connection(), _DIRTY, False)


request_started.connect(_request_started, dispatch_uid="teams.access.request_started")
