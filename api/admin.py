"""Admin for API keys: read-only (the hash is never shown); operators may revoke."""

from __future__ import annotations

from django.contrib import admin, messages

from panel.admin import OperatorAdmin

from . import keys
from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(OperatorAdmin):
    list_display = ("name", "prefix", "user", "team", "created_at", "last_used_at", "expires_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix", "user__username", "user__email")
    list_select_related = ("user", "team")
    fields = (
        "name",
        "prefix",
        "user",
        "team",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset):
        total = keys.revoke_by_operator(queryset=queryset, request=request)
        self.message_user(request, f"Revoked {total} API key(s).", messages.SUCCESS)
