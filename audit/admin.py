"""Admin for the audit trail, read-only.

The audit trail is append-only: the admin lists and shows events but offers no add,
change or delete (not even for superusers), and no bulk action.
"""

from __future__ import annotations

from django.contrib import admin

from audit.models import AuditEvent
from panel.admin import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "action", "outcome", "user", "actor", "impersonator", "ip")
    list_filter = ("action", "outcome", "created_at")
    search_fields = ("user__username", "user__email", "actor__username", "actor__email", "ip")
    date_hierarchy = "created_at"
    list_select_related = ("user", "actor", "impersonator")
    ordering = ("-created_at", "-id")
    fields = (
        "created_at",
        "action",
        "outcome",
        "user",
        "actor",
        "impersonator",
        "team_id",
        "ip",
        "user_agent",
        "metadata",
    )
    readonly_fields = fields
    actions = None
    show_full_result_count = False
