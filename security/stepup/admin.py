"""Admin for High Security Mode: the policy table (each change goes through the audited
``update_policy`` service) and the panel switch (read-only, with actions calling the
audited service). The admin's pages are protected as the High Security settings page is:
with the mode on, they need a fresh step-up with a second factor."""

from __future__ import annotations

from django.contrib import admin, messages

from panel.admin import OperatorAdmin
from security.stepup import high_security, pages, services
from security.stepup.models import HighSecurityRule, PanelHighSecurity


class HighSecurityAdminMixin:
    def changelist_view(self, request, extra_context=None):
        high_security.require(request, "high_security", method=request.method)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        high_security.require(request, "high_security", method=request.method)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        high_security.require(request, "high_security", method=request.method)
        return super().delete_view(request, object_id, extra_context)


@admin.register(HighSecurityRule)
class HighSecurityRuleAdmin(HighSecurityAdminMixin, admin.ModelAdmin):
    list_display = ("page_key", "role", "action", "updated_by", "updated_at")
    list_filter = ("page_key", "role", "action")
    fields = ("page_key", "role", "action")

    def get_readonly_fields(self, request, obj=None):
        return ("page_key", "role") if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        # Through the service: validated against the catalogue, audited, and a cell set
        # back to its default is removed.
        services.update_policy(
            cells={(obj.page_key, obj.role): obj.action}, actor=request.user, request=request
        )

    def delete_model(self, request, obj) -> None:
        default = pages.get(obj.page_key).default_for(obj.role)
        services.update_policy(
            cells={(obj.page_key, obj.role): default}, actor=request.user, request=request
        )

    def delete_queryset(self, request, queryset) -> None:
        cells = {(r.page_key, r.role): pages.get(r.page_key).default_for(r.role) for r in queryset}
        services.update_policy(cells=cells, actor=request.user, request=request)


@admin.register(PanelHighSecurity)
class PanelHighSecurityAdmin(HighSecurityAdminMixin, OperatorAdmin):
    list_display = ("__str__", "changed_by", "changed_at")
    actions = ["turn_on", "turn_off"]

    @admin.action(description="Turn High Security Mode on for the whole panel")
    def turn_on(self, request, queryset) -> None:
        self._switch(request, True)

    @admin.action(description="Turn High Security Mode off for the whole panel")
    def turn_off(self, request, queryset) -> None:
        self._switch(request, False)

    def _switch(self, request, enabled: bool) -> None:
        from security.exceptions import SecondFactorNeeded

        try:
            services.set_panel_high_security(enabled=enabled, actor=request.user, request=request)
        except SecondFactorNeeded as refused:
            self.message_user(request, refused.message, messages.ERROR)
            return
        self.message_user(request, f"High Security Mode is {'on' if enabled else 'off'}.")
