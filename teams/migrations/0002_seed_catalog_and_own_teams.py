"""Seed the permission catalog and the predefined roles, and give every existing account
a team of its own, of which it is the Owner (accounts stood alone before teams)."""

from django.db import migrations

# A copy, not an import: a migration must keep meaning what it meant when written.
PERMISSIONS = {
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
    "site.create", "site.edit", "site.delete", "env.create", "env.deploy", "env.delete",
    "backup.create", "backup.restore", "server.create", "server.manage",
]
ROLES = {
    "Owner": None,
    "Manager": ["team.manage", "team.invite", "team.view", "user.manage", "events.read", *RESOURCES],
    "Developer": ["team.view", *RESOURCES],
}


def seed(apps, schema_editor):
    Permission = apps.get_model("teams", "Permission")
    Role = apps.get_model("teams", "Role")
    Team = apps.get_model("teams", "Team")
    Membership = apps.get_model("teams", "Membership")
    User = apps.get_model("accounts", "User")
    by_code = {}
    for code, description in PERMISSIONS.items():
        by_code[code], _ = Permission.objects.update_or_create(
            code=code, defaults={"description": description}
        )
    roles = {}
    for name, codes in ROLES.items():
        role, _ = Role.objects.get_or_create(team=None, name=name, defaults={"is_owner": codes is None})
        if codes:
            role.permissions.set([by_code[c] for c in codes])
        roles[name] = role
    for user in User.objects.filter(memberships__isnull=True).iterator():
        name = (user.full_name or user.username).strip()[:70] or user.username[:70]
        team = Team.objects.create(name=f"{name}'s team")
        Membership.objects.create(team=team, user=user, role=roles["Owner"])


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial"), ("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
