"""Admin for the block list: a block is added through the audited service and lifted
with an action (also audited); a block is never edited in place."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from security.blocking import services
from security.blocking.models import BlockedNetwork


class BlockedNetworkForm(forms.ModelForm):
    class Meta:
        model = BlockedNetwork
        fields = ("network", "reason", "expires_at")

    def clean_network(self):
        try:
            return str(services.parse_block(self.cleaned_data["network"]))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(BlockedNetwork)
class BlockedNetworkAdmin(admin.ModelAdmin):
    form = BlockedNetworkForm
    list_display = ("network", "reason", "expires_at", "created_by", "created_at")
    search_fields = ("network", "reason")
    list_select_related = ("created_by",)
    actions = ["lift"]

    def has_change_permission(self, request, obj=None) -> bool:
        # The list is viewable; an existing block is lifted, not edited.
        return obj is None and request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        row = services.block(
            network=form.cleaned_data["network"],
            reason=form.cleaned_data["reason"],
            expires_at=form.cleaned_data.get("expires_at"),
            actor=request.user,
            request=request,
        )
        obj.pk = row.pk

    @admin.action(description="Lift the selected blocks")
    def lift(self, request, queryset):
        for row in queryset:
            services.unblock(row=row, actor=request.user, request=request)
        messages.success(request, "Blocks lifted.")
