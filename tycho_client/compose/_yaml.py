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
from ..errors import FieldError, Loc, TychoComposeError, summarize

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
    def __init__(self, source: str | None) -> None:
        self.source = source

    def error(self, loc: Loc, problem: str, where: Node | int | None) -> TychoComposeError:
        line = _line(where) if isinstance(where, Node) else where
        message = f"line {line}: {problem}" if line else problem
        what = f"cannot load {self.source or 'compose document'}"
        error = FieldError(loc, message)
        return TychoComposeError(f"{what}: {summarize([f'{error.path}: {error.msg}'])}", [error])


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
                raise context.error(loc, f"unsupported YAML tag {node.tag!r}", node)
            if node.tag == _INT and len(str(node.value)) > MAX_NUMBER_DIGITS:
                problem = f"is a number of over {MAX_NUMBER_DIGITS} digits"
                raise context.error(loc, problem, node)
        elif node.tag not in (_TAG + "seq", _TAG + "map"):
            raise context.error(loc, f"unsupported YAML tag {node.tag!r}", node)
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
                raise context.error(loc, "mapping keys must be strings", key_node)
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


def _yaml_problem(exc: yaml.YAMLError) -> tuple[str, int | None]:
    # str() of a marked error quotes the offending source line, which may hold a secret.
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        mark = exc.problem_mark or exc.context_mark
        return problem or "invalid YAML", (int(mark.line) + 1 if mark else None)
    return str(exc).splitlines()[0] if str(exc) else "invalid YAML", None


def load_yaml_documents(text: str, *, source: str | None = None) -> dict[str, Any]:
    """Load compose YAML ``text`` into plain data (dict, list, str, int, float, bool, None).

    Several YAML documents (``---``) are merged in order; a top-level key may appear in only one.
    The result must have a non-empty ``services`` mapping. Aliases may not expand to more than
    :data:`MAX_EXPANDED_NODES` nodes. ``source`` (a file name) appears in error messages.
    Raises :class:`~tycho_client.errors.TychoComposeError`, with the line where known.
    """
    context = _LoadContext(source)
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
        problem, line = _yaml_problem(exc)
        raise context.error(("system",), f"not valid YAML: {problem}", line) from None
    except RecursionError:
        raise context.error(("system",), "nested too deeply", None) from None
    except TychoComposeError:
        raise
    except ValueError as exc:  # a constructor's refusal PyYAML does not wrap
        problem = f"not valid YAML: {type(exc).__name__}"
        raise context.error(("system",), problem, None) from None
    finally:
        loader.dispose()
    return _merge_documents(documents, context)


def _merge_documents(documents: list[tuple[Any, Node]], context: _LoadContext) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    for data, node in documents:
        if data is None:
            continue
        if not isinstance(data, dict):
            kind = "a list" if isinstance(data, list) else "a single value"
            raise context.error(("system",), f"the document is {kind}, not a mapping", _line(node))
        lines = {str(k.value): _line(k) for k, _ in node.value if isinstance(k, ScalarNode)}
        for key, value in data.items():
            line = lines.get(key, _line(node))
            if key in merged:
                raise context.error(
                    ("system", key),
                    f"is defined in two YAML documents (lines {key_lines[key]} and {line})",
                    line,
                )
            merged[key] = unshare(value)
            key_lines[key] = line
    if not merged:
        raise context.error(("system",), "the document is empty", None)
    services = merged.get("services")
    if "services" not in merged:
        problem = "is missing: a compose document needs a `services` mapping"
    elif not isinstance(services, dict):
        problem = "must be a mapping of services"
    elif not services:
        problem = "must not be empty"
    else:
        return merged
    raise context.error(("system", "services"), problem, key_lines.get("services"))
