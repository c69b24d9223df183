"""Describe JSON (global and per object) produced from the schema registry."""

from __future__ import annotations

from typing import Any

from salesforce_emulator.soql.types import FieldSchema, ObjectSchema

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "address": "urn:address",
}
_STRINGY = {
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "multipicklist",
    "id",
    "reference",
}


def object_urls(name: str, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{name}"
    return {
        "sobject": base,
        "describe": f"{base}/describe",
        "rowTemplate": f"{base}/{{ID}}",
    }


def global_entry(o: ObjectSchema, version: str) -> dict[str, Any]:
    return {
        "activateable": False,
        "createable": o.createable,
        "custom": o.custom,
        "customSetting": False,
        "deletable": o.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "hasSubtypes": False,
        "isSubtype": False,
        "keyPrefix": o.key_prefix,
        "label": o.label,
        "labelPlural": o.label_plural,
        "layoutable": True,
        "mergeable": o.name in ("Account", "Contact", "Lead"),
        "mruEnabled": True,
        "name": o.name,
        "queryable": o.queryable,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": o.deletable,
        "updateable": o.updateable,
        "urls": object_urls(o.name, version),
    }


def describe_global(objects: list[ObjectSchema], version: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [global_entry(o, version) for o in sorted(objects, key=lambda o: o.name)],
    }


def describe_field(f: FieldSchema) -> dict[str, Any]:
    is_text = f.type in _STRINGY
    numeric = f.type in ("double", "currency", "percent")
    return {
        "aggregatable": f.type not in ("textarea",),
        "autoNumber": False,
        "byteLength": f.length * 3 if is_text else 0,
        "calculated": f.calculated,
        "caseSensitive": False,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": f.default_value if f.type != "picklist" else None,
        "defaultedOnCreate": f.defaulted_on_create,
        "digits": f.precision if f.type == "int" else 0,
        "externalId": f.external_id,
        "filterable": f.type != "textarea",
        "groupable": f.type not in ("textarea", "double", "currency", "percent", "datetime"),
        "idLookup": f.name == "Id" or f.external_id or f.name in ("Email", "Username"),
        "label": f.label,
        "length": f.length if is_text else 0,
        "name": f.name,
        "nameField": f.name == "Name",
        "namePointing": len(f.reference_to) > 1,
        "nillable": f.nillable,
        "permissionable": f.nillable and not f.calculated and f.name != "Id",
        "picklistValues": [
            {
                "active": True,
                "defaultValue": v == f.default_value,
                "label": v,
                "validFor": None,
                "value": v,
            }
            for v in f.picklist_values
        ],
        "polymorphicForeignKey": len(f.reference_to) > 1,
        "precision": f.precision if numeric else 0,
        "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name,
        "restrictedPicklist": f.restricted_picklist,
        "scale": f.scale if numeric else 0,
        "soapType": _SOAP_TYPES.get(f.type, "xsd:string"),
        "sortable": f.type != "textarea",
        "type": f.type,
        "unique": f.unique,
        "updateable": f.updateable,
    }


def describe_object(
    o: ObjectSchema, version: str, children: list[tuple[str, FieldSchema]]
) -> dict[str, Any]:
    """`children` lists (child object, reference field) pairs pointing at `o`."""
    out = global_entry(o, version)
    out.update(
        {
            "childRelationships": [
                {
                    "cascadeDelete": False,
                    "childSObject": child,
                    "deprecatedAndHidden": False,
                    "field": f.name,
                    "relationshipName": _child_relationship_name(child),
                }
                for child, f in children
            ],
            "fields": [describe_field(f) for f in o.fields.values()],
            "recordTypeInfos": [
                {
                    "active": True,
                    "available": True,
                    "defaultRecordTypeMapping": True,
                    "developerName": "Master",
                    "master": True,
                    "name": "Master",
                    "recordTypeId": "012000000000000AAA",
                    "urls": {
                        "layout": f"/services/data/v{version}/sobjects/{o.name}"
                        "/describe/layouts/012000000000000AAA"
                    },
                }
            ],
        }
    )
    return out


_PLURALS = {"Opportunity": "Opportunities", "OpportunityContactRole": "OpportunityContactRoles"}


def _child_relationship_name(child: str) -> str:
    return _PLURALS.get(child, child + "s")


def metadata(o: ObjectSchema, version: str) -> dict[str, Any]:
    """`GET sobjects/<Object>/`: the basic object info simple-salesforce's metadata() reads."""
    return {"objectDescribe": global_entry(o, version), "recentItems": []}
