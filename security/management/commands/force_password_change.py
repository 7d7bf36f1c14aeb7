"""manage.py force_password_change USER: require a new password at the user's next visit."""

from __future__ import annotations

from ._operator import AccountControlCommand


class Command(AccountControlCommand):
    help = (
        "Require USER (username or email) to choose a new password: until they do, every "
        "page sends them to the change-password page. Nobody sees or sets the password; "
        "the user is emailed and the change is audited."
    )
    control = "force_password_change"
    would = "Dry run: would require a new password from {username}."
    done = "{username} must choose a new password at their next visit; they have been emailed."
