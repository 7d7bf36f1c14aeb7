"""``{% include_pure %}``: the partial with the given values only, each state rendered
once and kept; what is not hashable is rendered each time."""

from __future__ import annotations

import pytest
from django.template import RequestContext, TemplateSyntaxError, engines
from django.template.loader import get_template

from panel.templatetags.pure_include import PureIncludeNode, frozen

PARTIAL = "security/twofactor/_2fa_section.html"


def page(source: str):
    return engines["django"].from_string("{% load pure_include %}" + source)


def nodes(template) -> list[PureIncludeNode]:
    return template.template.nodelist.get_nodes_by_type(PureIncludeNode)


def state(**changes) -> dict:
    tf = {
        "enabled": True,
        "by_passkey": False,
        "unreadable": False,
        "unreadable_message": "",
        "remaining": 7,
        "count": 10,
        "low": False,
    }
    return {**tf, **changes}


def test_each_state_renders_as_the_include_and_is_kept_once(rf, monkeypatch):
    outer = page('{% include_pure "' + PARTIAL + '" tf=tf %}')
    plain = get_template(PARTIAL)
    request = rf.get("/settings/security/")
    renders = []
    real_render = plain.template.render
    monkeypatch.setattr(
        plain.template, "render", lambda context: renders.append(1) or real_render(context)
    )
    seven, two = state(), state(remaining=2, low=True)
    for tf in (seven, two, seven, two, seven):
        html = outer.render({"tf": tf, "user": "someone"}, request)
        assert html == real_render(RequestContext(request, {"tf": tf}))
    assert len(renders) == 2  # one per state
    assert "7 of 10 left" in outer.render({"tf": seven}, request)
    html = outer.render({"tf": two}, request)
    assert "2 of 10 left" in html and "Running low" in html
    assert len(nodes(outer)[0].kept) == 2


def test_the_partial_sees_only_its_values():
    outer = page('{% include_pure "inner" a=a %}')
    engine = outer.template.engine
    inner = engine.from_string("[{{ a }}|{{ b }}]")
    node = nodes(outer)[0]
    node.name = "inner"
    engine.get_template = lambda name: inner  # the engine's lookup for this test only
    try:
        assert outer.render({"a": "A", "b": "B"}) == "[A|]"
    finally:
        del engine.get_template


def test_unhashable_values_are_rendered_each_time():
    outer = page('{% include_pure "' + PARTIAL + '" tf=tf %}')
    assert frozen({"rows": [1, {"x": 2}]}) == frozen({"rows": [1, {"x": 2}]})
    with pytest.raises(TypeError):
        frozen({"rows": [set()]})
    html = outer.render({"tf": state(extra={1, 2})})
    assert "7 of 10 left" in html
    assert nodes(outer)[0].kept == {}


def test_a_full_store_starts_again(rf, monkeypatch):
    from panel.templatetags import pure_include

    monkeypatch.setattr(pure_include, "LIMIT", 3)
    outer = page('{% include_pure "' + PARTIAL + '" tf=tf %}')
    request = rf.get("/")
    for remaining in range(5):
        assert f"{remaining} of 10 left" in outer.render(
            {"tf": state(remaining=remaining)}, request
        )
    assert [key[1] for key in nodes(outer)[0].kept] == [
        frozen({"tf": state(remaining=3)}),
        frozen({"tf": state(remaining=4)}),
    ]


def test_a_name_in_quotes_and_pairs_only():
    with pytest.raises(TemplateSyntaxError):
        page("{% include_pure name %}")
    with pytest.raises(TemplateSyntaxError):
        page('{% include_pure "x.html" tf %}')
