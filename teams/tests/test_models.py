from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from teams.catalog import PERMISSIONS, PREDEFINED_ROLES
from teams.models import Membership, Permission, Role

pytestmark = pytest.mark.django_db


def test_the_permission_catalog_is_seeded_with_a_description_for_each_code():
    seeded = dict(Permission.objects.values_list("code", "description"))
    assert seeded == PERMISSIONS
    assert all(description.strip() for description in seeded.values())


def test_the_predefined_roles_hold_what_the_product_document_says():
    owner = Role.objects.get(team__isnull=True, name="Owner")
    manager = Role.objects.get(team__isnull=True, name="Manager")
    developer = Role.objects.get(team__isnull=True, name="Developer")
    assert owner.is_owner and not owner.permissions.exists()
    manager_codes = set(manager.permissions.values_list("code", flat=True))
    assert manager_codes == set(PREDEFINED_ROLES["Manager"])
    assert "billing.manage" not in manager_codes and "team.invite" in manager_codes
    developer_codes = set(developer.permissions.values_list("code", flat=True))
    assert developer_codes == set(PREDEFINED_ROLES["Developer"])
    assert not {"team.manage", "team.invite", "billing.manage"} & developer_codes


def test_the_data_migration_gives_each_existing_account_a_team_it_owns(user_factory):
    lone = user_factory("lone", full_name="Lone Ranger")
    already = user_factory("already")
    migration = importlib.import_module("teams.migrations.0002_seed_catalog_and_own_teams")
    migration.seed(django_apps, None)
    owned = Membership.objects.select_related("team", "role").get(user=lone)
    assert owned.role.is_owner and owned.team.name == "Lone Ranger's team"
    # Running it again gives nobody a second team.
    migration.seed(django_apps, None)
    assert Membership.objects.filter(user=lone).count() == 1
    assert Membership.objects.filter(user=already).count() == 1
