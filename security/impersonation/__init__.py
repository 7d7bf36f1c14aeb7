"""Impersonation: an administrator acts as another user for at most 30 minutes, with a
written reason, a banner on every page, both names on every audit event, and the user's
own secrets out of reach (docs/security.md, "Impersonation")."""
