"""Account forms. Every field has a label; passwords are never echoed back."""

from __future__ import annotations

import copy
import unicodedata

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms, password_validation
from django.core.exceptions import ValidationError

from accounts.services import username_base

from .models import User

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


# --- Helpers ----------------------------------------------------------------------------


def _password_input(autocomplete: str, *, meter: bool = False, autofocus: bool = False):
    attrs = {"autocomplete": autocomplete}
    if meter:
        # static/panel/js/password-strength.js adds the live meter to these inputs.
        attrs["data-strength-meter"] = "true"
    if autofocus:
        attrs["autofocus"] = True
    return forms.PasswordInput(attrs=attrs)


def _no_control_characters(value: str) -> None:
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in value):
        raise ValidationError(
            "This contains characters that are not allowed.", code="control_characters"
        )


def password_help_text() -> str:
    return (
        f"At least {settings.PASSWORD_MIN_LENGTH} characters. "
        "A few unrelated words make a strong password that is easy to remember."
    )


class NewPasswordMixin:
    """Two new-password fields; Django's validators run on the first with the user.

    Errors about the password itself show under the first field, a mismatch under the
    second. An over-long password gets only the length message (the other validators
    are not run on arbitrarily long input).
    """

    password_field = "new_password1"  # noqa: S105 (a field name)
    confirm_field = "new_password2"

    def validate_new_password(self, user) -> None:
        cleaned = self.cleaned_data
        password = cleaned.get(self.password_field)
        confirm = cleaned.get(self.confirm_field)
        if not password:
            return
        if len(password) > settings.PASSWORD_MAX_LENGTH:
            self.add_error(
                self.password_field,
                ValidationError(
                    f"This password is too long: use at most "
                    f"{settings.PASSWORD_MAX_LENGTH} characters.",
                    code="password_too_long",
                ),
            )
            return
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            self.add_error(self.password_field, error)
        if confirm is not None and password != confirm:
            self.add_error(
                self.confirm_field,
                ValidationError("The two passwords don't match.", code="password_mismatch"),
            )


# --- Sign-up ----------------------------------------------------------------------------


# Fields other apps add to the sign-up form (the teams app: the team name), in order;
# their cleaned values reach the ``signed_up`` signal as ``extra``.
SIGNUP_EXTRA_FIELDS: dict[str, forms.Field] = {}


def register_signup_field(name: str, field: forms.Field) -> None:
    SIGNUP_EXTRA_FIELDS[name] = field


class SignupForm(NewPasswordMixin, forms.Form):
    password_field = "password1"  # noqa: S105 (a field name)
    confirm_field = "password2"

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text="We'll send a link to this address to confirm it's yours.",
    )
    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        validators=[_no_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=_password_input("new-password", meter=True),
    )
    password2 = forms.CharField(
        label="Confirm password",
        strip=False,
        widget=_password_input("new-password"),
    )

    def __init__(self, *args, extra_fields: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_help_text()
        self.extra_names = list(SIGNUP_EXTRA_FIELDS) if extra_fields else []
        for name in self.extra_names:
            self.fields[name] = copy.deepcopy(SIGNUP_EXTRA_FIELDS[name])

    @property
    def extra_fields(self):
        return [self[name] for name in self.extra_names]

    @property
    def extra(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.extra_names}

    def clean(self):
        cleaned = super().clean()

        email = cleaned.get("email") or ""
        # An unsaved user, so the similarity checks see the name and address typed.
        candidate = User(
            email=email,
            full_name=cleaned.get("full_name") or "",
            username=username_base(email) if email else "",
        )
        self.validate_new_password(candidate)
        return cleaned


class EmailForm(forms.Form):
    """One address: "send the link again" and "forgot your password"."""

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


# --- Password reset and change ----------------------------------------------------------


class ResetPasswordForm(NewPasswordMixin, auth_forms.SetPasswordForm):
    """The new password from a reset link (Django's PasswordResetConfirmView form)."""

    new_password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=_password_input("new-password", meter=True, autofocus=True),
    )
    new_password2 = forms.CharField(
        label="Confirm new password",
        strip=False,
        widget=_password_input("new-password"),
    )

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].help_text = password_help_text()

    def clean(self):
        # Not super().clean(): Django's would run the validators a second time.
        self.validate_new_password(self.user)
        return self.cleaned_data


class ChangePasswordForm(ResetPasswordForm):
    """Current password, then the new one twice."""

    field_order = ["old_password", "new_password1", "new_password2"]

    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=_password_input("current-password"),
    )

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].widget.attrs.pop("autofocus", None)

    def clean_old_password(self) -> str:
        old = self.cleaned_data["old_password"]
        if not self.user.check_password(old):
            raise ValidationError(
                "Your current password is not correct. Your password has not been changed.",
                code="password_incorrect",
            )
        return old

    @property
    def wrong_current_password(self) -> bool:
        return self.has_error("old_password", code="password_incorrect")


# --- Email change -----------------------------------------------------------------------


class EmailChangeForm(forms.Form):
    """The new address of the signed-in user's account."""

    new_email = forms.EmailField(
        label="New email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text="We send a confirmation link there; your address changes once it is followed.",
    )
