"""Door A: the team named at sign-up is created with the new account, which owns it
(the account can use it once its address is verified, as it can sign in only then).
Every account owns a team: without a name it is called after its owner, as the data
migration named the teams of the accounts that existed before."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.dispatch import receiver

from accounts.signals import signed_up

from . import access, services
from .models import Membership, Permission, Role, Team


@receiver(signed_up, dispatch_uid="teams.create_team_at_signup")
def create_team_at_signup(sender, *, user, request=None, extra=None, **kwargs) -> None:
    name = (extra or {}).get("team_name") or services.default_team_name(user)
    services.team_create(name=name, owner=user, request=request)


# Any write to what ``teams.access.load`` reads replaces the shared cache's generation.
def _team_access_changed(sender, **kwargs) -> None:
    access.changed()


for _model in (Team, Membership, Role, Permission):
    post_save.connect(
        _team_access_changed, sender=_model, dispatch_uid=f"teams.access.{_model.__name__}.saved"
    )
    post_delete.connect(
        _team_access_changed, sender=_model, dispatch_uid=f"teams.access.{_model.__name__}.deleted"
    )
m2m_changed.connect(
    _team_access_changed,
    sender=Role.permissions.through,
    dispatch_uid="teams.access.role_permissions",
)


# A data migration writes through historical models, whose signals name other senders:
# after any migration, every cached entry is stale too.
def _migrated(sender, **kwargs) -> None:
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic():
            access.changed()
    except DatabaseError:
        # A migration run that stopped before panel's own tables: nothing is cached yet.
        pass


post_migrate.connect(_migrated, dispatch_uid="teams.access.migrated")
