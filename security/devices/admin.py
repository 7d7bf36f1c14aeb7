"""Admin for trusted browsers (read-only; forgetting goes through the audited service)."""

from __future__ import annotations

from django.contrib import admin, messages

from panel.admin import ReadOnlyAdminMixin
from security.devices.models import TrustedDevice
from security.devices.services import forget_by_operator


@admin.register(TrustedDevice)
class TrustedDeviceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "name", "location_label", "ip", "created_at", "last_seen_at")
    search_fields = ("user__username", "user__email", "name", "ip")
    list_select_related = ("user",)
    fields = ("user", "name", "ip", "user_agent", "city", "country", "created_at", "last_seen_at")
    readonly_fields = fields
    # Not a plain delete: the action goes through the service, which audits it.
    actions = ["forget"]

    @admin.action(description="Forget the selected devices (next sign-in needs the emailed code)")
    def forget(self, request, queryset):
        total = forget_by_operator(queryset=queryset, actor=request.user, request=request)
        self.message_user(request, f"Forgot {total} device(s).", messages.SUCCESS)
