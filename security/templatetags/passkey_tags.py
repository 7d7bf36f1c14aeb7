"""``{% passkeys_for user as pk %}``: what the Security tab shows about passkeys."""

from __future__ import annotations

from django import template

from security.passkeys import ceremony, services as passkeys

register = template.Library()


@register.simple_tag
def passkeys_for(user) -> dict:
    return {"rows": passkeys.rows_for(user), "available": ceremony.available()}
