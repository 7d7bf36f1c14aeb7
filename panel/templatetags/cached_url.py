"""``{% url %}`` with the answers of constant names kept: a template builtin
(``TEMPLATES["OPTIONS"]["builtins"]``) that replaces Django's tag everywhere.

Every page's header reverses the same few argument-less names (home, dashboard, settings,
sign out): a reverse walks the resolver each time, about a tenth of a signed-in page's
template time. A ``{% url 'name' %}`` with a literal name, no arguments and no ``as`` is
the same string for as long as the URLconf, the script prefix and the current
application namespace are the same: those make the key. Everything else is Django's tag
unchanged (an unknown name still raises ``NoReverseMatch``).
"""

from __future__ import annotations

from django.conf import settings
from django.template import Library
from django.template.defaulttags import URLNode, url as django_url
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = Library()

_found: dict[tuple, str] = {}
_LIMIT = 4096  # distinct (name, urlconf, prefix, namespace): a handful in practice


class CachedURLNode(URLNode):
    def render(self, context):
        name = self.view_name.var
        if (
            self.args
            or self.kwargs
            or self.asvar
            or self.view_name.filters
            or not isinstance(name, str)
        ):
            return super().render(context)
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        key = (
            str(name),
            get_urlconf() or settings.ROOT_URLCONF,
            get_script_prefix(),
            current_app,
        )
        url = _found.get(key)
        if url is None:
            url = reverse(str(name), current_app=current_app)
            if len(_found) < _LIMIT:
                _found[key] = url
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)


def clear() -> None:
    _found.clear()
