"""panel.templatetags.kept_extends: ``{% extends %}`` with the root's blocks kept renders
what Django's tag renders."""

from __future__ import annotations

from django.template import Context, Engine
from django.template.loader_tags import ExtendsNode

from panel.templatetags.kept_extends import KeptBlocksExtendsNode

TEMPLATES = {
    "root.html": (
        "<title>{% block title %}Root{% endblock %}</title>"
        "{% if show %}<nav>{% block nav %}root nav{% endblock %}</nav>{% endif %}"
        "<main>{% block content %}root content{% endblock %}</main>"
        "{% for n in rows %}{% block row %}[{{ n }}]{% endblock %}{% endfor %}"
    ),
    "middle.html": (
        '{% extends "root.html" %}'
        "{% block title %}Middle &gt; {{ block.super }}{% endblock %}"
        "{% block content %}<section>{% block inner %}middle inner{% endblock %}</section>{% endblock %}"
    ),
    "page.html": (
        '{% extends "middle.html" %}'
        "{% block inner %}page inner, then {{ block.super }}{% endblock %}"
        "{% block nav %}page nav ({{ block.super }}){% endblock %}"
        "{% block row %}<{{ n }}>{% endblock %}"
    ),
    "by_variable.html": "{% extends parent %}{% block content %}given{% endblock %}",
}


def engines() -> tuple[Engine, Engine]:
    # The cached loader, as in production: the same parsed root at every render, its
    # blocks kept after the first.
    loaders = [
        (
            "django.template.loaders.cached.Loader",
            [("django.template.loaders.locmem.Loader", TEMPLATES)],
        )
    ]
    django = Engine(loaders=loaders)
    kept = Engine(loaders=loaders, builtins=["panel.templatetags.kept_extends"])
    return django, kept


def test_a_three_level_hierarchy_renders_as_with_djangos_tag_again_and_again():
    django, kept = engines()
    assert type(kept.get_template("page.html").nodelist[0]) is KeptBlocksExtendsNode
    assert type(django.get_template("page.html").nodelist[0]) is ExtendsNode
    for context in (
        {"show": True, "rows": [1, 2]},
        {"show": False, "rows": []},
        {"show": True, "rows": [3]},
    ):
        for name in ("page.html", "middle.html", "root.html"):
            expected = django.get_template(name).render(Context(context))
            assert kept.get_template(name).render(Context(context)) == expected
    assert "_panel_root_blocks" in kept.get_template("root.html").__dict__  # kept, reused
    page = kept.get_template("page.html").render(Context({"show": True, "rows": [1]}))
    assert "Middle &gt; Root" in page and "page nav (root nav)" in page
    assert "page inner, then middle inner" in page and "<1>" in page


def test_a_parent_given_as_a_template_object_or_a_name():
    django, kept = engines()
    for parent in ("middle.html", kept.get_template("middle.html")):
        context = {"parent": parent, "show": True, "rows": []}
        expected = django.get_template("by_variable.html").render(
            Context({**context, "parent": "middle.html"})
        )
        assert kept.get_template("by_variable.html").render(Context(context)) == expected
