"""Admin for users and the email outbox.

Operators never see or set a password here: a user's password hash is not shown, a new
user gets an unusable password, and the "send a password reset link" action lets the
owner choose one (ASVS V6.4.6: an admin starts a reset, never sets the password). An
existing account's address, its active flag and its "must change password" flag are
read-only: the actions change them through ``accounts.controls``, the same audited
services as the team pages and the commands.
Outbox rows are read-only and their bodies (which may hold one-time links) are hidden.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from panel.admin import ReadOnlyAdminMixin

from . import controls, services
from .models import EmailChange, OutboxEmail, User
from .tasks import next_attempt_at


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = (
        "username",
        "email",
        "full_name",
        "email_verified_at",
        "is_active",
        "must_change_password",
        "is_staff",
        "last_login",
        "impersonate",
    )
    list_filter = ("is_active", "must_change_password", "is_staff", "is_superuser")
    search_fields = ("username", "email", "full_name")
    ordering = ("username",)
    # Read-only once the account exists: the address changes only by its owner's
    # confirmed email change; "active" and "must change password" only through the
    # actions below (audited, ending sessions, emailing the owner); the password is never
    # shown, not even its hash, and the 2FA secrets and codes live in the read-only
    # admin of security.twofactor.
    CHANGE_READONLY = ("email", "is_active", "must_change_password", "password_state")
    readonly_fields = ("last_login", "date_joined", "email_verified_at", "impersonate")
    fieldsets = (
        (None, {"fields": ("username", "email", "full_name", "impersonate")}),
        (
            "Status",
            {
                "fields": (
                    "is_active",
                    "must_change_password",
                    "password_state",
                    "email_verified_at",
                    "last_login",
                    "date_joined",
                )
            },
        ),
        (
            "Permissions",
            {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")},
        ),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "email", "full_name")}),
        ("Status", {"fields": ("is_active",)}),
        ("Permissions", {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    filter_horizontal = ("groups", "user_permissions")
    actions = (
        "send_password_reset",
        "force_password_change",
        "disable_accounts",
        "enable_accounts",
    )

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return (*self.readonly_fields, *self.CHANGE_READONLY)

    @admin.display(description="password")
    def password_state(self, obj: User) -> str:
        """Whether a password is set: never the hash, nor its algorithm."""
        return "Set (only its owner knows it)" if obj.has_usable_password() else "Not set"

    @admin.display(description="Impersonate")
    def impersonate(self, obj) -> str:
        """A link to the impersonation form (reason, then POST after a step-up); the admin
        is for superusers, who may act as any active user but another superuser."""
        if obj is None or not obj.pk or obj.is_superuser or not obj.is_active:
            return "—"
        return format_html(
            '<a href="{}">Act as {}</a>',
            reverse("security:impersonate", args=[obj.pk]),
            obj.get_short_name(),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            # The owner sets a password through a reset link; nobody else knows it.
            obj.set_unusable_password()
        super().save_model(request, obj, form, change)

    def _apply(self, request, queryset, service, done: str) -> None:
        """Run an account control on each selected user (one audited change each) and
        say what was done and what was refused, and why."""
        count, refused = 0, []
        for user in queryset.order_by("username"):
            try:
                service(actor=request.user, user=user, request=request, source="admin")
            except controls.ControlRefused as refusal:
                refused.append(refusal.message)
                continue
            count += 1
        self.message_user(request, f"{done}: {count}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)

    @admin.action(description="Send a password reset link")
    def send_password_reset(self, request, queryset):
        self._apply(request, queryset, controls.send_password_reset, "Password reset links sent")

    @admin.action(description="Require a new password at the next sign-in")
    def force_password_change(self, request, queryset):
        self._apply(request, queryset, controls.force_password_change, "Password changes required")

    @admin.action(description="Disable (ends their sessions at once)")
    def disable_accounts(self, request, queryset):
        self._apply(request, queryset, controls.disable_account, "Accounts disabled")

    @admin.action(description="Enable again")
    def enable_accounts(self, request, queryset):
        self._apply(request, queryset, controls.enable_account, "Accounts enabled")


@admin.register(EmailChange)
class EmailChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "old_email", "new_email", "confirmed_at", "undone_at")
    search_fields = ("user__username", "old_email", "new_email")
    date_hierarchy = "created_at"


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "recipient",
        "template",
        "status",
        "attempts",
        "last_error",
        "next_attempt",
        "sent_at",
    )
    list_filter = ("status", "template")
    search_fields = ("recipient", "template", "subject")
    date_hierarchy = "created_at"
    # body_text and body_html are left out on purpose: they may hold a one-time link.
    fields = (
        "created_at",
        "recipient",
        "template",
        "subject",
        "status",
        "attempts",
        "last_error",
        "last_attempt_at",
        "next_attempt",
        "sent_at",
    )
    readonly_fields = fields
    actions = ("resend",)

    @admin.display(description="next attempt")
    def next_attempt(self, obj: OutboxEmail):
        """When a pending email that failed is tried again (its retry's backoff)."""
        when = next_attempt_at(obj)
        return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S %Z") if when else "-"

    @admin.action(description="Re-send (pending or failed emails)", permissions=["view"])
    def resend(self, request, queryset):
        count = services.requeue_outbox_emails(
            emails=list(queryset), actor=request.user, request=request
        )
        skipped = queryset.count() - count
        note = f" Skipped {skipped} already sent." if skipped else ""
        self.message_user(request, f"Queued {count} email(s) for sending.{note}", messages.INFO)
