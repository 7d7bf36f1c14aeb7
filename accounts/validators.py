"""Password validators beyond Django's own: a maximum length, a strength score, and no
password built around a word the account or the site gives away."""

from __future__ import annotations

import re

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


# What each letter of a context word may be typed as (common leetspeak, case aside).
_LEET = {
    "a": "a4@",
    "e": "e3",
    "i": "i1",
    "l": "l1",
    "o": "o0",
    "s": "s5$",
    "t": "t7",
}
# docs/security.md states these (a test compares them).
CONTEXT_WORD_MIN_LENGTH = 4
CONTEXT_REMAINDER_MIN_LENGTH = 8
CONTEXT_REMAINDER_MIN_SCORE = 4


def _word_pattern(word: str) -> re.Pattern:
    parts = []
    for char in word:
        chars = _LEET.get(char, char)
        parts.append("[" + re.escape(chars) + "]" if len(chars) > 1 else re.escape(chars))
    return re.compile("".join(parts), re.IGNORECASE)


def _words(value: str, *, joined: bool = True) -> list[str]:
    """The parts of ``value`` (split at spaces and punctuation, lowercased) and, with
    ``joined``, all of them run together ("dana.reyes": "danareyes", "dana", "reyes");
    only those of at least 4 characters."""
    parts = [p for p in re.split(r"[\W_]+", str(value or "").casefold()) if p]
    words = ["".join(parts), *parts] if joined else parts
    return [w for w in dict.fromkeys(words) if len(w) >= CONTEXT_WORD_MIN_LENGTH]


class ContextWordValidator:
    """Refuse a password built around a word an attacker starts with: the site's name,
    the username, the email address's local part, the words of the full name (each of
    at least 4 characters, case and common leetspeak ignored: ``P4n3l`` is "panel").

    A password that contains such a word is refused when what remains without it is
    shorter than 8 characters or scores below ``min_score`` with zxcvbn: the remainder
    is all an attacker who knows the word still has to guess. The default is 4, not 3:
    zxcvbn scores the remainder of ``paneladmin2024!!`` ("admin2024!!", about 10^8.5
    guesses) a 3, as it does "summer2024!!" or "letmein2024!!", while a remainder worth
    keeping (a few unrelated words, random characters) scores 4. So a long passphrase
    that merely contains the word is still accepted.
    """

    # (where the word comes from, how the message names it)
    SOURCES = (
        ("username", "your username"),
        ("email", "your email address"),
        ("full_name", "your name"),
        ("site", "the name of this site"),
    )

    def __init__(self, min_score: int = CONTEXT_REMAINDER_MIN_SCORE) -> None:
        self.min_score = min_score

    def _context(self, user) -> dict[str, list[str]]:
        from django.conf import settings

        email = str(getattr(user, "email", "") or "")
        return {
            "username": _words(getattr(user, "username", "")),
            "email": _words(email.rpartition("@")[0] if "@" in email else email),
            "full_name": _words(getattr(user, "full_name", ""), joined=False),
            "site": _words(settings.SITE_NAME),
        }

    def validate(self, password: str, user=None) -> None:
        context = self._context(user)
        covered: set[int] = set()
        found: list[str] = []
        for source, _label in self.SOURCES:
            for word in context[source]:
                for match in _word_pattern(word).finditer(password):
                    covered.update(range(*match.span()))
                    if source not in found:
                        found.append(source)
        if not found:
            return
        remainder = "".join(c for i, c in enumerate(password) if i not in covered)
        inputs = [w for words in context.values() for w in words]
        if (
            len(remainder.strip()) >= CONTEXT_REMAINDER_MIN_LENGTH
            and password_strength(remainder, inputs)["score"] >= self.min_score
        ):
            return
        label = dict(self.SOURCES)[found[0]]
        raise ValidationError(
            f"Don't build your password around {label}: without it, what is left is "
            "easy to guess. Add a few unrelated words instead.",
            code="password_context_word",
        )

    def get_help_text(self) -> str:
        return (
            "Your password can't be built around your name, username, email address or "
            "the name of this site."
        )
