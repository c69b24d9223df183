"""Lost answers: write-log rows left SENT by a run that never heard back (a crash, a kill,
a timeout, a 5xx), settled by the next drain so no row stays in doubt.

A create is looked up by what makes it ours — a Lead by its email or phone, an Account by
its `SalesMonk_Domain__c` external id or Website, an Event or Note by the marker in its
Subject/Title — in the same batched lookups the drain uses. Found: the row is *reconciled*
with the record's Id and the record is mirrored as created by SalesMonk (the drain then
updates it, never creates it twice). Absent: *reconciled* as not created; the intent, still
pending, writes it again. An update is safe to repeat, so it is reconciled as such and sent
again with the intent's next attempt.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction

from crm import services as crm_services
from crm.models import Account, Lead
from integrations.salesforce.client import SalesforceClient
from integrations.write.lookup import Found, build_queries, run_queries
from integrations.write.models import WriteLog, WriteResult, WriteRun
from salesmonk.tenants.models import Tenant

LOST_ANSWERS_PER_RUN = 2000
MIRROR_MODELS: dict[str, Any] = {"Account": Account, "Lead": Lead}
FOUND = "The answer was lost; Salesforce has the record (found by {how}), so it is ours."
ABSENT = "The answer was lost and Salesforce has no such record: it is written again."
REPEATED = "The answer was lost; an update is safe to repeat, so it is sent again."


def lost_answers_reconcile(*, tenant: Tenant, client: SalesforceClient, run: WriteRun) -> int:
    """Settle the tenant's SENT rows of earlier runs (the caller holds the drain's claim,
    so no other run is waiting for an answer). Returns how many rows it settled."""
    logs = list(
        WriteLog.objects.for_tenant(tenant)
        .filter(result=WriteResult.SENT)
        .exclude(run=run)
        .order_by("-id")[:LOST_ANSWERS_PER_RUN]
    )
    if not logs:
        return 0
    found = _lookup(tenant, client, [e for e in logs if e.operation in ("create", "upsert")])
    mirror: dict[str, list[dict[str, Any]]] = defaultdict(list)
    claimed: set[tuple[str, str]] = set()  # a record two crashed runs created is ours once
    for entry in logs:  # newest first
        entry.result = WriteResult.RECONCILED
        if entry.operation not in ("create", "upsert"):
            entry.error = REPEATED
            continue
        remote_id, how = _found(entry, found)
        if not remote_id or (entry.object_name, remote_id) in claimed:
            entry.error = ABSENT if not remote_id else FOUND.format(how=how) + " (logged once)"
            continue
        claimed.add((entry.object_name, remote_id))
        entry.remote_id, entry.error = remote_id, FOUND.format(how=how)
        if entry.object_name in MIRROR_MODELS:
            mirror[entry.object_name].append({**created_mirror(entry), "remote_id": remote_id})
    with transaction.atomic():
        WriteLog.objects.bulk_update(logs, ["result", "remote_id", "error"])
        for obj, rows in mirror.items():
            crm_services.mirror_upsert(tenant=tenant, model=MIRROR_MODELS[obj], rows=rows)
    return len(logs)


def _lookup(tenant: Tenant, client: SalesforceClient, creates: list[WriteLog]) -> Found:
    emails, phones, domains, subjects, titles = set(), set(), set(), set(), set()
    for entry in creates:
        sent = entry.fields_after or {}
        if entry.object_name == "Lead":
            if sent.get("Email"):
                emails.add(sent["Email"])
            elif sent.get("Phone"):
                phones.add(sent["Phone"])
        elif entry.object_name == "Account":
            domains.add(entry.key.removeprefix("domain:"))
        elif entry.object_name == "Event" and sent.get("Subject"):
            subjects.add(sent["Subject"])
        elif entry.object_name == "Note" and sent.get("Title"):
            titles.add(sent["Title"])
    if not (emails or phones or domains or subjects or titles):
        return Found()
    account_fields = client.describe_many(["Account"])["Account"]["fields"]
    has_domain_field = any(f["name"] == "SalesMonk_Domain__c" for f in account_fields)
    queries = build_queries(
        tenant=tenant,
        emails=emails,
        phones=phones,
        domains=domains,
        chat_emails=set(),
        person_fields={"Contact": [], "Lead": []},
        account_fields=["SalesMonk_Domain__c"] if has_domain_field else [],
        has_domain_field=has_domain_field,
        event_subjects=subjects,
        note_titles=titles,
    )
    return run_queries(client, queries)


def _found(entry: WriteLog, found: Found) -> tuple[str, str]:
    """The Id of the record this create made, if Salesforce has it, and how we know."""
    sent = entry.fields_after or {}
    if entry.object_name == "Lead":
        match = found.person(sent.get("Email") or "", sent.get("Phone") or "")
        if match is not None and match[0] == "Lead":
            return match[1]["Id"], "email" if sent.get("Email") else "phone"
    elif entry.object_name == "Account":
        record = found.account(entry.key.removeprefix("domain:"))
        if record is not None:
            return record["Id"], "domain"
    elif entry.object_name == "Event":
        if remote_id := found.events.get(sent.get("Subject") or ""):
            return remote_id, "the SalesMonk marker in its Subject"
    elif entry.object_name == "Note":
        parent = sent.get("ParentId") or ""
        title = sent.get("Title") or ""
        for (parent_id, note_title), remote_id in found.notes.items():
            if note_title == title and (not parent or parent_id == parent):
                return remote_id, "the SalesMonk marker in its Title"
    return "", ""


def created_mirror(entry: WriteLog) -> dict[str, Any]:
    """The mirror row of a record we created, from what its log says we sent."""
    f = entry.fields_after or {}
    if entry.object_name == "Account":
        domain = entry.key.removeprefix("domain:")
        return {
            "name": f.get("Name") or domain,
            "website": f.get("Website") or domain,
            "domain": domain,
            "owner_remote_id": f.get("OwnerId") or "",
            "created_by_salesmonk": True,
        }
    return {
        "first_name": f.get("FirstName") or "",
        "last_name": f.get("LastName") or "",
        "email": f.get("Email") or "",
        "phone": f.get("Phone") or "",
        "company": f.get("Company") or "",
        "lead_source": f.get("LeadSource") or "",
        "owner_remote_id": f.get("OwnerId") or "",
        "created_by_salesmonk": True,
    }
