"""The permission catalog and the predefined roles, as data (migrations seed them)."""

from __future__ import annotations

from .models import Permission, Role

PERMISSIONS: dict[str, str] = {
    "team.manage": "Rename the team, edit custom roles, change members' roles and remove members",
    "team.invite": "Invite people to the team, resend and revoke invitations",
    "team.view": "See the team's members, invitations and the permission audit",
    "site.create": "Add domains",
    "site.edit": "Edit domains and their notes",
    "site.delete": "Delete domains",
    "env.create": "Create environments",
    "env.deploy": "Deploy to environments",
    "env.delete": "Delete environments",
    "backup.create": "Take backups",
    "backup.restore": "Restore backups",
    "server.create": "Create servers",
    "server.manage": "Start, stop and configure servers",
    "user.manage": "Manage members' accounts within the team",
    "billing.manage": "See invoices and change the payment method",
    "events.read": "Read the team's audit events",
    "system.admin": "Administer the team's system settings",
}

RESOURCES = [
    "site.create",
    "site.edit",
    "site.delete",
    "env.create",
    "env.deploy",
    "env.delete",
    "backup.create",
    "backup.restore",
    "server.create",
    "server.manage",
]

# Owner holds "*" (Role.is_owner); Manager: team management and resources, no billing;
# Developer: resources only (and seeing the team).
PREDEFINED_ROLES: dict[str, list[str]] = {
    "Owner": [],
    "Manager": [
        "team.manage",
        "team.invite",
        "team.view",
        "user.manage",
        "events.read",
        *RESOURCES,
    ],
    "Developer": ["team.view", *RESOURCES],
}


def ensure() -> None:
    """Seed the catalog and the predefined roles if they are missing (idempotent).

    Migration 0002 seeds them; this puts them back where the rows were flushed since
    (``manage.py flush``, the transactional tests' table truncation)."""
    if Role.objects.filter(team__isnull=True, name="Owner").exists():
        return
    by_code = {}
    for code, description in PERMISSIONS.items():
        by_code[code], _ = Permission.objects.update_or_create(
            code=code, defaults={"description": description}
        )
    for name, codes in PREDEFINED_ROLES.items():
        role, _ = Role.objects.get_or_create(
            team=None, name=name, defaults={"is_owner": name == "Owner"}
        )
        if codes:
            role.permissions.set([by_code[c] for c in codes])
