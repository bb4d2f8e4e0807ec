"""YAML text -> compose data for :func:`tycho_client.compose.load_compose`: safe, bounded,
compose-flavoured.

Imported only when text is loaded, so that importing the models (which check compose data) does
not import PyYAML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .._data import unshare
from .._limits import MAX_EXPANDED_NODES, MAX_NESTING, MAX_NUMBER_DIGITS, MAX_SERVICES
from ..errors import FieldError, Loc, TychoComposeError, format_loc
from ._yaml_errors import Spot, excerpt, explain

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL = _TAG + "str", _TAG + "int", _TAG + "float", _TAG + "bool"
_SCALAR_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _TAG + "null"})
_MERGE_TAG = _TAG + "merge"


class _ComposeLoader(_SafeLoader):
    """Safe loader whose plain scalars resolve as docker compose reads them."""

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        tag: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        if kind is not ScalarNode or tag == _MERGE_TAG:
            return tag
        # YAML 1.1 only, unlike compose: base-60 numbers ("22:22"), timestamps, yes/no/on/off.
        sexagesimal = tag in (_INT, _FLOAT) and ":" in str(value)
        word_bool = tag == _BOOL and str(value).lower() not in ("true", "false")
        if sexagesimal or word_bool or tag not in _SCALAR_TAGS:
            return _STR
        return tag


class _LoadContext:
    def __init__(self, text: str, source: str | None) -> None:
        self.text = text
        self.source = source

    def error(self, loc: Loc, problem: str, where: Node | Spot | None) -> TychoComposeError:
        """``source:line:column: path: problem``, the line and an excerpt kept on the error."""
        spot = (
            Spot(_line(where), int(where.start_mark.column) + 1)
            if isinstance(where, Node)
            else where
        )
        named = self.source or "compose document"
        if spot is not None:
            named = (
                f"{self.source}:{spot.line}:{spot.column}"
                if self.source
                else f"line {spot.line}, column {spot.column}"
            )
        path = "" if loc == ("system",) else f"{format_loc(loc)}: "
        return TychoComposeError(
            f"{named}: {path}{problem}",
            [FieldError(loc, problem, "yaml")],
            line=spot.line if spot else None,
            column=spot.column if spot else None,
            excerpt=excerpt(self.text, spot) if spot else None,
        )


def _tag_problem(node: Node) -> str:
    tag = str(node.tag).replace(_TAG, "!!")
    return f"the tag {tag} is not plain data (strings, numbers, booleans, lists, mappings)"


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _check_node_graph(root: Node, context: _LoadContext) -> None:
    """Reject alias bombs, recursive aliases, deep nesting, tags that are not plain data and
    duplicate keys.

    Runs on the composed node graph, before any Python object is built; memoized by node, so the
    cost is linear in the text even when the expanded size is astronomical. The walk descends at
    most :data:`MAX_NESTING` levels, so no input exhausts the stack.
    """
    # Per node: its size with aliases expanded, and its height (how deep it nests), so that an
    # alias reused deeper than where it was first met is measured without walking it again.
    measured: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()

    def too_deep(node: Node, loc: Loc) -> TychoComposeError:
        problem = f"nests more than {MAX_NESTING} levels deep (aliases counted as expanded)"
        # Named by its key in the service (a path 64 keys long helps nobody); the line is exact.
        return context.error(loc[:4], problem, node)

    def expanded_size(node: Node, loc: Loc, depth: int, parent: Node) -> tuple[int, int]:
        if id(node) in measured:
            size, height = measured[id(node)]
            if depth + height > MAX_NESTING:
                raise too_deep(parent, loc)  # an alias: its node's line is the anchor's
            return size, height
        if id(node) in open_nodes:
            raise context.error(loc, "an alias refers to a node that contains it", node)
        if depth > MAX_NESTING:
            raise too_deep(node, loc)
        open_nodes.add(id(node))
        total, height = 1, 0
        if isinstance(node, ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise context.error(loc, _tag_problem(node), node)
            if node.tag == _INT and len(str(node.value)) > MAX_NUMBER_DIGITS:
                problem = f"is a number of over {MAX_NUMBER_DIGITS} digits"
                raise context.error(loc, problem, node)
        elif node.tag not in (_TAG + "seq", _TAG + "map"):
            raise context.error(loc, _tag_problem(node), node)
        elif isinstance(node, SequenceNode):
            for index, child in enumerate(node.value):
                size, below = expanded_size(child, (*loc, index), depth + 1, node)
                total, height = total + size, max(height, below + 1)
        elif isinstance(node, MappingNode):
            size, height = _mapping_size(node, loc, depth, expanded_size)
            total += size
        if total > MAX_EXPANDED_NODES:
            raise context.error(
                loc,
                f"has more than {MAX_EXPANDED_NODES} values (aliases counted as expanded); "
                "refusing to load it",
                node,
            )
        open_nodes.discard(id(node))
        measured[id(node)] = (total, height)
        return total, height

    def _mapping_size(
        node: MappingNode,
        loc: Loc,
        depth: int,
        size: Callable[[Node, Loc, int, Node], tuple[int, int]],
    ) -> tuple[int, int]:
        if loc == ("system", "services") and len(node.value) > MAX_SERVICES:
            problem = (
                f"too many services ({len(node.value)}; a Tycho system has at most {MAX_SERVICES})"
            )
            raise context.error(loc, problem, node)
        total, height = 0, 0
        seen: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                # `<<: *base` puts the base's keys in this mapping: as deep as this one.
                merged, below = size(value_node, loc, depth, node)
                total, height = total + merged, max(height, below)
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                raise context.error(loc, "a key that is not a string: put it in quotes", key_node)
            key = str(key_node.value)
            if key in seen:
                first = _line(seen[key])
                problem = f"`{key}` is given twice in this mapping (first on line {first})"
                raise context.error((*loc, key), problem, key_node)
            seen[key] = key_node
            child, below = size(value_node, (*loc, key), depth + 1, key_node)
            total, height = total + 1 + child, max(height, below + 1)
        return total, height

    expanded_size(root, ("system",), 0, root)


def load_yaml_documents(text: str, *, source: str | None = None) -> dict[str, Any]:
    """Load compose YAML ``text`` into plain data (dict, list, str, int, float, bool, None).

    Several YAML documents (``---``) are merged in order; a top-level key may appear in only one.
    The result must have a non-empty ``services`` mapping. Aliases may not expand to more than
    :data:`MAX_EXPANDED_NODES` nodes. ``source`` (a file name) appears in error messages.
    Raises :class:`~tycho_client.errors.TychoComposeError`, with the line where known.
    """
    context = _LoadContext(text, source)
    loader = _ComposeLoader(text)
    documents: list[tuple[Any, Node]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            _check_node_graph(node, context)
            documents.append((loader.construct_document(node), node))
    except yaml.YAMLError as exc:
        raise context.error(("system",), *explain(exc, text)) from None
    except RecursionError:
        problem = f"nests more than {MAX_NESTING} levels deep"
        raise context.error(("system",), problem, None) from None
    except TychoComposeError:
        raise
    except ValueError:  # a constructor's refusal PyYAML does not wrap
        problem = "holds a value YAML cannot read (a number or date out of range?)"
        raise context.error(("system",), problem, None) from None
    finally:
        loader.dispose()
    return _merge_documents(documents, context)


_SERVICES = "services: {web: {image: nginx}}"


def _merge_documents(documents: list[tuple[Any, Node]], context: _LoadContext) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    key_nodes: dict[str, Node] = {}
    for data, node in documents:
        if data is None:
            continue
        if not isinstance(data, dict):
            kind = "a list" if isinstance(data, list) else "a single value"
            raise context.error(("system",), f"the document is {kind}, not a mapping", node)
        nodes = {str(k.value): k for k, _ in node.value if isinstance(k, ScalarNode)}
        for key, value in data.items():
            at = nodes.get(key, node)
            if key in merged:
                lines = f"lines {_line(key_nodes[key])} and {_line(at)}"
                problem = f"`{key}` is defined in two YAML documents ({lines}): keep one"
                raise context.error(("system", key), problem, at)
            merged[key] = unshare(value)
            key_nodes[key] = at
    if not merged:
        problem = "the document is empty: a compose file needs a `services` mapping"
        raise context.error(("system",), problem, None)
    services = merged.get("services")
    if "services" not in merged:
        problem = f"is missing: a compose file needs a `services` mapping, such as {_SERVICES}"
    elif not isinstance(services, dict):
        problem = f"must be a mapping of services, such as {_SERVICES}"
    elif not services:
        problem = "must not be empty: name at least one service"
    else:
        return merged
    raise context.error(("system", "services"), problem, key_nodes.get("services"))
