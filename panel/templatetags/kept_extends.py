"""``{% extends %}`` with the root template's blocks found once: a template builtin
(``TEMPLATES["OPTIONS"]["builtins"]``) that replaces Django's tag everywhere.

At every render Django's ``ExtendsNode`` walks the whole node tree of the root template
(``base.html``: the header, the messages, every block) to collect its ``{% block %}``
nodes, about 120,000 instructions of each signed-in page. The blocks of a parsed
template never change, so they are collected once and kept on the parsed template (the
cached loader keeps it for the process; a new parse starts afresh). Everything else is
Django's node: the parent found as before, each child's blocks added as before, the
render the same (``panel/tests/test_kept_extends.py`` renders a three-level hierarchy
with ``block.super`` through both).
"""

from __future__ import annotations

from django.template import Library
from django.template.base import TextNode
from django.template.loader_tags import (
    BLOCK_CONTEXT_KEY,
    BlockContext,
    BlockNode,
    ExtendsNode,
    do_extends as django_extends,
)

register = Library()

_ROOT_BLOCKS = "_panel_root_blocks"


def root_blocks(template) -> dict:
    """The block nodes of ``template`` when it is a root (it extends nothing), else {}:
    what Django's ``ExtendsNode.render`` collects, once per parsed template."""
    found = template.__dict__.get(_ROOT_BLOCKS)
    if found is None:
        found = {}
        for node in template.nodelist:
            # The ExtendsNode has to be the first non-text node.
            if not isinstance(node, TextNode):
                if not isinstance(node, ExtendsNode):
                    found = {n.name: n for n in template.nodelist.get_nodes_by_type(BlockNode)}
                break
        setattr(template, _ROOT_BLOCKS, found)
    return found


class KeptBlocksExtendsNode(ExtendsNode):
    def render(self, context):
        compiled_parent = self.get_parent(context)
        if BLOCK_CONTEXT_KEY not in context.render_context:
            context.render_context[BLOCK_CONTEXT_KEY] = BlockContext()
        block_context = context.render_context[BLOCK_CONTEXT_KEY]
        block_context.add_blocks(self.blocks)
        blocks = root_blocks(compiled_parent)
        if blocks:
            block_context.add_blocks(blocks)
        # Template._render explicitly, so the parser context stays the same (as Django).
        with context.render_context.push_state(compiled_parent, isolated_context=False):
            return compiled_parent._render(context)


@register.tag("extends")
def extends(parser, token):
    node = django_extends(parser, token)
    return KeptBlocksExtendsNode(node.nodelist, node.parent_name, node.template_dirs)
