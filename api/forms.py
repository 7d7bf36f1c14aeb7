from __future__ import annotations

from django import forms

from . import keys, scopes

EXPIRY_CHOICES = [("30", "30 days"), ("60", "60 days"), ("90", "90 days"), ("never", "Never")]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=keys.NAME_MAX,
        help_text="What uses the key, e.g. “Monitoring script”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=scopes.CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one scope."},
    )
    expiry = forms.ChoiceField(label="Expires after", choices=EXPIRY_CHOICES, initial="90")

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the key a name.")
        return name

    def expiry_days(self) -> int | None:
        value = self.cleaned_data["expiry"]
        return None if value == "never" else int(value)
