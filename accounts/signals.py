"""Signals the accounts app sends. Other apps listen (the security app ends sessions and
forgets browsers); accounts knows none of them."""

from django.dispatch import Signal

# Sent inside the transaction that changed a user's password, with ``user``, ``request``
# (or None) and ``how``: "change" (the signed-in user changed it: this session and this
# browser stay) or "reset" (from an emailed link: nothing stays). A receiver may return a
# dict of facts for the audit event and the notice email, e.g. {"device_kept": True}.
password_changed = Signal()

# Sent inside the transaction that created an account by sign-up, with ``user``,
# ``request`` (or None) and ``extra``: the cleaned values of the fields other apps added
# to the sign-up form (accounts.forms.register_signup_field), e.g. {"team_name": "Acme"}.
signed_up = Signal()

# Sent inside the transaction that disabled an account, with ``user``, ``request`` (or
# None) and ``actor``. Receivers end everything that keeps the account signed in (the
# security app ends every tracked session; the API refuses the tokens of an inactive
# user) and may return a dict of facts for the audit event, e.g. {"sessions_ended": 2}.
account_disabled = Signal()
