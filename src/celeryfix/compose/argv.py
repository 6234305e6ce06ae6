"""The argv of a YAML `command:`/`entrypoint:` node (compose, Kubernetes) as tokens.

String form: compose's word splitting of the scalar's value, each word mapped to the file. List
form: one token per item.
"""

from __future__ import annotations

from ruamel.yaml.nodes import Node, ScalarNode, SequenceNode

from celeryfix.compose.scalars import UnmappableScalar, scalar_value_map
from celeryfix.shellwords import split_compose_command
from celeryfix.textmap import MappedText
from celeryfix.tokens import ArgvToken, word_tokens


def scalar_text(node: ScalarNode, layer: MappedText | None) -> str:
    """The scalar's value. ruamel marks the folds of a `>` scalar with BEL characters in
    node.value (for its round trip); the map's text is the value YAML defines."""
    return layer.text if layer is not None else str(node.value).replace("\a", "")


def node_tokens(source: str, node: Node | None) -> list[ArgvToken]:
    """The argv of a `command:`/`entrypoint:` node, string or list form."""
    if isinstance(node, ScalarNode):
        if node.tag == "!reset" or node.value is None:
            return []
        try:
            layer: MappedText | None = scalar_value_map(source, node)
        except UnmappableScalar:
            layer = None
        return word_tokens(split_compose_command(scalar_text(node, layer)), layer)
    if isinstance(node, SequenceNode):
        tokens = []
        for item in node.value:
            if not isinstance(item, ScalarNode):
                return []
            try:
                chars: MappedText | None = scalar_value_map(source, item)
            except UnmappableScalar:
                chars = None
            tokens.append(ArgvToken(scalar_text(item, chars), chars, None, item, node))
        return tokens
    return []
