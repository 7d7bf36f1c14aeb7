"""Account forms. Every field has a label; passwords are never echoed back."""

from __future__ import annotations

from django import forms

LOGIN_FAILED = (
    "We couldn't sign you in with those details. Check them and try again. "
    "If you have just signed up, verify your email address first."
)


class LoginForm(forms.Form):
    username = forms.CharField(
        label="Email or username",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
