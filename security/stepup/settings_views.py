"""Operations > High Security (superusers): the panel-wide switch and the policy table.
Both are ``@high_security("high_security")`` pages: while the mode is on, nobody changes
them (or, by default, even sees them) without a fresh step-up with a second factor."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import not_while_impersonating
from security.auditlog.access import superuser_required
from security.exceptions import SecondFactorNeeded
from security.stepup import high_security as hsm, pages, services
from security.stepup.decorators import high_security
from security.twofactor.totp import has_2fa


def field_name(key: str, role: str) -> str:
    return f"rule__{key}__{role}"


class PolicyTableForm(forms.Form):
    """One choice per (page key, role) of the catalogue."""

    def __init__(self, *args, table: list[dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = list(pages.ACTIONS.items())
        for row in table:
            for cell in row["cells"]:
                self.fields[field_name(row["key"], cell["role"])] = forms.ChoiceField(
                    label=f"{row['label']}: {pages.ROLES[cell['role']]}",
                    choices=choices,
                    initial=cell["action"],
                )
        self.table = table

    def rows(self) -> list[dict]:
        """The table for the template: each page with its bound fields, by role."""
        return [
            {
                "label": row["label"],
                "key": row["key"],
                "cells": [self[field_name(row["key"], c["role"])] for c in row["cells"]],
            }
            for row in self.table
        ]

    def cells(self) -> dict:
        return {
            (row["key"], cell["role"]): self.cleaned_data[field_name(row["key"], cell["role"])]
            for row in self.table
            for cell in row["cells"]
        }


@not_while_impersonating
@high_security("high_security")
@require_http_methods(["GET", "POST"])
@superuser_required
def high_security_settings(request: HttpRequest) -> HttpResponse:
    table = services.policy_table()
    form = PolicyTableForm(request.POST if request.method == "POST" else None, table=table)
    if form.is_valid():
        changed = services.update_policy(cells=form.cells(), actor=request.user, request=request)
        if changed:
            messages.success(request, f"Saved {len(changed)} change(s) to the policy table.")
        else:
            messages.info(request, "Nothing changed in the policy table.")
        return redirect("security:high_security")
    return render(
        request,
        "security/stepup/high_security.html",
        {
            "ops_tab": "high_security",
            "form": form,
            "roles": list(pages.ROLES.values()),
            "panel_on": hsm.panel_enabled(),
            "has_2fa": has_2fa(request.user),
            "minutes": services.STEPUP_SECONDS // 60,
        },
        status=400 if form.is_bound else 200,
    )


@not_while_impersonating
@high_security("high_security")
@require_POST
@superuser_required
def high_security_switch(request: HttpRequest) -> HttpResponse:
    enabled = request.POST.get("enabled") == "on"
    try:
        changed = services.set_panel_high_security(
            enabled=enabled, actor=request.user, request=request
        )
    except SecondFactorNeeded as refused:
        messages.error(request, refused.message)
        return redirect("security:high_security")
    if changed:
        messages.success(
            request, f"High Security Mode is {'on' if enabled else 'off'} for the whole panel."
        )
    return redirect("security:high_security")
