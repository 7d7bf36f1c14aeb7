"""Password validators beyond Django's own: a maximum length and a strength score."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from zxcvbn import zxcvbn

# zxcvbn is slow on very long input and zxcvbn 4.5 raises ValueError above its default
# max_length of 72; it only needs a prefix to judge a password.
_ZXCVBN_MAX = 72


def password_strength(password: str, user_inputs: list[str] | None = None) -> dict:
    """Score a password 0-4 with zxcvbn and a plain-language reason.

    Returns ``{"score": int, "label": "weak"|"medium"|"strong", "warning": str,
    "suggestions": list[str]}``.
    """
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=[u for u in (user_inputs or []) if u])
    score = int(result["score"])
    label = "weak" if score <= 2 else ("medium" if score == 3 else "strong")
    feedback = result.get("feedback") or {}
    return {
        "score": score,
        "label": label,
        "warning": feedback.get("warning") or "",
        "suggestions": list(feedback.get("suggestions") or []),
    }


class MaximumLengthValidator:
    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long: use at most {self.max_length} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password can be up to {self.max_length} characters long."


class StrengthValidator:
    """Refuse passwords that zxcvbn scores below ``min_score`` (0-4), saying why."""

    def __init__(self, min_score: int = 3) -> None:
        self.min_score = min_score

    def validate(self, password: str, user=None) -> None:
        inputs = []
        if user is not None:
            inputs = [
                getattr(user, "username", ""),
                getattr(user, "email", ""),
                getattr(user, "full_name", ""),
            ]
        from django.conf import settings

        inputs.append(settings.SITE_NAME)
        result = password_strength(password, inputs)
        if result["score"] < self.min_score:
            reason = result["warning"] or "It would be easy to guess."
            hint = " ".join(result["suggestions"][:1])
            message = f"This password is too weak. {reason.rstrip('.')}."
            if hint:
                message += f" {hint}"
            raise ValidationError(message, code="password_too_weak")

    def get_help_text(self) -> str:
        return "Your password must be hard to guess: a few unrelated words work well."
