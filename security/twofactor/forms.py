"""Forms of the two-factor pages. They validate the shape of input; services decide."""

from __future__ import annotations

from django import forms

from security.twofactor.codes import normalize_code


class CodeInput(forms.TextInput):
    """A one-time code field that never echoes a typed code back into the page."""

    def format_value(self, value):
        return None


def _code_widget(**attrs) -> forms.TextInput:
    return CodeInput(
        attrs={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
            "class": "code-input",
            **attrs,
        }
    )


class CurrentPasswordForm(forms.Form):
    """Re-authentication before a pending secret is created."""

    password = forms.CharField(
        label="Current password",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # True once a typed password was checked and refused (counts on the lockout).
        self.password_refused = False

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            self.password_refused = True
            raise forms.ValidationError("That password is not correct.")
        return password


class TOTPCodeForm(forms.Form):
    code = forms.CharField(
        label="Authentication code",
        max_length=20,
        widget=_code_widget(inputmode="numeric", pattern="[0-9 ]*", autofocus=True),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise forms.ValidationError("Enter the 6-digit code from your authenticator app.")
        return code


class BackupCodeForm(forms.Form):
    code = forms.CharField(
        label="Backup code",
        max_length=40,
        help_text="One of the backup codes you saved, like xxxx-xxxx-xxxx-xxxx.",
        widget=_code_widget(autofocus=True, **{"class": "code-input code-input-long"}),
    )

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                "Enter a backup code: 16 letters and digits, like xxxx-xxxx-xxxx-xxxx."
            )
        return code


class DisableForm(forms.Form):
    code = forms.CharField(
        label="Authentication code or backup code",
        max_length=40,
        help_text="The current 6-digit code from your app, or one unused backup code.",
        widget=_code_widget(autofocus=True, **{"class": "code-input code-input-long"}),
    )

    def clean_code(self) -> str:
        raw = self.cleaned_data["code"]
        digits = "".join(raw.split())
        if len(digits) == 6 and digits.isascii() and digits.isdigit():
            return digits
        if normalize_code(raw) is not None:
            return raw
        raise forms.ValidationError("Enter the 6-digit code from your app or a backup code.")
