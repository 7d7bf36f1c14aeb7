"""Users and the email outbox."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager as DjangoUserManager
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from audit.actions import Action
from audit.services import audit


class UserManager(DjangoUserManager):
    # "The same address" and "the same username" mean one thing everywhere: what the
    # unique constraints mean, LOWER(a) = LOWER(b), computed by the database on both
    # sides. Django's ``iexact`` is not that rule on PostgreSQL (it runs
    # UPPER(a) = UPPER(b)): the two disagree on characters such as the Kelvin sign
    # (U+212A, lower-cases to "k", upper-cases to itself) and the dotless i (upper-cases
    # to "I", lower-cases to itself). With ``iexact``, "alıce" signed in as alice and
    # "victim@gmaıl.com" (a different mailbox) was "taken" by victim@gmail.com.

    def with_email(self, email: str):
        """Accounts whose address is ``email`` by the unique constraint's rule."""
        email = (email or "").strip()
        return self.alias(email_lower=Lower("email")).filter(email_lower=Lower(models.Value(email)))

    def with_username(self, username: str):
        """Accounts whose username is ``username`` by the unique constraint's rule."""
        username = (username or "").strip()
        return self.alias(username_lower=Lower("username")).filter(
            username_lower=Lower(models.Value(username))
        )

    def get_by_login(self, login: str) -> User:
        """The user whose email or username equals ``login``, ignoring case."""
        login = (login or "").strip()
        value = Lower(models.Value(login))
        return self.alias(email_lower=Lower("email"), username_lower=Lower("username")).get(
            models.Q(email_lower=value) | models.Q(username_lower=value)
        )

    def get_by_natural_key(self, username: str) -> User:
        return self.with_username(username).get()

    def create_superuser(self, username=None, email=None, password=None, **extra_fields):
        """An operator's account (``manage.py createsuperuser``): its address is verified,
        the operator vouches for it (otherwise the panel's sign-in would refuse the first
        superuser until "send the link again" was used). Audited, with no actor: the
        operator at the console is nobody the panel knows."""
        extra_fields.setdefault("email_verified_at", timezone.now())
        with transaction.atomic(using=self._db):
            user = super().create_superuser(username, email, password, **extra_fields)
            audit(
                Action.USER_CREATED,
                actor=None,
                user=user,
                metadata={
                    "source": "operator",
                    "superuser": True,
                    "email_verified": user.email_verified,
                },
            )
        return user


class User(AbstractUser):
    """A person who signs in. Email and username are unique regardless of case."""

    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    full_name = models.CharField("full name", max_length=150)
    email = models.EmailField("email address", max_length=254)
    email_verified_at = models.DateTimeField("email verified", null=True, blank=True)
    # Set by an administrator (accounts.controls.force_password_change): until the user
    # changes their password, every page sends them to the change-password page
    # (accounts.middleware.ForcedPasswordChangeMiddleware). A password change clears it.
    must_change_password = models.BooleanField("must change password", default=False)

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def get_short_name(self) -> str:
        return (self.full_name or self.username).split(" ")[0]

    @property
    def initials(self) -> str:
        parts = (self.full_name or self.username or "?").split()
        return "".join(p[0] for p in parts[:2]).upper()


class OutboxEmail(models.Model):
    """Every email the panel sends, recorded before it is handed to Celery.

    The row survives a broker or SMTP outage: the periodic task re-sends what is still
    pending. The rendered message is kept so a re-send needs no template context; it
    may hold a one-time link, so it is cleared once the email is sent.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    recipient = models.EmailField(max_length=254)
    template = models.CharField(max_length=100)
    subject = models.CharField(max_length=255)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "outbox email"

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient} ({self.status})"


class EmailChange(models.Model):
    """A request to move an account to another address (Profile > Settings > Security).

    The confirmation link goes to ``new_email``, the notice with its undo link to
    ``old_email``. The emailed links carry only this row's id (signed, expiring); the row
    makes them single use: ``confirmed_at`` once the new address is proved, ``undone_at``
    once the owner of the old address took it back (before or after the confirmation).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_changes"
    )
    old_email = models.EmailField(max_length=254)
    new_email = models.EmailField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    # A newer request of the same user replaces this one (its links stop working).
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="emailchange_user_created")]

    def __str__(self) -> str:
        return f"{self.user} {self.old_email} -> {self.new_email}"

    @property
    def pending(self) -> bool:
        return self.confirmed_at is None and self.undone_at is None and self.superseded_at is None
