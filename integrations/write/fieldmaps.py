"""Custom field mappings: a SalesMonk attribute written to a Salesforce field, validated
against the org's describe (the field exists, its type can hold the value, and Salesforce
lets us write it), with a sync rule. Also the built-in SalesMonk custom fields, and which
of them an org lacks (those are skipped, never fail a write)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from integrations.write.models import FieldMapping, SyncRule
from salesmonk.tenants.models import Tenant, User
from salesmonk.tenants.services import audit_record

# attribute -> the kind of value it holds
ATTRIBUTES: dict[str, str] = {
    "first_name": "text",
    "last_name": "text",
    "email": "email",
    "phone": "phone",
    "company_name": "text",
    "company_domain": "text",
    "visitor_url": "url",
    "company_url": "url",
    "first_seen_at": "datetime",
    "last_seen_at": "datetime",
    "total_sessions": "number",
    "total_events": "number",
    "utm_campaign": "text",
    "utm_content": "text",
    "utm_medium": "text",
    "utm_source": "text",
}
# Salesforce field types that can hold each kind of value.
COMPATIBLE: dict[str, set[str]] = {
    "text": {"string", "textarea", "picklist", "combobox"},
    "email": {"email", "string", "textarea"},
    "phone": {"phone", "string", "textarea"},
    "url": {"url", "string", "textarea"},
    "datetime": {"datetime", "date", "string"},
    "number": {"double", "int", "long", "currency", "percent", "string"},
}

# Built-in SalesMonk fields per object (written whenever the org has them).
SALESMONK_FIELDS: dict[str, tuple[str, ...]] = {
    "Account": ("SalesMonk_Created__c", "SalesMonk_Company__c", "SalesMonk_Domain__c"),
    "Contact": (
        "SalesMonk_Created__c",
        "SalesMonk_Contact__c",
        "SalesMonk_Last_Seen__c",
        "SalesMonk_Total_Sessions__c",
        "SalesMonk_UTM_Campaign__c",
        "SalesMonk_UTM_Content__c",
        "SalesMonk_UTM_Medium__c",
        "SalesMonk_UTM_Source__c",
    ),
}
SALESMONK_FIELDS["Lead"] = SALESMONK_FIELDS["Contact"]


class FieldMappingError(ValueError):
    """The mapping cannot work in this org; the message says why, for support staff."""


@dataclass(frozen=True)
class Mapping:
    attribute: str
    sf_field: str
    rule: str


def missing_salesmonk_fields(describes: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Per object, the SalesMonk custom fields the org does not have (skipped on writes)."""
    out = {}
    for obj, names in SALESMONK_FIELDS.items():
        have = {f["name"] for f in describes[obj]["fields"]}
        if missing := [n for n in names if n not in have]:
            out[obj] = missing
    return out


def field_mapping_validate(
    *, object_name: str, attribute: str, sf_field: str, rule: str, describe: dict[str, Any]
) -> None:
    if object_name not in ("Account", "Contact", "Lead"):
        raise FieldMappingError(
            f"SalesMonk writes Accounts, Contacts and Leads, not {object_name}."
        )
    if attribute not in ATTRIBUTES:
        raise FieldMappingError(f"Unknown SalesMonk attribute {attribute!r}.")
    if rule not in SyncRule.values:
        raise FieldMappingError(f"Unknown sync rule {rule!r}.")
    fields = {f["name"].lower(): f for f in describe["fields"]}
    field = fields.get(sf_field.lower())
    if field is None:
        raise FieldMappingError(f"{object_name} has no field {sf_field!r} in this org.")
    if not field.get("createable") and not field.get("updateable"):
        raise FieldMappingError(
            f"{object_name}.{field['name']} is read-only in Salesforce (neither createable nor "
            "updateable), so SalesMonk cannot write it."
        )
    kind = ATTRIBUTES[attribute]
    if field["type"] not in COMPATIBLE[kind]:
        raise FieldMappingError(
            f"{object_name}.{field['name']} is a {field['type']} field; {attribute} is a "
            f"{kind} value (compatible: {', '.join(sorted(COMPATIBLE[kind]))})."
        )


def field_mapping_save(
    *,
    tenant: Tenant,
    acting_user: User | None,
    object_name: str,
    attribute: str,
    sf_field: str,
    rule: str,
    describe: dict[str, Any],
) -> FieldMapping:
    """Validate against `describe` (fetched by the caller, outside any transaction), then
    create or replace the mapping of that field, audited."""
    if acting_user is None or not acting_user.is_staff:
        raise FieldMappingError("Only SalesMonk support staff can change field mappings.")
    field_mapping_validate(
        object_name=object_name,
        attribute=attribute,
        sf_field=sf_field,
        rule=rule,
        describe=describe,
    )
    canonical = next(f["name"] for f in describe["fields"] if f["name"].lower() == sf_field.lower())
    with transaction.atomic():
        mapping, _ = FieldMapping.objects.update_or_create(
            tenant=tenant,
            object_name=object_name,
            sf_field=canonical,
            defaults={"attribute": attribute, "rule": rule, "created_by": acting_user},
        )
        audit_record(
            tenant=tenant,
            actor=acting_user,
            action="salesforce.field_mapping_saved",
            target=f"{object_name}.{canonical}",
            data={"attribute": attribute, "rule": rule},
        )
    return mapping


def field_mapping_delete(*, tenant: Tenant, acting_user: User | None, mapping_id: int) -> None:
    if acting_user is None or not acting_user.is_staff:
        raise FieldMappingError("Only SalesMonk support staff can change field mappings.")
    with transaction.atomic():
        mapping = FieldMapping.objects.for_tenant(tenant).get(pk=mapping_id)
        mapping.delete()
        audit_record(
            tenant=tenant,
            actor=acting_user,
            action="salesforce.field_mapping_deleted",
            target=f"{mapping.object_name}.{mapping.sf_field}",
        )


def mappings_for(*, tenant: Tenant) -> dict[str, list[Mapping]]:
    out: dict[str, list[Mapping]] = {"Account": [], "Contact": [], "Lead": []}
    for m in FieldMapping.objects.for_tenant(tenant).exclude(rule=SyncRule.NEVER):
        out[m.object_name].append(Mapping(m.attribute, m.sf_field, m.rule))
    return out
