"""Stored row → the JSON record Salesforce's REST query returns for it.

The SELECT list is turned once into a list of small steps; fields reached through the same
relationship share one nested object (`"Owner": {"attributes": …, "Name": …, "Email": …}`),
placed where that relationship first appears. An empty reference gives `"Owner": null`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .resolver import Hop, Resolved, Resolver, Row, name_field
from .types import ObjectSchema

Step = Callable[[Row, dict[str, Any]], None]


class _Node:
    """Selected fields of one object in the output, in first-appearance order."""

    def __init__(self) -> None:
        self.order: list[str] = []  # keys, lower-cased, in output order
        self.fields: dict[str, str] = {}  # lower name → canonical field name
        self.children: dict[str, tuple[Hop, _Node]] = {}

    def add(self, hops: Sequence[Hop], field_name: str) -> None:
        if not hops:
            key = field_name.lower()
            if key not in self.fields:
                self.fields[key] = field_name
                self.order.append(key)
            return
        hop = hops[0]
        key = hop.relationship.lower()
        if key not in self.children:
            self.children[key] = (hop, _Node())
            self.order.append(key)
        self.children[key][1].add(hops[1:], field_name)


def build_projection(
    resolver: Resolver, root: ObjectSchema, fields: Sequence[Resolved], api_version: str
) -> Callable[[Row], dict[str, Any]]:
    """`project(row)` for a query's SELECT list."""
    tree = _Node()
    for resolved in fields:
        tree.add(resolved.hops, resolved.field.name)
    base = f"/services/data/v{api_version}/sobjects/"
    steps = _steps(tree, resolver, base, polymorphic_parent=None)
    type_name = root.name
    url = base + type_name + "/"

    def project(row: Row) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": {"type": type_name, "url": url + str(row.get("Id"))}}
        for step in steps:
            step(row, out)
        return out

    return project


def _steps(
    node: _Node, resolver: Resolver, base: str, polymorphic_parent: Hop | None
) -> list[Step]:
    steps: list[Step] = []
    for key in node.order:
        if key in node.fields:
            steps.append(_field_step(node.fields[key], resolver, polymorphic_parent))
        else:
            hop, child = node.children[key]
            child_steps = _steps(child, resolver, base, hop if hop.target is None else None)
            steps.append(_parent_step(hop, child_steps, resolver, base))
    return steps


def _field_step(name: str, resolver: Resolver, polymorphic_parent: Hop | None) -> Step:
    if polymorphic_parent is None:

        def put(row: Row, out: dict[str, Any]) -> None:
            out[name] = row.get(name)

        return put

    hop = polymorphic_parent

    def put_name_field(row: Row, out: dict[str, Any]) -> None:
        out[name] = name_field(resolver.object_of(hop, row), row, name)

    return put_name_field


def _parent_step(hop: Hop, steps: list[Step], resolver: Resolver, base: str) -> Step:
    fetch = resolver.source.get
    ref, rel = hop.reference_field, hop.relationship

    def put(row: Row, out: dict[str, Any]) -> None:
        parent_id = row.get(ref)
        parent = fetch(parent_id) if parent_id else None
        obj = resolver.object_of(hop, parent) if parent is not None else None
        if parent is None or obj is None:
            out[rel] = None
            return
        # Salesforce labels a polymorphic parent with the `Name` pseudo-type.
        type_name = obj.name if hop.target is not None else "Name"
        nested: dict[str, Any] = {
            "attributes": {"type": type_name, "url": f"{base}{obj.name}/{parent.get('Id')}"}
        }
        for step in steps:
            step(parent, nested)
        out[rel] = nested

    return put
