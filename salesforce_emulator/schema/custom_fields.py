"""SalesMonk's custom fields, installed on an org only when it is created with them."""

from __future__ import annotations

from salesforce_emulator.schema.fields import boolean, datetime, number, text, url
from salesforce_emulator.soql.types import FieldSchema, ObjectSchema


def _c(f: FieldSchema) -> FieldSchema:
    from dataclasses import replace

    return replace(f, custom=True)


def _person_fields() -> list[FieldSchema]:
    return [
        _c(boolean("SalesMonk_Created__c", label="SalesMonk Created")),
        _c(url("SalesMonk_Contact__c", label="SalesMonk Contact")),
        _c(datetime("SalesMonk_Last_Seen__c", label="SalesMonk Last Seen")),
        _c(number("SalesMonk_Total_Sessions__c", 18, 0, label="SalesMonk Total Sessions")),
        _c(text("SalesMonk_UTM_Campaign__c", 255, label="SalesMonk UTM Campaign")),
        _c(text("SalesMonk_UTM_Content__c", 255, label="SalesMonk UTM Content")),
        _c(text("SalesMonk_UTM_Medium__c", 255, label="SalesMonk UTM Medium")),
        _c(text("SalesMonk_UTM_Source__c", 255, label="SalesMonk UTM Source")),
    ]


CUSTOM_FIELDS: dict[str, list[FieldSchema]] = {
    "Account": [
        _c(boolean("SalesMonk_Created__c", label="SalesMonk Created")),
        _c(url("SalesMonk_Company__c", label="SalesMonk Company")),
        _c(
            text(
                "SalesMonk_Domain__c", 255, label="SalesMonk Domain", external_id=True, unique=True
            )
        ),
    ],
    "Contact": _person_fields(),
    "Lead": _person_fields(),
}


def install_custom_fields(objects: dict[str, ObjectSchema]) -> None:
    for object_name, fields in CUSTOM_FIELDS.items():
        for f in fields:
            objects[object_name].add_field(f)
