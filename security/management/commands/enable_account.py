"""manage.py enable_account USER: let a disabled account sign in again."""

from __future__ import annotations

from ._operator import AccountControlCommand


class Command(AccountControlCommand):
    help = (
        "Enable USER (username or email) again after disable_account: they sign in with "
        "their unchanged password. The user is emailed and the change is audited."
    )
    control = "enable_account"
    would = "Dry run: would enable {username}."
    done = "Enabled {username}; they have been emailed."
