"""In-memory `SchemaLookup` and `RecordSource`, for the engine's tests and quick experiments.

The emulator's real store implements the same two protocols; these stay deliberately tiny
so the engine can be exercised without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .types import ObjectSchema

_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def sfid(prefix: str, number: int) -> str:
    """An 18-character Salesforce id: 3-char prefix, zero-padded number, checksum suffix."""
    base = f"{prefix}{number:012d}"
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(base[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _CHECKSUM[bits]
    return base + suffix


class DictSchema:
    """Objects looked up case-insensitively by name."""

    def __init__(self, objects: Iterable[ObjectSchema]) -> None:
        self._objects = {o.name.lower(): o for o in objects}

    def object_schema(self, name: str) -> ObjectSchema | None:
        return self._objects.get(name.lower())


class ListSource:
    """Rows per object in insertion order, plus an id index for parent lookups."""

    def __init__(self, rows: Mapping[str, list[dict[str, Any]]] | None = None) -> None:
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._by_id: dict[str, dict[str, Any]] = {}
        for name, items in (rows or {}).items():
            for row in items:
                self.add(name, row)

    def add(self, object_name: str, row: dict[str, Any]) -> dict[str, Any]:
        row.setdefault("IsDeleted", False)
        self._rows.setdefault(object_name.lower(), []).append(row)
        self._by_id[row["Id"][:15]] = row
        return row

    def scan(self, object_name: str) -> Iterable[Mapping[str, Any]]:
        return self._rows.get(object_name.lower(), [])

    def get(self, record_id: str) -> Mapping[str, Any] | None:
        return self._by_id.get(record_id[:15])
