"""Admin for tracked sessions, trusted devices and held sign-ins (read-only; actions call
services). Stored hashes are never shown."""

from __future__ import annotations

from django.contrib import admin, messages

from panel.admin import ReadOnlyAdminMixin
from security.devices.services import forget_by_operator
from security.models import SuspiciousSignIn, TrackedSession, TrustedDevice
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


@admin.register(SuspiciousSignIn)
class SuspiciousSignInAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "user",
        "status",
        "reasons",
        "location_label",
        "ip",
        "created_at",
        "decided_via",
    )
    list_filter = ("status",)
    search_fields = ("user__username", "user__email", "ip")
    list_select_related = ("user",)
    fields = (
        "user",
        "status",
        "reasons",
        "ip",
        "user_agent",
        "city",
        "country",
        "created_at",
        "expires_at",
        "decided_at",
        "decided_via",
    )
    readonly_fields = fields
