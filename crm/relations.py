"""The links between mirrored records, discovered from the `<rel>` + `<rel>_remote_id` pairs.

Used by the services to resolve links in bulk and to move them when records are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.db import models

from crm.models import MirrorModel


@dataclass(frozen=True)
class Relation:
    model: type[models.Model]  # the row holding the link
    field: str  # the foreign key, e.g. "owner"
    target: type[MirrorModel]

    @property
    def remote_field(self) -> str:
        return f"{self.field}_remote_id"


@cache
def all_relations() -> tuple[Relation, ...]:
    found = []
    for model in apps.get_app_config("crm").get_models():
        names = {f.name for f in model._meta.concrete_fields}
        for field in model._meta.concrete_fields:
            target = field.related_model
            if (
                isinstance(field, models.ForeignKey)
                and isinstance(target, type)
                and issubclass(target, MirrorModel)
                and f"{field.name}_remote_id" in names
            ):
                found.append(Relation(model, field.name, target))
    return tuple(found)


def relations_of(model: type[models.Model]) -> tuple[Relation, ...]:
    """The links held by rows of `model`."""
    return tuple(r for r in all_relations() if r.model is model)


def relations_to(model: type[MirrorModel]) -> tuple[Relation, ...]:
    """The links, held by any crm model, that point to rows of `model`."""
    return tuple(r for r in all_relations() if r.target is model)
