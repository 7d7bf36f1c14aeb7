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
from typing import NamedTuple

from django import template
from django.core.signals import setting_changed
from django.templatetags.static import StaticNode
from django.utils.safestring import mark_safe

from ..csrf import token_input
from .cached_url import cached_reverse, cached_reverse_pattern, url_base

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


class _Paths(NamedTuple):
    """The top bar's paths for one ``url_base`` (the URLconf, the script prefix and the
    current application: all a path depends on), escaped, made once per process."""

    home: str
    dashboard: str
    operations: str
    switch: str
    settings: str
    admin: str
    logout: str
    team: tuple[str, str]  # the team page's path around its pk


_paths: dict[tuple, _Paths] = {}


def _paths_for(base: tuple) -> _Paths:
    found = _paths.get(base)
    if found is None:
        head, _, tail = cached_reverse_pattern("teams:team", base=base)
        found = _Paths(
            *(
                _escape(cached_reverse(name, base=base))
                for name in (
                    "home",
                    "dashboard",
                    "security:audit_log",
                    "teams:switch",
                    "accounts:settings",
                    "admin:index",
                    "security:logout",
                )
            ),
            team=(_escape(head), _escape(tail)),
        )
        if len(_paths) < 64:
            _paths[base] = found
    return found


# The header, built with f-strings: through ``format_html`` (a keyword format and an
# escape per value, eight of them) it was about a tenth of a signed-in page. Every value
# is escaped here as format_html escaped it (``_escape``); the paths once per process.
@register.simple_tag(takes_context=True)
def topbar(context) -> str:
    request = context.get("request")
    user = context.get("user")
    paths = _paths_for(url_base(request))  # once for the eight paths
    brand = (
        f'<a class="brand" href="{paths.home}"><span class="brand-mark" aria-hidden="true">'
        f"&#9650;</span> {_escape(context.get('site_name'))}</a>"
    )
    if user is not None and user.is_authenticated:
        brand += "\n    " + _signed_in(context, request, user, paths)
    return mark_safe(  # noqa: S308 (every value escaped)
        f'<header class="topbar">\n    {brand}\n  </header>'
    )


def _signed_in(context, request, user, paths: _Paths) -> str:
    teams = context.get("teams")
    active = teams.active if teams else None
    superuser = user.is_superuser
    csrf = token_input(context)  # what {% csrf_token %} renders, once
    name = _escape(user.get_full_name())
    team = (
        f'<a href="{paths.team[0]}{int(active.team.pk)}{paths.team[1]}">Team</a>' if active else ""
    )
    operations = f'<a href="{paths.operations}">Operations</a>' if superuser else ""
    parts = [
        '<nav class="topnav" aria-label="Main">\n'
        f'      <a href="{paths.dashboard}">Dashboard</a>\n'
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
            f'<form method="post" action="{paths.switch}" class="teamswitch">\n'
            f'      {csrf}<input type="hidden" name="next" value="{_escape(request.get_full_path())}">\n'
            f"      {body}\n"
            "    </form>"
        )
    admin = f'<a href="{paths.admin}">Administration</a>' if superuser else ""
    parts.append(
        '<details class="usermenu">\n'
        f'      <summary aria-label="Account menu for {name}"><span class="avatar" aria-hidden="true">'
        f'{_escape(user.initials)}</span><span class="usermenu-name">{name}</span></summary>\n'
        '      <div class="usermenu-panel">\n'
        f'        <p class="usermenu-who"><strong>{name}</strong><br><span class="muted">{_escape(user.email)}</span></p>\n'
        f'        <a href="{paths.settings}">Settings</a>\n'
        f"        {admin}\n"
        f'        <form method="post" action="{paths.logout}">{csrf}'
        '<button type="submit" class="linklike">Sign out</button></form>\n'
        "      </div>\n"
        "    </details>"
    )
    return "\n    ".join(parts)
