"""manage.py disable_account USER: disable an account and end its sessions at once."""

from __future__ import annotations

from ._operator import AccountControlCommand


class Command(AccountControlCommand):
    help = (
        "Disable USER (username or email): every session and token ends at once, and "
        "sign-in says the account is disabled (only after the right password). The user is "
        "emailed and the change is audited. Undo with enable_account."
    )
    control = "disable_account"
    would = "Dry run: would disable (and sign out everywhere) {username}."
    done = "Disabled {username} and ended their sessions; they have been emailed."
