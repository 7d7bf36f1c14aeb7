"""Admin for second factors. Secrets never appear; changes go through
services (audited), and only superusers get the actions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q

from panel.admin import OperatorAdmin
from security.twofactor.models import BackupCodeSet, EncryptedTOTPDevice
from security.twofactor.totp import totp_disable_by_operator


@admin.register(EncryptedTOTPDevice)
class EncryptedTOTPDeviceAdmin(OperatorAdmin):
    list_display = ("user", "confirmed", "confirmed_at", "last_used_at", "throttling_failure_count")
    list_filter = ("confirmed",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    # The encrypted key is left out entirely: nothing secret is shown, not even masked.
    fields = (
        "user",
        "name",
        "confirmed",
        "confirmed_at",
        "created_at",
        "last_used_at",
        "last_t",
        "throttling_failure_count",
        "throttling_failure_timestamp",
    )
    readonly_fields = fields
    actions = ["disable_two_factor"]

    @admin.action(description="Disable two-factor authentication (user lost both factors)")
    def disable_two_factor(self, request, queryset) -> None:
        done = 0
        for device in queryset.select_related("user"):
            if totp_disable_by_operator(
                user=device.user, actor=request.user, request=request, via="admin"
            ):
                done += 1
        self.message_user(
            request, f"Two-factor authentication disabled for {done} user(s).", messages.SUCCESS
        )


@admin.register(BackupCodeSet)
class BackupCodeSetAdmin(OperatorAdmin):
    list_display = ("user", "created_at", "remaining_codes", "last_used_at")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    fields = ("user", "created_at", "last_used_at", "remaining_codes", "throttling_failure_count")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_remaining=Count("codes", filter=Q(codes__used_at__isnull=True)))
        )

    @admin.display(description="unused codes", ordering="_remaining")
    def remaining_codes(self, obj) -> int:
        return obj._remaining
