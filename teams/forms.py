"""Team forms: every field labelled; names and hostnames are validated again by the
services (teams.validation), which have the last word."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .exceptions import InvalidName
from .models import Permission
from .validation import ROLE_NAME_MAX, TEAM_NAME_MAX, clean_hostname, clean_name


def _validated(func, value, **kwargs):
    try:
        return func(value, **kwargs)
    except InvalidName as refused:
        raise ValidationError(refused.message, code="invalid") from None


class TeamNameField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Team name")
        kwargs.setdefault("max_length", 1000)  # the clean step says it plainly below
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "organization"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value and not self.required:
            return ""
        return _validated(clean_name, value, max_length=TEAM_NAME_MAX, what="team name")


class DomainForm(forms.Form):
    hostname = forms.CharField(
        label="Hostname",
        max_length=1000,
        help_text="For example shop.example.com. Internationalised names are accepted.",
    )
    notes = forms.CharField(
        label="Notes", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_hostname(self):
        return _validated(clean_hostname, self.cleaned_data["hostname"])


class RoleChoiceForm(forms.Form):
    """The role picked for a member or an invitation; the service checks it belongs to
    the team (a forged id is a 404)."""

    role = forms.IntegerField(label="Role", min_value=1, max_value=2**62)


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    role = forms.IntegerField(label="Role", min_value=1, max_value=2**62)


class RoleForm(forms.Form):
    name = forms.CharField(label="Role name", max_length=1000)
    permissions = forms.MultipleChoiceField(
        label="Permissions", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalog = list(Permission.objects.order_by("code"))
        self.fields["permissions"].choices = [(p.code, p.code) for p in self.catalog]

    def clean_name(self):
        return _validated(
            clean_name, self.cleaned_data["name"], max_length=ROLE_NAME_MAX, what="role name"
        )


class PolicyForm(forms.Form):
    require_2fa = forms.BooleanField(
        label="Require two-factor authentication for every member", required=False
    )
    min_password_length = forms.IntegerField(
        label="Minimum password length",
        required=False,
        min_value=8,
        max_value=128,
        help_text="Empty: the panel's default. Applies when a member next sets a password.",
    )
    idle_timeout = forms.IntegerField(
        label="Sign out after this many minutes without activity",
        required=False,
        min_value=5,
        max_value=24 * 60,
        help_text="Empty: the panel's default.",
    )
    single_session = forms.BooleanField(
        label="One active session per member (a new sign-in ends the others)", required=False
    )
    new_device_approval = forms.BooleanField(
        label="A sign-in from a new browser needs an emailed code",
        required=False,
        help_text="Left off, the panel's own setting applies.",
    )
