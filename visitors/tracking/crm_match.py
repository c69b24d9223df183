"""The Salesforce match stored on each visitor (`Visitor.crm_contact`, `crm_lead`,
`crm_account`, `crm_owner`, `crm_owner_rule`, `crm_matched_at`).

`visitor_crm_match_refresh` is the only writer of these columns. It stores exactly what
`visitors.tracking.selectors.visitors_in_crm` answers (email then phone, a converted lead
with the contact it became, the account of the contact else of the company's domain, the
owner by the owner chain of `crm.owners` and the rule that chose them), so segment filters,
pages and alerts agree. It runs when a visitor is identified or merged
(`visitors.tracking.people`), after a read sync changed the mirror
(`crm.signals.crm_mirror_changed` → `visitors.tracking.tasks.crm_match_refresh`, which walks
a large tenant in time-boxed chunks, each task handing the rest to the next), and from the
`visitor_crm_match` command for backfills.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from salesmonk.tenants.models import Tenant
from visitors.models import Visitor
from visitors.tracking.selectors import visitors_in_crm

BATCH_SIZE = 1000
MATCH_FIELDS = ("crm_contact_id", "crm_lead_id", "crm_account_id", "crm_owner_id", "crm_owner_rule")
_INPUTS = ("email", "phone", "company_id")


@dataclass(frozen=True)
class MatchRefreshed:
    """How far a time-boxed refresh got: rows written, and the last visitor id it finished
    (`resume_after`), or None when it reached the tenant's last visitor."""

    written: int
    resume_after: uuid.UUID | None


def visitor_crm_match_refresh(
    *, tenant: Tenant, visitor_ids: Iterable[uuid.UUID] | None = None
) -> int:
    """Recompute the stored match of the tenant's unmerged visitors (all of them, or those
    in `visitor_ids`) in batches of `BATCH_SIZE`, walking by id. Only rows whose match
    changed, or that were never computed, are written. Returns how many were written."""
    wanted = None if visitor_ids is None else sorted(set(visitor_ids))
    if wanted is not None and not wanted:
        return 0
    return _walk(tenant, wanted=wanted, after=None, deadline=None).written


def visitor_crm_match_refresh_for(
    *, tenant: Tenant, after: uuid.UUID | None, seconds: float
) -> MatchRefreshed:
    """`visitor_crm_match_refresh` of all the tenant's visitors past `after`, stopping at
    the first batch boundary after `seconds`: a background task stays within its time
    limit on any tenant, and the next task resumes from `resume_after` (batches are
    committed as they go, so a stopped walk loses nothing)."""
    return _walk(tenant, wanted=None, after=after, deadline=time.monotonic() + seconds)


def _walk(
    tenant: Tenant,
    *,
    wanted: list[uuid.UUID] | None,
    after: uuid.UUID | None,
    deadline: float | None,
) -> MatchRefreshed:
    written = 0
    while True:
        batch = (
            Visitor.objects.for_tenant(tenant)
            .filter(merged_into__isnull=True)
            .select_related("company")
            .only(
                "id",
                "email",
                "phone",
                "company",
                "company__domain",
                *MATCH_FIELDS,
                "crm_matched_at",
            )
            .order_by("id")
        )
        if wanted is not None:
            batch = batch.filter(pk__in=wanted)
        if after is not None:
            batch = batch.filter(pk__gt=after)
        visitors = list(batch[:BATCH_SIZE])
        if not visitors:
            return MatchRefreshed(written=written, resume_after=None)
        written += _write_changed(tenant, visitors)
        after = visitors[-1].pk
        if len(visitors) < BATCH_SIZE:
            return MatchRefreshed(written=written, resume_after=None)
        if deadline is not None and time.monotonic() >= deadline:
            return MatchRefreshed(written=written, resume_after=after)


def _write_changed(tenant: Tenant, visitors: list[Visitor]) -> int:
    matches = visitors_in_crm(tenant=tenant, visitors=visitors, opportunities=False)
    now = timezone.now()
    changed = []
    for visitor in visitors:
        match = matches[visitor.pk]
        values = (
            match.contact.pk if match.contact else None,
            match.lead.pk if match.lead else None,
            match.account.pk if match.account else None,
            match.owner.pk if match.owner else None,
            match.owner_rule.value if match.owner_rule else "",
        )
        current = tuple(getattr(visitor, name) for name in MATCH_FIELDS)
        if values == current and visitor.crm_matched_at is not None:
            continue
        for name, value in zip(MATCH_FIELDS, values, strict=True):
            setattr(visitor, name, value)
        visitor.crm_matched_at = now
        changed.append(visitor)
    if not changed:
        return 0
    with transaction.atomic():
        # A visitor identified or merged since it was read has had its match written by
        # that change: keep it rather than overwrite it with one computed from old inputs.
        still = {
            pk: inputs
            for pk, *inputs in Visitor.objects.select_for_update(of=("self",))
            .filter(pk__in=[v.pk for v in changed], merged_into__isnull=True)
            .order_by("pk")
            .values_list("pk", *_INPUTS)
        }
        current = [v for v in changed if still.get(v.pk) == [getattr(v, name) for name in _INPUTS]]
        Visitor.objects.bulk_update(current, [*MATCH_FIELDS, "crm_matched_at"])
    return len(current)
