"""``{% security_overview user as overview %}``: what the Security tab's sections show
(``security.overview``), read in one database round trip."""

from __future__ import annotations

from django import template

from security import overview

register = template.Library()


@register.simple_tag
def security_overview(user) -> overview.Overview:
    return overview.read(user)
