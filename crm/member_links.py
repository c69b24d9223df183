"""Which mirrored Salesforce user each member is, and each member's Slack id.

Writes: `member_links_auto_match` links members to mirrored users with the same email
(case-insensitive, active users preferred) and leaves manual choices alone;
`member_settings_update` is an owner's or admin's choice on Settings → Members.
Reads: `member_mapping_list` for that page; `member_for_crm_users` and
`crm_user_ids_for_member` for alerts ("notify the owner") and "owned by me" segments.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from crm.models import CrmUser, MemberLink
from salesmonk.tenants.models import Membership, Tenant, User
from salesmonk.tenants.services import audit_record

# Slack member ids: U… for people of the workspace, W… for Enterprise Grid members.
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{6,20}$")


def slack_user_id_clean(value: str) -> str:
    """Normalize and validate a Slack member id; blank means "no id" (alerts name the owner
    in text instead of mentioning them)."""
    cleaned = value.strip().upper()
    if cleaned and not SLACK_USER_ID.match(cleaned):
        raise ValidationError(
            "A Slack member ID looks like U0123ABCD (or W… on Enterprise Grid): in Slack, "
            "open the person's profile, ⋮ → Copy member ID."
        )
    return cleaned


# --- services ----------------------------------------------------------------------------


def _best_users_by_email(tenant: Tenant, emails: Iterable[str]) -> dict[str, uuid.UUID]:
    """Lower-cased email → the mirrored user to link: active before inactive, then a stable
    order, so two runs agree."""
    rows = (
        CrmUser.objects.for_tenant(tenant)
        .filter(remote_was_deleted=False)
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=set(emails))
        .order_by("-is_active", "remote_id")
        .values_list("email_lower", "id")
    )
    best: dict[str, uuid.UUID] = {}
    for email, user_id in rows:
        best.setdefault(email, user_id)
    return best


def member_links_auto_match(*, tenant: Tenant) -> int:
    """Link every member without a manual choice to the mirrored user with their email
    (or to nobody when there is none any more). Returns how many links it wrote.

    Three queries whatever the team size; safe to run concurrently and after every sync."""
    members = list(
        Membership.objects.filter(tenant=tenant).select_related("user", "salesforce_link")
    )
    automatic = [(m, link) for m in members if not (link := _link(m)) or not link.is_manual]
    best = _best_users_by_email(tenant, (m.user.email.lower() for m, _ in automatic))
    to_create: list[MemberLink] = []
    to_change: dict[int, uuid.UUID | None] = {}
    for m, link in automatic:
        target = best.get(m.user.email.lower())
        if link is None:
            if target is not None:
                to_create.append(MemberLink(tenant=tenant, membership=m, user_id=target))
        elif link.user_id != target:
            to_change[link.pk] = target
    if not to_create and not to_change:
        return 0
    with transaction.atomic():
        # A manual choice made meanwhile wins: inserts of existing links are ignored and
        # updates skip rows that became manual.
        created = MemberLink.objects.bulk_create(to_create, ignore_conflicts=True)
        changed = 0
        if to_change:
            changed = (
                MemberLink.objects.for_tenant(tenant)
                .filter(pk__in=to_change, is_manual=False)
                .update(
                    user_id=Case(
                        *(When(pk=pk, then=Value(uid)) for pk, uid in to_change.items()),
                        output_field=models.UUIDField(null=True),
                    ),
                    updated_at=timezone.now(),
                )
            )
    return len(created) + changed


def _link(membership: Membership) -> MemberLink | None:
    try:
        return membership.salesforce_link  # type: ignore[attr-defined, no-any-return]
    except MemberLink.DoesNotExist:
        return None


def member_settings_update(
    *,
    tenant: Tenant,
    acting_user: User | None,
    membership: Membership,
    automatic: bool,
    crm_user: CrmUser | None,
    slack_user_id: str,
) -> Membership:
    """Set who `membership` is in Salesforce and their Slack id.

    `automatic=True` hands the link back to email matching; otherwise `crm_user` (None:
    "not in Salesforce") is saved as a manual choice that auto-matching never overwrites."""
    if membership.tenant_id != tenant.pk:
        raise ValidationError("That member is not in this workspace.")
    if crm_user is not None and (
        crm_user.tenant_id != tenant.pk or crm_user.remote_was_deleted or not crm_user.is_active
    ):
        raise ValidationError("Choose an active Salesforce user of this workspace.")
    slack_id = slack_user_id_clean(slack_user_id)
    with transaction.atomic():
        if automatic:
            MemberLink.objects.for_tenant(tenant).filter(membership=membership).delete()
        else:
            MemberLink.objects.update_or_create(
                membership=membership,
                defaults={"tenant": tenant, "user": crm_user, "is_manual": True},
            )
        if membership.slack_user_id != slack_id:
            membership.slack_user_id = slack_id
            membership.save(update_fields=["slack_user_id"])
        audit_record(
            tenant=tenant,
            actor=acting_user,
            action="member.salesforce_user_set",
            target=membership.user.email,
            data={
                "automatic": automatic,
                "crm_user_remote_id": crm_user.remote_id if crm_user else None,
                "slack_user_id": slack_id,
            },
        )
    if automatic:
        member_links_auto_match(tenant=tenant)
    return membership


# --- selectors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberMapping:
    membership: Membership
    crm_user: CrmUser | None
    is_manual: bool

    @property
    def is_matched(self) -> bool:
        return self.crm_user is not None or self.is_manual


def members_unmatched_exist(*, tenant: Tenant) -> bool:
    """One query: is any member without a decided Salesforce user (no link, or an automatic
    link to nobody, to a deleted or to an inactive user)?"""
    automatic = Q(salesforce_link__is_manual=False) & (
        Q(salesforce_link__user__isnull=True)
        | Q(salesforce_link__user__remote_was_deleted=True)
        | Q(salesforce_link__user__is_active=False)
    )
    return (
        Membership.objects.filter(tenant=tenant)
        .filter(Q(salesforce_link__isnull=True) | automatic)
        .exists()
    )


def member_mapping_list(*, tenant: Tenant) -> list[MemberMapping]:
    """The team with the Salesforce user each member is, in one query."""
    members = (
        Membership.objects.filter(tenant=tenant)
        .select_related("user", "salesforce_link__user")
        .order_by("created_at", "id")
    )
    rows = []
    for m in members:
        link = _link(m)
        user = link.user if link and link.user and not link.user.remote_was_deleted else None
        rows.append(
            MemberMapping(membership=m, crm_user=user, is_manual=bool(link and link.is_manual))
        )
    return rows


def mapping_user_choices(*, tenant: Tenant) -> list[CrmUser]:
    """The mirrored users a member can be: active, not deleted, by name."""
    return list(
        CrmUser.objects.for_tenant(tenant)
        .filter(remote_was_deleted=False, is_active=True)
        .only("id", "name", "email", "remote_id")
        .order_by("name", "email", "remote_id")
    )


def member_for_crm_users(
    *, tenant: Tenant, user_ids: Iterable[uuid.UUID | str], with_slack_id: bool = False
) -> dict[uuid.UUID, Membership]:
    """Mirrored user id → the member who is that user (with `.user` loaded), in one query.
    When several members chose the same user, a manual choice wins, then the oldest member;
    `with_slack_id` considers only members who set a Slack member ID (alert mentions)."""
    ids = {uuid.UUID(str(i)) for i in user_ids}
    if not ids:
        return {}
    links = (
        MemberLink.objects.for_tenant(tenant)
        .filter(user_id__in=ids)
        .select_related("membership__user")
        .order_by("-is_manual", "membership__created_at", "pk")
    )
    if with_slack_id:
        links = links.exclude(membership__slack_user_id="")
    found: dict[uuid.UUID, Membership] = {}
    for link in links:
        found.setdefault(link.user_id, link.membership)
    return found


def crm_user_ids_for_member(*, tenant: Tenant, membership: Membership) -> list[uuid.UUID]:
    """The mirrored users `membership` is (empty when none): filter records with
    `owner_id__in=` for "owned by me"."""
    return list(
        MemberLink.objects.for_tenant(tenant)
        .filter(membership=membership, user__isnull=False)
        .values_list("user_id", flat=True)
    )
