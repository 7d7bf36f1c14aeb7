"""Forms of the passkey pages: a name, and the browser's answer to a ceremony."""

from __future__ import annotations

import json

from django import forms

from security.passkeys.services import NAME_MAX

# The browser's answer (a PublicKeyCredential as JSON) is a few kilobytes at most.
CREDENTIAL_MAX = 64 * 1024


class PasskeyNameForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX,
        help_text="So you can tell your passkeys apart, e.g. “Work laptop” or “YubiKey”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-passkey-name": ""}),
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the passkey a name.")
        return name


class CredentialForm(forms.Form):
    """What the passkey script posts: the credential as JSON, or that the prompt was
    dismissed (``error``)."""

    credential = forms.CharField(required=False, max_length=CREDENTIAL_MAX, strip=False)
    error = forms.CharField(required=False, max_length=100)

    def clean_credential(self) -> dict | None:
        raw = self.cleaned_data["credential"]
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("The passkey answer could not be read.") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("The passkey answer could not be read.")
        return value
