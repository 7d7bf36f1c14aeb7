"""Admin for held sign-ins (read-only)."""

from __future__ import annotations

from django.contrib import admin

from panel.admin import ReadOnlyAdminMixin
from security.suspicious.models import SuspiciousSignIn


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
