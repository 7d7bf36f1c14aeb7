"""Team personas: Acme, owned by alice; mia its Manager, dave its Developer; charlie an
outsider; olga in Acme (Developer) and in Globex (Owner)."""

from __future__ import annotations

import pytest

from teams import catalog
from teams.models import Membership, Role, Team


def role(name: str) -> Role:
    # A live-server test before this one on the same worker flushes the database, the
    # catalog's seeded roles included: put them back (a no-op when they are there).
    catalog.ensure()
    return Role.objects.get(team__isnull=True, name=name)


def join(team: Team, user, role_name: str) -> Membership:
    return Membership.objects.create(team=team, user=user, role=role(role_name))


@pytest.fixture
def acme(alice):
    team = Team.objects.create(name="Acme")
    join(team, alice, Role.OWNER)
    return team


@pytest.fixture
def mia(user_factory, acme):
    user = user_factory("mia", full_name="Mia Manager")
    join(acme, user, Role.MANAGER)
    return user


@pytest.fixture
def dave(user_factory, acme):
    user = user_factory("dave", full_name="Dave Developer")
    join(acme, user, Role.DEVELOPER)
    return user


@pytest.fixture
def globex(user_factory):
    return Team.objects.create(name="Globex")


@pytest.fixture
def olga(user_factory, acme, globex):
    user = user_factory("olga", full_name="Olga Twoteams")
    join(acme, user, Role.DEVELOPER)
    join(globex, user, Role.OWNER)
    return user


@pytest.fixture
def owner_role():
    return role(Role.OWNER)


@pytest.fixture
def manager_role():
    return role(Role.MANAGER)


@pytest.fixture
def developer_role():
    return role(Role.DEVELOPER)
