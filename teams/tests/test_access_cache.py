"""The shared cache of a user's teams (teams.access, TEAM_ACCESS_CACHE_SECONDS): a hit
costs no query, and every kind of team write is seen by the next request.

Transactional tests: the generation is replaced again when a write commits, which a
test wrapped in a transaction never does. A local-memory cache stands in for Redis here;
the services leg runs the whole suite on Redis with the cache on."""

from __future__ import annotations

import pytest
from django.db import transaction

from teams import access, policy
from teams.models import Membership, Permission, Role, Team

from .conftest import join, role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def shared_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    settings.TEAM_ACCESS_CACHE_SECONDS = 300
    from django.core.cache import cache

    cache.clear()


def next_request(user) -> dict[int, access.TeamAccess]:
    """What the user's next request reads: nothing kept on the user object."""
    access.forget(user)
    return access.load(user)


def test_a_second_request_reads_the_cache_not_the_database(alice, acme, django_assert_num_queries):
    with django_assert_num_queries(1):
        first = next_request(alice)
    with django_assert_num_queries(0):
        second = next_request(alice)
    assert list(second) == list(first) == [acme.pk]
    assert second[acme.pk].is_owner and second[acme.pk].team.name == "Acme"


def test_without_the_setting_every_request_queries(
    settings, alice, acme, django_assert_num_queries
):
    settings.TEAM_ACCESS_CACHE_SECONDS = 0
    next_request(alice)
    with django_assert_num_queries(1):
        next_request(alice)


def test_a_custom_role_losing_a_permission_is_seen_at_once(user_factory, acme):
    sam = user_factory("sam")
    custom = Role.objects.create(team=acme, name="Billing")
    custom.permissions.set(Permission.objects.filter(code__in=["site.edit", "team.view"]))
    Membership.objects.create(team=acme, user=sam, role=custom)
    assert next_request(sam)[acme.pk].has("site.edit")
    assert next_request(sam)[acme.pk].has("site.edit")  # from the cache

    custom.permissions.remove(Permission.objects.get(code="site.edit"))
    assert not next_request(sam)[acme.pk].has("site.edit")
    assert next_request(sam)[acme.pk].has("team.view")


def test_a_role_change_and_a_removal_are_seen_at_once(dave, acme):
    assert not next_request(dave)[acme.pk].has("team.manage")
    membership = Membership.objects.get(user=dave, team=acme)
    membership.role = role(Role.OWNER)
    membership.save()
    assert next_request(dave)[acme.pk].is_owner
    membership.delete()
    assert next_request(dave) == {}


def test_a_team_policy_change_is_seen_at_once(alice, acme):
    from security.sessions.services import SessionPolicy

    default = SessionPolicy(
        idle_timeout=3600,
        absolute_timeout=43200,
        single_session=False,
        new_device_approval=False,
        suspicious_checks=True,
    )
    next_request(alice)
    acme.idle_timeout = 600
    acme.high_security = True
    acme.save()
    access.forget(alice)
    assert policy.session_policy(alice, default).idle_timeout == 600
    assert next_request(alice)[acme.pk].team.high_security is True


def test_a_new_team_is_seen_at_once(alice, acme, globex):
    assert list(next_request(alice)) == [acme.pk]
    join(globex, alice, Role.DEVELOPER)
    assert set(next_request(alice)) == {acme.pk, globex.pk}


def test_rows_read_before_a_concurrent_write_committed_are_not_served_after_it(
    monkeypatch, dave, acme, django_assert_num_queries
):
    """Another request reads the rows, a write commits before it stores them: the entry
    carries the generation from before the write, which no later read accepts."""
    real = access._query

    def read_then_someone_writes(user_id):
        rows = real(user_id)
        Membership.objects.filter(user=dave, team=acme).update(role=role(Role.MANAGER))
        access.changed()  # what the write's signal does
        return rows

    monkeypatch.setattr(access, "_query", read_then_someone_writes)
    stale = next_request(dave)
    assert stale[acme.pk].role.name == Role.DEVELOPER
    monkeypatch.setattr(access, "_query", real)
    with django_assert_num_queries(1):
        fresh = next_request(dave)
    assert fresh[acme.pk].role.name == Role.MANAGER


def test_a_write_rolled_back_leaves_nothing_behind(dave, acme):
    with pytest.raises(RuntimeError), transaction.atomic():
        Membership.objects.filter(user=dave, team=acme).delete()
        assert next_request(dave) == {}  # its own transaction sees the removal...
        raise RuntimeError("rolled back")
    # ...which was not stored for other requests, and did not happen.
    assert list(next_request(dave)) == [acme.pk]
    assert list(next_request(dave)) == [acme.pk]


def test_a_cache_that_fails_is_skipped_and_the_database_answers(
    settings, alice, acme, django_assert_num_queries
):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "panel.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with django_assert_num_queries(1):
        assert list(next_request(alice)) == [acme.pk]
    acme.name = "Acme Two"
    acme.save()  # the generation cannot be replaced: nothing is read from the cache anyway
    assert next_request(alice)[acme.pk].team.name == "Acme Two"


def test_the_redis_backend_keeps_one_client_per_pool():
    from panel.cache import RedisCache

    backend = RedisCache("redis://127.0.0.1:1/0", {})
    client = backend._cache
    assert client.get_client() is client.get_client(write=True)
    assert client.get_client().connection_pool is client._get_connection_pool(False)


def test_deleting_a_team_is_seen_at_once(alice, acme, globex):
    join(globex, alice, Role.DEVELOPER)
    assert set(next_request(alice)) == {acme.pk, globex.pk}
    Team.objects.filter(pk=globex.pk).delete()
    assert set(next_request(alice)) == {acme.pk}


def test_a_migration_makes_every_entry_stale(alice, acme, django_assert_num_queries):
    """Data migrations write through historical models, which the save receivers do not
    hear: post_migrate replaces the generation."""
    from django.apps import apps
    from django.db.models.signals import post_migrate

    next_request(alice)
    with django_assert_num_queries(0):
        next_request(alice)
    post_migrate.send(
        sender=apps.get_app_config("teams"),
        app_config=apps.get_app_config("teams"),
        verbosity=0,
        interactive=False,
        using="default",
        apps=apps,
        plan=[],
    )
    with django_assert_num_queries(1):
        next_request(alice)


# --- The process's own layer, under the generation read with the session ---------------


@pytest.fixture
def session_key():
    from panel import generations
    from panel.session_store import SessionStore

    # The migration's row, which the flush between transactional tests removes (a team
    # write puts it back: generations.replace).
    generations.replace(access.GENERATION)

    store = SessionStore()
    store["seen"] = True
    store.save()
    return store.session_key


def signed_in_request(user, session_key) -> dict[int, access.TeamAccess]:
    """What a signed-in request reads: its session row first (with the generations),
    then the user's teams."""
    from panel import generations
    from panel.session_store import SessionStore

    generations.forget()
    access.forget(user)
    assert SessionStore(session_key).load() == {"seen": True}
    assert generations.current(access.GENERATION) is not None
    return access.load(user)


def test_the_session_query_reads_the_team_generation(session_key):
    from panel import generations
    from panel.models import Generation

    generations.forget()
    from panel.session_store import SessionStore

    SessionStore(session_key).load()
    stored = Generation.objects.get(name=access.GENERATION).value
    assert generations.current(access.GENERATION) == stored
    access.changed()  # a team write replaces it, in its transaction
    assert Generation.objects.get(name=access.GENERATION).value != stored
    assert generations.current(access.GENERATION) is None  # this request no longer trusts it


def test_a_process_that_kept_the_teams_reads_neither_the_database_nor_the_cache(
    alice, acme, session_key, django_assert_num_queries
):
    from django.core.cache import cache

    access._kept.clear()
    first = signed_in_request(alice, session_key)
    cache.clear()  # nothing from the shared cache either
    with django_assert_num_queries(1):  # the session row (with the generation) only
        second = signed_in_request(alice, session_key)
    assert list(second) == list(first) == [acme.pk]
    # Each request has objects of its own: changing one leaves the kept entry alone.
    second[acme.pk].team.name = "Changed in memory only"
    with django_assert_num_queries(1):
        assert signed_in_request(alice, session_key)[acme.pk].team.name == "Acme"


def test_a_write_by_another_process_is_seen_at_the_next_request(
    dave, acme, session_key, django_assert_num_queries
):
    """Another process's write replaces the generation in the database: this process's
    kept entry no longer matches what the next session query reads."""
    from panel import generations
    from panel.models import Generation

    assert signed_in_request(dave, session_key)[acme.pk].role.name == Role.DEVELOPER
    # The other process: its write and its generation, committed; no signal here.
    Membership.objects.filter(user=dave, team=acme).update(role=role(Role.MANAGER))
    Generation.objects.filter(name=access.GENERATION).update(value=12345)
    with django_assert_num_queries(2):  # the session, then the teams from the database
        assert signed_in_request(dave, session_key)[acme.pk].role.name == Role.MANAGER
    assert generations.current(access.GENERATION) == 12345
    with django_assert_num_queries(1):
        assert signed_in_request(dave, session_key)[acme.pk].role.name == Role.MANAGER


def test_a_request_that_wrote_team_data_reads_it_back(dave, acme, session_key):
    assert list(signed_in_request(dave, session_key)) == [acme.pk]
    Membership.objects.filter(user=dave, team=acme).delete()  # the receivers: changed()
    access.forget(dave)
    assert access.load(dave) == {}  # the same request, after its own write


def test_a_kept_entry_expires_after_the_setting(
    monkeypatch, alice, acme, session_key, django_assert_num_queries
):
    import time

    signed_in_request(alice, session_key)
    later = time.monotonic() + 301  # TEAM_ACCESS_CACHE_SECONDS = 300
    monkeypatch.setattr(access.time, "monotonic", lambda: later)
    with django_assert_num_queries(2):
        signed_in_request(alice, session_key)


def test_the_session_policy_kept_for_the_request_follows_a_team_change_in_it(alice, acme):
    """security.sessions.services.policy_for keeps its answer on the user for the request;
    a team change made in the request (access.forget) makes it ask again."""
    from security.sessions.services import policy_for

    default = policy_for(alice).idle_timeout
    acme.idle_timeout = 600
    acme.save()
    assert policy_for(alice).idle_timeout == default  # kept, as the teams are
    access.forget(alice)
    assert policy_for(alice).idle_timeout == 600
