"""``{% static %}`` that keeps its answers, and ``{% topbar %}``: the header of every
page (brand, main links, team switcher, account menu), built in Python.

Every page renders it: through the template engine it was over a third of the dashboard's
template time (a dozen variable lookups through the lazy user, eight ``{% url %}`` and
two ``{% csrf_token %}``, the switcher's loop). The markup is the one the template had
(panel/tests/templates/topbar_reference.html); ``teams/tests/test_topbar.py`` renders
that template beside this and compares them. Every value is escaped as ``format_html``
escapes it.
"""

from __future__ import annotations

import html

from django import template
from django.core.signals import setting_changed
from django.templatetags.static import StaticNode
from django.utils.safestring import mark_safe

from ..csrf import token_input
from .cached_url import cached_reverse, cached_reverse_with_pk, url_base

register = template.Library()

# path -> URL: the storage's answer for a path is fixed for the process (the manifest of
# hashed names is read once at start), but asking costs a storage call and a URL join.
_static: dict[str, str] = {}


class CachedStaticNode(StaticNode):
    @classmethod
    def handle_simple(cls, path):
        url = _static.get(path)
        if url is None:
            url = super().handle_simple(path)
            if len(_static) < 1024:
                _static[path] = url
        return url


@register.tag("static")
def static(parser, token):
    """``{% static 'path' %}`` as Django's tag, each path's URL kept (base.html's CSS and
    icon are on every page)."""
    return CachedStaticNode.handle_token(parser, token)


def _settings_changed(setting, **kwargs) -> None:
    if setting in ("STATIC_URL", "STATIC_ROOT", "STORAGES", "STATICFILES_STORAGE"):
        _static.clear()


setting_changed.connect(_settings_changed, dispatch_uid="panel.chrome.static")


def _escape(value) -> str:
    """``conditional_escape`` without its SafeString: markup as it is, anything else
    through ``html.escape`` (which Django's ``escape`` is)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


# (name, url_base) -> the path, escaped: reversed and escaped once per process (each
# path only when a page needs it: the audit log's and the admin's for superusers).
_paths: dict[tuple, str] = {}


def _path(name: str, base: tuple) -> str:
    key = (name, base)
    found = _paths.get(key)
    if found is None:
        found = _escape(cached_reverse(name, base=base))
        if len(_paths) < 256:
            _paths[key] = found
    return found


# The header, built with f-strings: through ``format_html`` (a keyword format and an
# escape per value, eight of them) it was about a tenth of a signed-in page. Every value
# is escaped here as format_html escaped it (``_escape``); each path once per process.
@register.simple_tag(takes_context=True)
def topbar(context) -> str:
    request = context.get("request")
    user = context.get("user")
    base = url_base(request)  # once for the eight paths
    brand = (
        f'<a class="brand" href="{_path("home", base)}"><span class="brand-mark" aria-hidden="true">'
        f"&#9650;</span> {_escape(context.get('site_name'))}</a>"
    )
    if user is not None and user.is_authenticated:
        brand += "\n    " + _signed_in(context, request, user, base)
    return mark_safe(  # noqa: S308 (every value escaped)
        f'<header class="topbar">\n    {brand}\n  </header>'
    )


def _signed_in(context, request, user, base: tuple) -> str:
    teams = context.get("teams")
    active = teams.active if teams else None
    superuser = user.is_superuser
    csrf = token_input(context)  # what {% csrf_token %} renders, once
    name = _escape(user.get_full_name())
    team = (
        f'<a href="{_escape(cached_reverse_with_pk("teams:team", active.team.pk, base=base))}">Team</a>'
        if active
        else ""
    )
    operations = (
        f'<a href="{_path("security:audit_log", base)}">Operations</a>' if superuser else ""
    )
    parts = [
        '<nav class="topnav" aria-label="Main">\n'
        f'      <a href="{_path("dashboard", base)}">Dashboard</a>\n'
        f"      {team}\n"
        f"      {operations}\n"
        "    </nav>"
    ]
    if active:
        if len(teams) > 1:
            options = "".join(
                [
                    f'<option value="{_escape(found.team.pk)}"'
                    f"{' selected' if found.team.pk == active.team.pk else ''}>"
                    f"{_escape(found.team.name)}</option>"
                    for found in teams
                ]
            )
            body = (
                '<label for="team-switch">Team</label>\n'
                '      <select name="team" id="team-switch">\n'
                f"        {options}\n"
                "      </select>\n"
                '      <button type="submit" class="btn btn-secondary btn-sm">Switch</button>'
            )
        else:
            body = f"<span>Team <strong>{_escape(active.team.name)}</strong></span>"
        parts.append(
            f'<form method="post" action="{_path("teams:switch", base)}" class="teamswitch">\n'
            f'      {csrf}<input type="hidden" name="next" value="{_escape(request.get_full_path())}">\n'
            f"      {body}\n"
            "    </form>"
        )
    admin = f'<a href="{_path("admin:index", base)}">Administration</a>' if superuser else ""
    parts.append(
        '<details class="usermenu">\n'
        f'      <summary aria-label="Account menu for {name}"><span class="avatar" aria-hidden="true">'
        f'{_escape(user.initials)}</span><span class="usermenu-name">{name}</span></summary>\n'
        '      <div class="usermenu-panel">\n'
        f'        <p class="usermenu-who"><strong>{name}</strong><br><span class="muted">{_escape(user.email)}</span></p>\n'
        f'        <a href="{_path("accounts:settings", base)}">Settings</a>\n'
        f"        {admin}\n"
        f'        <form method="post" action="{_path("security:logout", base)}">{csrf}'
        '<button type="submit" class="linklike">Sign out</button></form>\n'
        "      </div>\n"
        "    </details>"
    )
    return "\n    ".join(parts)
