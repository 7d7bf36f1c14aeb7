"""Admin for users and the email outbox.

Operators never see or set a password here: a user's password hash is not shown, a new
user gets an unusable password, and the "send a password reset link" action lets the
owner choose one (ASVS V6.4.6: an admin starts a reset, never sets the password).
Outbox rows are read-only and their bodies (which may hold one-time links) are hidden.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from panel.admin import ReadOnlyAdminMixin

from . import services
from .models import OutboxEmail, User
from .tasks import next_attempt_at


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = (
        "username",
        "email",
        "full_name",
        "email_verified_at",
        "is_active",
        "is_staff",
        "last_login",
        "impersonate",
    )
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("username", "email", "full_name")
    ordering = ("username",)
    readonly_fields = ("last_login", "date_joined", "email_verified_at", "impersonate")
    fieldsets = (
        (None, {"fields": ("username", "email", "full_name", "impersonate")}),
        ("Status", {"fields": ("is_active", "email_verified_at", "last_login", "date_joined")}),
        (
            "Permissions",
            {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")},
        ),
    )
    filter_horizontal = ("groups", "user_permissions")
    actions = ("send_password_reset",)

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

    @admin.action(description="Send a password reset link")
    def send_password_reset(self, request, queryset):
        sent = sum(
            services.request_password_reset(email=user.email, request=request)
            for user in queryset.filter(is_active=True)
        )
        self.message_user(request, f"Sent {sent} password reset link(s).", messages.SUCCESS)


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
