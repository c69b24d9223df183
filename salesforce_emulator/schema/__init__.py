"""The per-org schema registry: one source for describe, DML validation and SOQL."""

from __future__ import annotations

from salesforce_emulator.schema.custom_fields import install_custom_fields
from salesforce_emulator.schema.standard_objects import standard_objects
from salesforce_emulator.soql.types import ObjectSchema


class OrgSchema:
    """Implements `SchemaLookup`: case-insensitive object lookup over an org's objects."""

    def __init__(self, *, custom_fields: bool) -> None:
        self.objects: dict[str, ObjectSchema] = standard_objects()
        self.custom_fields = custom_fields
        if custom_fields:
            install_custom_fields(self.objects)
        self._by_lower = {name.lower(): o for name, o in self.objects.items()}
        self._by_prefix: dict[str, ObjectSchema] = {}
        for o in self.objects.values():
            self._by_prefix.setdefault(o.key_prefix, o)

    def object_schema(self, name: str) -> ObjectSchema | None:
        return self._by_lower.get(name.lower()) if isinstance(name, str) else None

    def by_prefix(self, prefix: str) -> ObjectSchema | None:
        return self._by_prefix.get(prefix)
