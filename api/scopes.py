"""The scopes an API key may hold, and the team permission each one rests on.

A scope only narrows: a key does what its scope allows AND what its owner may do in the
key's team right now (``teams.access``, read fresh on every request). A scope with more
than one permission (``domains:write``) lets the service check the exact one (create,
edit, delete) again.
"""

from __future__ import annotations

DOMAINS_READ = "domains:read"
DOMAINS_WRITE = "domains:write"
MEMBERS_READ = "members:read"
MEMBERS_WRITE = "members:write"
AUDIT_READ = "audit:read"

SCOPES: dict[str, str] = {
    DOMAINS_READ: "Read the team's domains",
    DOMAINS_WRITE: "Add, change and delete the team's domains",
    MEMBERS_READ: "Read the team's members and their roles",
    MEMBERS_WRITE: "Change members' roles (within your own rights)",
    AUDIT_READ: "Read the team's audit events",
}

# The team permission a scope needs (None: being a member is enough, as for the pages).
PERMISSION: dict[str, str | None] = {
    DOMAINS_READ: None,
    DOMAINS_WRITE: None,  # the service checks site.create / site.edit / site.delete
    MEMBERS_READ: "team.view",
    MEMBERS_WRITE: "team.manage",
    AUDIT_READ: "events.read",
}

CHOICES = list(SCOPES.items())
