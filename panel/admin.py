"""The panel's admin site: superusers only, signed in through the panel's own sign-in.

Django's admin has its own login form, which would be a second way in that skips the
panel's lockout and second factor. This site sends anyone not yet signed in to the
panel's sign-in page instead, and admits only active superusers.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from panel.links import safe_next


class PanelAdminSite(admin.AdminSite):
    site_header = "Panel administration"
    site_title = "Panel administration"
    index_title = "Operators"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_superuser

    @method_decorator(never_cache)
    @method_decorator(login_not_required)
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Never Django's login form: the panel's sign-in (password, lockout, 2FA).

        Public, like Django's own (otherwise LoginRequiredMiddleware would send visitors
        to the panel's sign-in with this page, and its ``next``, wrapped in ``next``)."""
        if self.has_permission(request):
            return redirect("admin:index")
        if request.user.is_authenticated:
            raise PermissionDenied  # signed in, but the admin is not for them
        target = safe_next(request, request.GET.get("next"), reverse("admin:index"))
        return redirect(f"{reverse('security:login')}?{urlencode({'next': target})}")

    def password_change(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Never Django's form: it changed the password with no audit event, no email
        notice and no limit on guessing the current one. The panel's own page does all
        of that (and ends the other sessions)."""
        return redirect("accounts:settings_password")

    def password_change_done(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return redirect("accounts:settings_password")


class ReadOnlyAdminMixin:
    """A model admin that lists and shows rows but offers no add, change or delete, not
    even to superusers: these rows change only through services (audited), which the
    admin's actions call. Put it before ``admin.ModelAdmin`` in the bases."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class OperatorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only, with actions (which call audited services) for superusers only."""

    def get_actions(self, request):
        return super().get_actions(request) if request.user.is_superuser else {}
