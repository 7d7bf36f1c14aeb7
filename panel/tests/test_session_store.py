"""panel.session_store reads the session row with one written SELECT instead of the ORM:
it must answer exactly as Django's database store does (both legs: SQLite and
PostgreSQL, whose datetimes it adapts differently)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.utils import timezone

from panel.session_store import SessionStore

pytestmark = pytest.mark.django_db


def saved(data: dict, *, expiry: int | None = None) -> str:
    store = DjangoStore()
    store.update(data)
    if expiry is not None:
        store.set_expiry(expiry)
    store.save()
    return store.session_key


def test_a_live_session_loads_its_data_as_djangos_store_does():
    key = saved({"_auth_user_id": "7", "note": "é ✓"})
    ours, theirs = SessionStore(key), DjangoStore(key)
    assert ours.load() == theirs.load() == {"_auth_user_id": "7", "note": "é ✓"}
    assert ours.session_key == key


def test_an_expired_session_is_empty_and_forgets_its_key():
    key = saved({"_auth_user_id": "7"}, expiry=60)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        ours, theirs = SessionStore(key), DjangoStore(key)
        assert ours.load() == theirs.load() == {}
        assert ours.session_key is theirs.session_key is None
    # ...and a second before it expired, it was there.
    with time_machine.travel(timezone.now() + timedelta(seconds=59)):
        assert SessionStore(key).load()["_auth_user_id"] == "7"


def test_an_unknown_key_is_empty_and_a_new_session_is_saved_by_our_store():
    assert SessionStore("x" * 32).load() == {}
    store = SessionStore()
    store["a"] = 1
    store.save()
    assert DjangoStore(store.session_key).load() == {"a": 1}
    assert SessionStore(store.session_key).load() == {"a": 1}


def test_the_panel_reads_sessions_with_it(settings):
    assert settings.SESSION_ENGINE == "panel.session_store"
