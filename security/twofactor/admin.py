"""Admin for second factors and lockouts. Secrets never appear; changes go through
services (audited), and only superusers get the actions."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q

from panel.admin import ReadOnlyAdminMixin
from security.lockout.policy import unlock
from security.models import BackupCodeSet, EncryptedTOTPDevice, Lockout
from security.twofactor.totp import totp_disable_by_operator


class _ReadOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    def get_actions(self, request):
        # Operator actions are for superusers only.
        return super().get_actions(request) if request.user.is_superuser else {}


@admin.register(EncryptedTOTPDevice)
class EncryptedTOTPDeviceAdmin(_ReadOnly):
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
class BackupCodeSetAdmin(_ReadOnly):
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


@admin.register(Lockout)
class LockoutAdmin(_ReadOnly):
    list_display = (
        "username",
        "ip",
        "level",
        "locked_until",
        "hard_locked",
        "consecutive_failures",
        "last_locked_at",
    )
    list_filter = ("hard_locked",)
    search_fields = ("username", "ip")
    fields = list_display
    readonly_fields = list_display
    actions = ["unlock_accounts", "unlock_addresses"]

    @admin.action(description="Unlock these accounts (every address)")
    def unlock_accounts(self, request, queryset) -> None:
        from django.contrib.auth import get_user_model

        User = get_user_model()
        done = 0
        for name in set(queryset.values_list("username", flat=True)):
            user = User.objects.with_username(name).first()
            if user is not None:
                unlock(user=user, actor=request.user, request=request)
                done += 1
        self.message_user(request, f"Unlocked {done} account(s).", messages.SUCCESS)

    @admin.action(description="Unlock these IP addresses (every username)")
    def unlock_addresses(self, request, queryset) -> None:
        addresses = {ip for ip in queryset.values_list("ip", flat=True) if ip}
        for ip in addresses:
            unlock(ip=ip, actor=request.user, request=request)
        self.message_user(request, f"Unlocked {len(addresses)} address(es).", messages.SUCCESS)
