"""Generations: named values in the database that every write to some data replaces,
inside the writing transaction, so that a process may keep what it built from that data
in its own memory for as long as the value is unchanged.

The request's session row is read with them, in the same query (panel.session_store): a
request knows the current generations at no cost of its own, and what it kept from an
earlier request is good if it was kept under the same value. Any write committed before
the session read replaced the value; a write that commits later is seen by the next
request. A request that wrote (``replace``) no longer trusts what it read: ``current``
answers None until the next request.

Values are random, not counted up: a database restored from a backup cannot bring back a
value that a running process kept data under.
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar

from django.core.signals import request_finished, request_started

# The names read with every session (the session store's query selects each one).
NAMES = ("team_access",)

_current: ContextVar[dict[str, int] | None] = ContextVar("panel_generations", default=None)


def current(name: str) -> int | None:
    """The value of ``name`` read with this request's session, or None (no session read
    yet, no row, or this request replaced it)."""
    values = _current.get()
    return values.get(name) if values else None


def read_with_session(values: dict[str, int | None]) -> None:
    """Called by the session store with the values its query read."""
    _current.set({name: value for name, value in values.items() if value is not None})


def replace(name: str) -> None:
    """``name``'s data changed: a new value, in the current transaction (so that it is
    seen exactly when the write is)."""
    from .models import Generation

    forget()
    updated = Generation.objects.filter(name=name).update(value=secrets.randbits(62))
    if not updated:
        Generation.objects.get_or_create(name=name, defaults={"value": secrets.randbits(62)})


def forget(**kwargs) -> None:
    _current.set(None)


request_started.connect(forget, dispatch_uid="panel.generations.request_started")
request_finished.connect(forget, dispatch_uid="panel.generations.request_finished")
