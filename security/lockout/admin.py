"""Admin for lockouts: read-only; unlocking goes through the audited service, for
superusers only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from panel.admin import OperatorAdmin
from security.lockout.models import Lockout
from security.lockout.policy import unlock


@admin.register(Lockout)
class LockoutAdmin(OperatorAdmin):
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
