"""Admin for tracked sessions (read-only; the revoke action calls the service). Stored
hashes are never shown."""

from __future__ import annotations

from django.contrib import admin, messages

from panel.admin import ReadOnlyAdminMixin
from security.sessions.models import TrackedSession
from security.sessions.services import revoke_records


@admin.register(TrackedSession)
class TrackedSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "user",
        "device_label",
        "location_label",
        "ip",
        "created_at",
        "last_active_at",
        "ended_at",
        "end_reason",
    )
    list_filter = ("end_reason", ("ended_at", admin.EmptyFieldListFilter), "device_type")
    search_fields = ("user__username", "user__email", "ip", "country", "city")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = (
        "user",
        "method",
        "ip",
        "user_agent",
        "browser",
        "os",
        "device_type",
        "city",
        "country",
        "created_at",
        "last_active_at",
        "ended_at",
        "end_reason",
        "reported_at",
    )
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description="Revoke the selected sessions")
    def revoke(self, request, queryset):
        total = revoke_records(queryset=queryset, request=request, source="admin")
        self.message_user(request, f"Revoked {total} session(s).", messages.SUCCESS)
