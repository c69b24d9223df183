"""Small constructors that keep the declarative object definitions readable."""

from __future__ import annotations

from dataclasses import replace

from salesforce_emulator.soql.types import FieldSchema


def _label(name: str) -> str:
    base = name.removesuffix("__c").removesuffix("Id") if name != "Id" else "Id"
    out = []
    for i, ch in enumerate(base):
        if ch.isupper() and i and not base[i - 1].isupper():
            out.append(" ")
        out.append(ch)
    return "".join(out).replace("_", " ").strip() or name


def text(name: str, length: int = 255, **kw) -> FieldSchema:
    return FieldSchema(
        name=name, label=kw.pop("label", _label(name)), type="string", length=length, **kw
    )


def textarea(name: str, length: int = 32000, **kw) -> FieldSchema:
    return FieldSchema(
        name=name, label=kw.pop("label", _label(name)), type="textarea", length=length, **kw
    )


def email(name: str = "Email", **kw) -> FieldSchema:
    return FieldSchema(
        name=name, label=kw.pop("label", _label(name)), type="email", length=80, **kw
    )


def phone(name: str, **kw) -> FieldSchema:
    return FieldSchema(
        name=name, label=kw.pop("label", _label(name)), type="phone", length=40, **kw
    )


def url(name: str, length: int = 255, **kw) -> FieldSchema:
    return FieldSchema(
        name=name, label=kw.pop("label", _label(name)), type="url", length=length, **kw
    )


def boolean(name: str, default: bool = False, **kw) -> FieldSchema:
    return FieldSchema(
        name=name,
        label=kw.pop("label", _label(name)),
        type="boolean",
        nillable=False,
        defaulted_on_create=True,
        default_value=default,
        **kw,
    )


def integer(name: str, digits: int = 9, **kw) -> FieldSchema:
    return FieldSchema(
        name=name, label=kw.pop("label", _label(name)), type="int", precision=digits, **kw
    )


def number(
    name: str, precision: int = 18, scale: int = 0, kind: str = "double", **kw
) -> FieldSchema:
    return FieldSchema(
        name=name,
        label=kw.pop("label", _label(name)),
        type=kind,
        precision=precision,
        scale=scale,
        **kw,
    )


def date(name: str, **kw) -> FieldSchema:
    return FieldSchema(name=name, label=kw.pop("label", _label(name)), type="date", **kw)


def datetime(name: str, **kw) -> FieldSchema:
    return FieldSchema(name=name, label=kw.pop("label", _label(name)), type="datetime", **kw)


def ref(name: str, *to: str, rel: str | None = None, **kw) -> FieldSchema:
    return FieldSchema(
        name=name,
        label=kw.pop("label", _label(name) + " ID"),
        type="reference",
        length=18,
        reference_to=tuple(to),
        relationship_name=rel if rel is not None else name.removesuffix("Id"),
        **kw,
    )


def pick(
    name: str, values: tuple[str, ...], default: str | None = None, restricted: bool = False, **kw
) -> FieldSchema:
    return FieldSchema(
        name=name,
        label=kw.pop("label", _label(name)),
        type="picklist",
        length=255,
        picklist_values=values,
        restricted_picklist=restricted,
        default_value=default,
        defaulted_on_create=default is not None,
        **kw,
    )


def ro(f: FieldSchema) -> FieldSchema:
    """Read-only: neither createable nor updateable (system and derived fields)."""
    return replace(f, createable=False, updateable=False)


def required(f: FieldSchema) -> FieldSchema:
    return replace(f, nillable=False)


def system_fields() -> list[FieldSchema]:
    """The audit fields every object carries, all read-only."""
    return [
        FieldSchema(
            name="Id",
            label="Record ID",
            type="id",
            length=18,
            createable=False,
            updateable=False,
            nillable=False,
            defaulted_on_create=True,
        ),
        ro(boolean("IsDeleted", label="Deleted")),
        ro(required(datetime("CreatedDate", label="Created Date", defaulted_on_create=True))),
        ro(
            required(
                ref(
                    "CreatedById",
                    "User",
                    rel="CreatedBy",
                    label="Created By ID",
                    defaulted_on_create=True,
                )
            )
        ),
        ro(
            required(
                datetime("LastModifiedDate", label="Last Modified Date", defaulted_on_create=True)
            )
        ),
        ro(
            required(
                ref(
                    "LastModifiedById",
                    "User",
                    rel="LastModifiedBy",
                    label="Last Modified By ID",
                    defaulted_on_create=True,
                )
            )
        ),
        ro(required(datetime("SystemModstamp", label="System Modstamp", defaulted_on_create=True))),
    ]
