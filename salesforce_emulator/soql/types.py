"""The contract between the SOQL engine and the emulator's schema and record store.

The SOQL engine never touches storage directly: it reads object metadata through
`SchemaLookup` and rows through `RecordSource`, so the engine can be tested on its own
and the store can change without touching the grammar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# Field types, as Salesforce's describe names them.
FIELD_TYPES = frozenset(
    {
        "id",
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "multipicklist",
        "boolean",
        "int",
        "double",
        "currency",
        "percent",
        "date",
        "datetime",
        "reference",
        "address",
    }
)


@dataclass(frozen=True)
class FieldSchema:
    """One field of an sObject, carrying everything describe exposes and DML enforces."""

    name: str
    label: str
    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    defaulted_on_create: bool = False
    default_value: Any = None
    external_id: bool = False
    unique: bool = False
    custom: bool = False
    calculated: bool = False
    picklist_values: tuple[str, ...] = ()
    restricted_picklist: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None


@dataclass
class ObjectSchema:
    """An sObject: its name, key prefix and fields (looked up case-insensitively)."""

    name: str
    label: str
    key_prefix: str
    fields: dict[str, FieldSchema] = field(default_factory=dict)
    label_plural: str = ""
    custom: bool = False
    queryable: bool = True
    createable: bool = True
    updateable: bool = True
    deletable: bool = True

    def __post_init__(self) -> None:
        self._by_lower = {name.lower(): f for name, f in self.fields.items()}
        self._by_relationship = {
            f.relationship_name.lower(): f for f in self.fields.values() if f.relationship_name
        }

    def add_field(self, f: FieldSchema) -> None:
        self.fields[f.name] = f
        self._by_lower[f.name.lower()] = f
        if f.relationship_name:
            self._by_relationship[f.relationship_name.lower()] = f

    def field(self, name: str) -> FieldSchema | None:
        """Case-insensitive field lookup, as SOQL and DML both are."""
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldSchema | None:
        """The reference field behind a parent relationship name (`Owner` → `OwnerId`)."""
        return self._by_relationship.get(name.lower())


class SchemaLookup(Protocol):
    def object_schema(self, name: str) -> ObjectSchema | None:
        """Case-insensitive sObject lookup; None when the org has no such object."""


class RecordSource(Protocol):
    """Rows as stored: field API names as keys, values in Salesforce wire format.

    Dates are `YYYY-MM-DD`, datetimes `YYYY-MM-DDTHH:MM:SS.000+0000` (always UTC, so they
    compare correctly as strings), booleans are bool, numbers int/float, missing = None.
    Every row has `Id` (18 chars) and `IsDeleted`.
    """

    def scan(self, object_name: str) -> Iterable[Mapping[str, Any]]:
        """Every row of one object, deleted ones included (the engine filters `IsDeleted`)."""

    def get(self, record_id: str) -> Mapping[str, Any] | None:
        """One row of any object by its 15- or 18-character Id, or None."""


@dataclass
class QueryResult:
    """Matched rows, already filtered, ordered and cut by OFFSET/LIMIT.

    `rows` are the stored rows; `project` turns one into the JSON Salesforce returns for it
    (with `attributes` and nested parent relationships), so a server can shape only the page
    it sends. For `SELECT COUNT() ...`, `is_count` is True, `total_size` is the count and
    `rows` is empty.
    """

    object_name: str
    total_size: int
    rows: Sequence[Mapping[str, Any]]
    project: Callable[[Mapping[str, Any]], dict[str, Any]]
    is_count: bool = False


class SoqlError(Exception):
    """A query Salesforce would refuse: `error_code` is its errorCode (MALFORMED_QUERY,
    INVALID_FIELD, INVALID_TYPE, INVALID_QUERY_FILTER_OPERATOR, …) and the HTTP status is 400."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
