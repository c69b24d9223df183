"""Saving segments and the tenant's current-customer rule."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.models import CrmUser, Stage
from salesmonk.tenants.models import Tenant, User
from salesmonk.tenants.services import audit_record
from visitors.models import CustomerRule, Segment, SegmentTarget
from visitors.segments.filters import ME, SegmentFilters

MAX_ACCOUNT_TYPES = 50


def segment_filters_check(*, tenant: Tenant, filters: SegmentFilters) -> None:
    """Refuse owner and stage ids that are not the tenant's (they would silently match
    nobody, and must never name another tenant's records)."""
    errors: dict[str, list[str]] = {}
    owners = {i for i in filters.owner_ids if i != ME}
    if owners:
        known = {
            str(pk)
            for pk in CrmUser.objects.for_tenant(tenant)
            .filter(pk__in=owners)
            .values_list("pk", flat=True)
        }
        if unknown := owners - known:
            errors["owner_ids"] = [f"Unknown Salesforce user: {i}." for i in sorted(unknown)]
    if filters.stage_ids:
        stages = set(filters.stage_ids)
        known = {
            str(pk)
            for pk in Stage.objects.for_tenant(tenant)
            .filter(pk__in=stages)
            .values_list("pk", flat=True)
        }
        if unknown := stages - known:
            errors["stage_ids"] = [f"Unknown stage: {i}." for i in sorted(unknown)]
    if errors:
        raise ValidationError(errors)


def _clean(
    *, tenant: Tenant, segment: Segment | None, name: str, target: str, filters: SegmentFilters
) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["A segment needs a name."]})
    if len(name) > Segment._meta.get_field("name").max_length:  # type: ignore[operator]
        raise ValidationError({"name": ["At most 120 characters."]})
    if target not in SegmentTarget.values:
        raise ValidationError({"target": ["Choose visitors or companies."]})
    taken = Segment.objects.for_tenant(tenant).filter(name__iexact=name)
    if segment is not None:
        taken = taken.exclude(pk=segment.pk)
    if taken.exists():
        raise ValidationError({"name": ["A segment with this name already exists."]})
    segment_filters_check(tenant=tenant, filters=filters)
    return name


@transaction.atomic
def segment_create(
    *,
    tenant: Tenant,
    acting_user: User | None,
    name: str,
    target: str = SegmentTarget.VISITORS,
    filters: SegmentFilters,
    exclude_customers: bool = False,
) -> Segment:
    name = _clean(tenant=tenant, segment=None, name=name, target=target, filters=filters)
    segment = Segment.objects.create(
        tenant=tenant,
        name=name,
        target=target,
        filters=filters.to_dict(),
        exclude_customers=exclude_customers,
        created_by=acting_user,
    )
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="segment.created",
        target=name,
        data={"target": target, "filters": segment.filters},
    )
    return segment


@transaction.atomic
def segment_update(
    *,
    tenant: Tenant,
    acting_user: User | None,
    segment: Segment,
    name: str,
    target: str,
    filters: SegmentFilters,
    exclude_customers: bool,
) -> Segment:
    if segment.tenant_id != tenant.pk:
        raise ValueError("The segment belongs to another tenant.")
    segment.name = _clean(tenant=tenant, segment=segment, name=name, target=target, filters=filters)
    segment.target = target
    segment.filters = filters.to_dict()
    segment.exclude_customers = exclude_customers
    segment.save(update_fields=["name", "target", "filters", "exclude_customers", "updated_at"])
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="segment.updated",
        target=segment.name,
        data={"target": target, "filters": segment.filters},
    )
    return segment


@transaction.atomic
def segment_delete(*, tenant: Tenant, acting_user: User | None, segment: Segment) -> None:
    """Delete a segment; alert rules on it go with it (their foreign key cascades)."""
    if segment.tenant_id != tenant.pk:
        raise ValueError("The segment belongs to another tenant.")
    name = segment.name
    segment.delete()
    audit_record(tenant=tenant, actor=acting_user, action="segment.deleted", target=name)


@transaction.atomic
def customer_rule_set(
    *,
    tenant: Tenant,
    acting_user: User | None,
    account_types: Iterable[str],
    won_opportunity: bool,
) -> CustomerRule:
    """Save what makes an account a current customer (one rule per tenant)."""
    types = sorted({t.strip() for t in account_types if t and t.strip()})
    if len(types) > MAX_ACCOUNT_TYPES:
        raise ValidationError({"account_types": [f"At most {MAX_ACCOUNT_TYPES} types."]})
    rule, _ = CustomerRule.objects.update_or_create(
        tenant=tenant,
        defaults={
            "account_types": types,
            "won_opportunity": won_opportunity,
            "updated_by": acting_user,
        },
    )
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="customer_rule.updated",
        data={"account_types": types, "won_opportunity": won_opportunity},
    )
    return rule
