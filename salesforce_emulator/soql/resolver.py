"""Field paths → schema fields and row accessors.

A path such as `Account.Owner.Email` is checked once against the schema (giving Salesforce's
INVALID_FIELD messages) and turned into a getter that walks reference ids through
`RecordSource.get`. Polymorphic references (Lead.Owner → User or Queue, Task.Who → Contact
or Lead) resolve the target type per row from the id's key prefix, and expose only the
fields of Salesforce's `Name` pseudo-object, as a real org does without TYPEOF.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import methodcaller
from typing import Any

from .errors import MALFORMED_QUERY, bad_relationship, error, no_such_column
from .nodes import FieldPath
from .types import FieldSchema, ObjectSchema, RecordSource, SchemaLookup

Row = Mapping[str, Any]
Getter = Callable[[Row], Any]

MAX_RELATIONSHIP_DEPTH = 5


def _name_object() -> ObjectSchema:
    """The fields a polymorphic parent exposes through the `Name` pseudo-object."""
    spec = {
        "Id": "id",
        "Name": "string",
        "FirstName": "string",
        "LastName": "string",
        "Email": "email",
        "Phone": "phone",
        "Title": "string",
        "Type": "picklist",
        "Alias": "string",
        "IsActive": "boolean",
        "Username": "string",
        "CommunityNickname": "string",
        "NameOrAlias": "string",
        "UserRoleId": "reference",
        "ProfileId": "reference",
        "RecordTypeId": "reference",
        "LastReferencedDate": "datetime",
        "LastViewedDate": "datetime",
    }
    return ObjectSchema(
        name="Name",
        label="Name",
        key_prefix="",
        fields={k: FieldSchema(name=k, label=k, type=t) for k, t in spec.items()},
    )


NAME_OBJECT = _name_object()


@dataclass(frozen=True)
class Hop:
    """One parent step: read `reference_field` on the row, fetch the parent it names."""

    reference_field: str
    relationship: str
    target: ObjectSchema | None  # None when polymorphic: the type comes from the id prefix
    candidates: Mapping[str, ObjectSchema]  # key prefix → object, for polymorphic hops


@dataclass(frozen=True)
class Resolved:
    path: FieldPath
    field: FieldSchema  # the final field (from the Name pseudo-object when polymorphic)
    hops: tuple[Hop, ...]
    get: Getter


class Resolver:
    """Resolves paths for one execution; parents are fetched from `source` per row."""

    def __init__(self, schema: SchemaLookup, source: RecordSource, text: str) -> None:
        self.schema = schema
        self.source = source
        self.text = text

    def object_of(self, hop: Hop, parent: Row) -> ObjectSchema | None:
        """The schema of a fetched parent: fixed, or by key prefix for polymorphic hops."""
        if hop.target is not None:
            return hop.target
        parent_id = parent.get("Id") or ""
        return hop.candidates.get(parent_id[:3])

    def resolve(self, root: ObjectSchema, path: FieldPath) -> Resolved:
        obj: ObjectSchema | None = root
        hops: list[Hop] = []
        *relationships, field_name = path.parts
        if len(relationships) > MAX_RELATIONSHIP_DEPTH:
            raise error(
                MALFORMED_QUERY,
                self.text,
                path.pos,
                f"SOQL statements cannot query more than {MAX_RELATIONSHIP_DEPTH} levels "
                "of relationships",
            )
        for rel_name in relationships:
            ref = obj.relationship(rel_name) if obj is not None else None
            if obj is None or ref is None:  # nothing is reachable past a polymorphic parent
                raise bad_relationship(self.text, path.pos, rel_name)
            hop = self._hop(ref, rel_name, path)
            hops.append(hop)
            obj = hop.target
        target = obj if obj is not None else NAME_OBJECT
        field = target.field(field_name)
        if field is None:
            raise no_such_column(self.text, path.pos, field_name, target.name)
        return Resolved(path, field, tuple(hops), self._getter(tuple(hops), field.name))

    def _hop(self, ref: FieldSchema, rel_name: str, path: FieldPath) -> Hop:
        targets = [self.schema.object_schema(t) for t in ref.reference_to]
        known = [t for t in targets if t is not None]
        if not known:
            raise bad_relationship(self.text, path.pos, rel_name)
        relationship = ref.relationship_name or rel_name
        if len(ref.reference_to) == 1:
            return Hop(ref.name, relationship, known[0], {known[0].key_prefix: known[0]})
        return Hop(ref.name, relationship, None, {t.key_prefix: t for t in known})

    def _getter(self, hops: tuple[Hop, ...], name: str) -> Getter:
        if not hops:
            return methodcaller("get", name)
        fetch = self.source.get
        refs = [hop.reference_field for hop in hops]
        if hops[-1].target is not None:

            def walk(row: Row) -> Any:
                parent: Row | None = row
                for ref in refs:
                    parent_id = parent.get(ref)
                    if parent_id is None:
                        return None
                    parent = fetch(parent_id)
                    if parent is None:
                        return None
                return parent.get(name)

            return walk

        last = hops[-1]

        def walk_polymorphic(row: Row) -> Any:
            parent: Row | None = row
            for ref in refs:
                parent_id = parent.get(ref)
                if parent_id is None:
                    return None
                parent = fetch(parent_id)
                if parent is None:
                    return None
            return name_field(self.object_of(last, parent), parent, name)

        return walk_polymorphic


def name_field(obj: ObjectSchema | None, row: Row, name: str) -> Any:
    """A `Name` pseudo-object field read from the actual parent row."""
    if obj is None:
        return None
    field = obj.field(name)
    if field is not None:
        return row.get(field.name)
    return obj.name if name == "Type" else None
