"""What a sales rep does in the Salesforce UI, for the control API: convert, merge, reassign.

None of these exist as standard REST resources; SalesMonk only sees their effects by polling.
"""

from __future__ import annotations

from typing import Any

from salesforce_emulator import dml
from salesforce_emulator.dml import DmlContext
from salesforce_emulator.errors import DmlError
from salesforce_emulator.org import Org
from salesforce_emulator.schema.standard_objects import LEAD_STATUSES, OPPORTUNITY_STAGES

_ADDRESS = (
    ("Street", "Street"),
    ("City", "City"),
    ("State", "State"),
    ("PostalCode", "PostalCode"),
    ("Country", "Country"),
)
_ACCOUNT_MAP = [
    ("Company", "Name"),
    ("Website", "Website"),
    ("Phone", "Phone"),
    ("Industry", "Industry"),
    ("AnnualRevenue", "AnnualRevenue"),
    ("NumberOfEmployees", "NumberOfEmployees"),
    ("LeadSource", "AccountSource"),
    ("Rating", "Rating"),
] + [(a, "Billing" + b) for a, b in _ADDRESS]
_CONTACT_MAP = [
    ("FirstName", "FirstName"),
    ("LastName", "LastName"),
    ("Salutation", "Salutation"),
    ("Email", "Email"),
    ("Phone", "Phone"),
    ("MobilePhone", "MobilePhone"),
    ("Title", "Title"),
    ("LeadSource", "LeadSource"),
    ("DoNotCall", "DoNotCall"),
    ("HasOptedOutOfEmail", "HasOptedOutOfEmail"),
    ("Description", "Description"),
] + [(a, "Mailing" + b) for a, b in _ADDRESS]


def _mapped(
    org: Org,
    lead: dict[str, Any],
    target: str,
    pairs: list[tuple[str, str]],
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    """Lead values for `target`; when merging into `existing`, only into its empty fields."""
    pairs = list(pairs)
    obj = org.schema.objects[target]
    for name in org.schema.objects["Lead"].fields:
        if name.endswith("__c") and name in obj.fields:
            pairs.append((name, name))
    out = {}
    for src, dst in pairs:
        value = lead.get(src)
        if value in (None, "", False):
            continue
        if existing is not None and existing.get(dst) not in (None, "", False):
            continue
        out[dst] = value
    return out


def convert_lead(
    org: Org, lead_id: str, ctx: DmlContext, options: dict[str, Any]
) -> dict[str, Any]:
    """Convert a lead: Account (new or given), Contact (new or given), optional Opportunity
    with a primary OpportunityContactRole; the lead becomes IsConverted with Converted*Id."""
    with org.lock:
        mark = org.store.begin()
        ok = False
        try:
            result = _convert(org, lead_id, ctx, options)
            ok = True
            return result
        finally:
            org.store.finish(mark, ok)


def _convert(org: Org, lead_id: str, ctx: DmlContext, options: dict[str, Any]) -> dict[str, Any]:
    _, lead = dml.live_row(org, org.schema.objects["Lead"], lead_id)
    if lead.get("IsConverted"):
        raise DmlError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
    owner = lead.get("OwnerId") if str(lead.get("OwnerId", "")).startswith("005") else ctx.user_id
    account_id = options.get("accountId")
    if account_id:
        _, account = dml.live_row(org, org.schema.objects["Account"], account_id)
        values = _mapped(org, lead, "Account", _ACCOUNT_MAP, account)
        if values:
            dml.update(org, "Account", account["Id"], values, ctx)
        account_id = account["Id"]
    else:
        values = _mapped(org, lead, "Account", _ACCOUNT_MAP, None)
        account_id = dml.create(org, "Account", dict(values, OwnerId=owner), ctx)
    contact_id = options.get("contactId")
    if contact_id:
        _, contact = dml.live_row(org, org.schema.objects["Contact"], contact_id)
        values = _mapped(org, lead, "Contact", _CONTACT_MAP, contact)
        if not contact.get("AccountId"):
            values["AccountId"] = account_id
        if values:
            dml.update(org, "Contact", contact["Id"], values, dml_ctx_allowing(ctx))
        contact_id = contact["Id"]
    else:
        values = _mapped(org, lead, "Contact", _CONTACT_MAP, None)
        values.update(AccountId=account_id, OwnerId=owner)
        contact_id = dml.create(org, "Contact", values, dml_ctx_allowing(ctx))
    opportunity_id = None
    if options.get("createOpportunity"):
        opportunity_id = dml.create(
            org,
            "Opportunity",
            {
                "Name": options.get("opportunityName") or f"{lead.get('Company')}-",
                "AccountId": account_id,
                "StageName": OPPORTUNITY_STAGES[0][0],
                "CloseDate": org.clock.today(),
                "LeadSource": lead.get("LeadSource"),
                "OwnerId": owner,
            },
            ctx,
        )
        dml.create(
            org,
            "OpportunityContactRole",
            {"OpportunityId": opportunity_id, "ContactId": contact_id, "IsPrimary": True},
            ctx,
        )
    status = options.get("convertedStatus") or next(s[0] for s in LEAD_STATUSES if s[1])
    for aid in list(org.store.activities.get(lead["Id"], ())):
        activity = org.store.rows[aid]
        obj = org.store.object_of(aid)
        moved = dict(activity, WhoId=contact_id)
        if not moved.get("WhatId"):
            moved["WhatId"] = opportunity_id or account_id
        org.store.put(obj, moved)
    dml.refresh_last_activity(
        org, [contact_id, account_id] + ([opportunity_id] if opportunity_id else []), ctx
    )
    converted = dict(
        org.store.rows[lead["Id"]],
        IsConverted=True,
        ConvertedDate=org.clock.today(),
        ConvertedAccountId=account_id,
        ConvertedContactId=contact_id,
        ConvertedOpportunityId=opportunity_id,
        Status=status,
    )
    now = org.clock.stamp()
    converted.update(LastModifiedDate=now, SystemModstamp=now, LastModifiedById=ctx.user_id)
    org.store.put("Lead", converted)
    return {
        "leadId": lead["Id"],
        "accountId": account_id,
        "contactId": contact_id,
        "opportunityId": opportunity_id,
        "success": True,
    }


def dml_ctx_allowing(ctx: DmlContext) -> DmlContext:
    """Conversion itself never trips the duplicate rule (the lead is the duplicate)."""
    return DmlContext(ctx.user_id, allow_duplicates=True, version=ctx.version)


def merge(
    org: Org,
    object_name: str,
    master_id: str,
    loser_ids: list[str],
    ctx: DmlContext,
) -> dict[str, Any]:
    """Merge up to two losers into a master: children re-parented, losers deleted with
    MasterRecordId set (as the UI's merge does)."""
    obj = dml.object_or_404(org, object_name)
    if obj.name not in ("Account", "Contact", "Lead"):
        raise DmlError("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be merged: {obj.name}")
    with org.lock:
        mark = org.store.begin()
        ok = False
        try:
            _, master = dml.live_row(org, obj, master_id)
            losers = [dml.live_row(org, obj, lid)[1]["Id"] for lid in loser_ids]
            loser_set = set(losers)
            reparented = 0
            for child in org.schema.objects.values():
                refs = [
                    f.name
                    for f in child.fields.values()
                    if obj.name in f.reference_to
                    and f.name not in ("MasterRecordId", "CreatedById", "LastModifiedById")
                ]
                if not refs:
                    continue
                for row in list(org.store.scan(child.name)):
                    hits = {f: master["Id"] for f in refs if row.get(f) in loser_set}
                    if hits:
                        new = dict(row, **hits)
                        now = org.clock.stamp()
                        new.update(SystemModstamp=now, LastModifiedDate=now)
                        org.store.put(child.name, new)
                        reparented += 1
            for lid in losers:
                loser = dict(org.store.rows[lid], MasterRecordId=master["Id"])
                org.store.put(obj.name, loser)
                dml.delete(org, obj.name, lid, ctx)
            dml.update(
                org, obj.name, master["Id"], {}, ctx
            ) if obj.name != "Lead" or not master.get("IsConverted") else None
            dml.refresh_last_activity(org, [master["Id"]], ctx)
            ok = True
        finally:
            org.store.finish(mark, ok)
    return {
        "id": master["Id"],
        "mergedRecordIds": losers,
        "updatedRelatedIds": reparented,
        "success": True,
    }


def reassign(org: Org, ids: list[str], owner_id: str, ctx: DmlContext) -> list[str]:
    """Change OwnerId as a rep would (queue owners allowed where the object permits them)."""
    done = []
    with org.lock:
        for rid in ids:
            obj, _ = dml.live_row(org, None, rid)
            done.append(dml.update(org, obj.name, rid, {"OwnerId": owner_id}, ctx))
    return done
