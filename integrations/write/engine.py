"""The write sync: drain a tenant's write intents into Salesforce, frugally and exactly once.

Per batch of visitors: one describe call (cached), the dedupe lookups (five `IN` queries a
call), then the writes as sObject collections of ≤ 200 records, five collections a composite
call. Records that depend on a record created in the batch (an Event on a new Lead) go in a
later call, once its id is known.

Exactly once, whatever crashes where:
- every record is logged as SENT before its call and settled after it, in short
  transactions with no Salesforce call inside;
- intents are marked done only after their writes are settled, so a crash leaves them
  pending and the next run starts from a fresh lookup: a Lead created before the crash is
  found by email and updated, an Account is upserted on its `SalesMonk_Domain__c` external
  id (or found by Website), and an Event or Note with a SENT log is looked up by the
  marker in its Subject/Title before anything is created again.
- before every write call the policy is read again: writes disabled mid-run stop at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm import services as crm_services
from crm.models import Account, Contact, CrmUser, Lead
from integrations.claims import Claim, Heartbeat
from integrations.models import ConnectionStatus, SalesforceConnection
from integrations.salesforce.client import (
    ApiBudgetExhausted,
    SalesforceAuthError,
    SalesforceClient,
    SalesforceError,
    SalesforceRequestError,
    TenantBudgetExhausted,
)
from integrations.write.fieldmaps import mappings_for
from integrations.write.lookup import Found, build_queries, run_queries
from integrations.write.models import WriteLog, WriteResult, WriteRun, WriteRunStatus, WriteSettings
from integrations.write.plan import (
    Context,
    Op,
    build_ops,
    subject_for,
    title_for,
)
from integrations.write.policy import enabled_flags, write_settings_for
from integrations.write.reconcile import lost_answers_reconcile
from integrations.write.runs import heartbeat_seconds, runs_abandon, write_claim_ttl
from integrations.write.source import Work, dry_run_work, intents_settle, pending_work
from salesmonk.tenants.models import Tenant
from visitors.models import IntentKind

log = logging.getLogger(__name__)

# A backfill of 10,000 people is one batch: one set of lookups and full collections, so it
# costs the composite floor (a batch of 1,000 cost twice that: each paid its own lookups).
BATCH_VISITORS = 10_000
MAX_BATCHES = 5
# A dry run previews the next visitors only, and stores its plan on the run.
DRY_RUN_VISITORS = 1000
MAX_ATTEMPTS = 5
COLLECTIONS_PER_CALL = 5
COLLECTION_SIZE = 200
ORG_LIMIT_PAUSE = dt.timedelta(minutes=15)
MIRROR_MODELS = {"Account": Account, "Contact": Contact, "Lead": Lead}
# Sent first: later records may need their ids.
ORDER = [
    ("Lead", "create"),
    ("Account", "upsert"),
    ("Account", "create"),
    ("Contact", "update"),
    ("Lead", "update"),
    ("Account", "update"),
    ("Event", "create"),
    ("Note", "create"),
    ("Note", "update"),
]
CREATE_ONLY = {"OwnerId", "LeadSource", "Company", "SalesMonk_Created__c"}


class WriteSkipped(Exception):
    """Nothing ran: not connected, writes disabled, or another drain is running."""


def _renew(claim: Claim) -> None:
    if not claim.renew():
        raise WriteSkipped("Another write sync took over.")


def write_sync_run(
    *, tenant: Tenant, batch_size: int = BATCH_VISITORS, max_batches: int = MAX_BATCHES
) -> WriteRun:
    """Drain the tenant's pending intents now. Failures end up on the run, which is returned."""
    conn = _connection(tenant)
    if not enabled_flags(tenant=tenant):
        raise WriteSkipped("Salesforce writes are not enabled for this workspace.")
    ws = write_settings_for(tenant=tenant)
    claim = Claim.take(WriteSettings, ws.pk, "claimed_at", ttl=write_claim_ttl())
    if claim is None:
        raise WriteSkipped("Another write sync of this workspace is running.")
    runs_abandon(tenant=tenant)  # we hold the claim: any other running drain is dead
    run = WriteRun.objects.create(tenant=tenant)
    client: SalesforceClient | None = None
    counts: Counter[str] = Counter()
    try:
        with Heartbeat(claim, every=heartbeat_seconds()):
            client = SalesforceClient(conn, purpose="write")
            counts["lost_answers_reconciled"] += lost_answers_reconcile(
                tenant=tenant, client=client, run=run
            )
            attempted: set[int] = set()
            for _ in range(max_batches):
                # A live drain is never taken over; a lost claim stops this one.
                _renew(claim)
                flags = enabled_flags(tenant=tenant)
                work = pending_work(tenant=tenant, flags=flags, limit=batch_size, exclude=attempted)
                if not work:
                    break
                attempted |= {iid for w in work for iid in w.intents.values()}
                Drain(
                    tenant=tenant,
                    conn=conn,
                    client=client,
                    run=run,
                    counts=counts,
                    claim=claim,
                    flags=flags,
                ).execute(work)
        run.status = WriteRunStatus.SUCCEEDED
        WriteSettings.objects.filter(pk=ws.pk, paused_until__isnull=False).update(paused_until=None)
    except ApiBudgetExhausted as exc:
        run.status, run.error = WriteRunStatus.PAUSED, str(exc)  # intents wait
        WriteSettings.objects.filter(pk=ws.pk).update(paused_until=pause_end(exc))
    except (SalesforceAuthError, SalesforceError) as exc:
        run.status, run.error = WriteRunStatus.FAILED, str(exc)
    except WriteSkipped as exc:
        run.status, run.error = WriteRunStatus.FAILED, str(exc)
    except Exception as exc:
        log.exception("Write sync of tenant %s failed", tenant.pk)
        run.status, run.error = WriteRunStatus.FAILED, f"Unexpected error: {exc}"
    finally:
        run.counts = dict(counts)
        run.api_calls = client.usage.calls if client else 0
        run.finished_at = timezone.now()
        run.save()
        claim.release()
    return run


def pause_end(exc: ApiBudgetExhausted) -> dt.datetime:
    """Until when a paused tenant is not dispatched: our own daily budget renews at the
    next UTC midnight; the org's limit (REQUEST_LIMIT_EXCEEDED) is re-tried after a while."""
    now = timezone.now()
    if isinstance(exc, TenantBudgetExhausted):
        return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return now + ORG_LIMIT_PAUSE


def write_dry_run(*, tenant: Tenant, batch_size: int = DRY_RUN_VISITORS) -> WriteRun:
    """What the next drain would create and update, from real lookups but without calling
    any write endpoint. Works before writes are enabled (then it previews every kind for
    the identified visitors), so support can review before approving."""
    conn = _connection(tenant)
    run = WriteRun.objects.create(tenant=tenant, dry_run=True)
    client = None
    try:
        client = SalesforceClient(conn, purpose="read")
        drain = Drain(tenant=tenant, conn=conn, client=client, run=run, counts=Counter())
        work = dry_run_work(tenant=tenant, limit=batch_size)
        ops, _ = drain.plan(work)
        run.plan = [op.describe() for op in ops if not op.result]
        run.counts = dict(
            Counter(f"{op.object_name}.{op.operation}" for op in ops if not op.result)
        )
        run.status = WriteRunStatus.SUCCEEDED
    except SalesforceError as exc:
        run.status, run.error = WriteRunStatus.FAILED, str(exc)
    finally:
        run.api_calls = client.usage.calls if client else 0
        run.finished_at = timezone.now()
        run.save()
    return run


def _connection(tenant: Tenant) -> SalesforceConnection:
    conn = SalesforceConnection.objects.select_related("tenant").filter(tenant=tenant).first()
    if conn is None or conn.status != ConnectionStatus.CONNECTED:
        raise WriteSkipped("Salesforce is not connected for this workspace.")
    return conn


# A duplicate rule's matches, by Id prefix: the object to update instead, and its flag.
DUPLICATE_TARGETS = {
    "Account": (("001", "Account", "create_accounts"),),
    "Lead": (("003", "Contact", "update_people"), ("00Q", "Lead", "update_people")),
}
ACCOUNT_CREATE_ONLY = {"Name", "Website", "OwnerId", "SalesMonk_Created__c"}


def duplicates_to_updates(sent: list[Op]) -> list[Op]:
    """A duplicate rule refused a record we created: it exists after all, so write our
    fields to the matched record instead (Contacts before Leads; an Account stays an
    Account), and hang its Events/Notes there. Only creates and upserts are converted: an
    update refused by a duplicate rule keeps its error, and an update made here is never
    converted again."""
    updates = []
    for op in sent:
        if not op.dup_ids or op.operation not in ("create", "upsert") or op.replaces is not None:
            continue
        target = None
        for prefix, obj, flag in DUPLICATE_TARGETS.get(op.object_name, ()):
            ids = sorted(i for i in op.dup_ids if i.startswith(prefix))
            if ids:
                target = (ids[0], obj, flag)
                break
        if target is None:
            continue
        remote_id, obj, flag = target
        dropped = ACCOUNT_CREATE_ONLY if obj == "Account" else CREATE_ONLY
        fields = {k: v for k, v in op.fields.items() if k not in dropped}
        update = Op(
            obj,
            "update",
            flag,
            op.key,
            fields,
            set(op.intent_ids),
            remote_id=remote_id,
            mirror=None,
            replaces=op,
        )
        op.intent_ids = set()
        op.dup_ids = []
        op.alias = update
        updates.append(update)
    return updates


class Drain:
    """One batch: lookups, plan, writes, settlement."""

    def __init__(
        self,
        *,
        tenant: Tenant,
        conn: SalesforceConnection,
        client: SalesforceClient,
        run: WriteRun,
        counts: Counter[str],
        claim: Claim | None = None,
        flags: frozenset[str] | None = None,
    ) -> None:
        self.tenant, self.conn, self.client, self.run, self.counts = (
            tenant,
            conn,
            client,
            run,
            counts,
        )
        self.claim = claim  # None: a dry run, which writes nothing
        self.flags = flags  # None: a dry run, which previews every kind
        self.ops: list[Op] = []
        self.in_doubt: set[Op] = set()  # sent, answer lost: failed attempt, log reconciled later
        self.recorded: set[Op] = set()  # settled in the database: only these settle intents

    # --- reading -------------------------------------------------------------------------
    def context(self) -> Context:
        describes = self.client.describe_many(["Account", "Contact", "Lead"])
        ws = write_settings_for(tenant=self.tenant)
        inactive = set(
            CrmUser.objects.for_tenant(self.tenant)
            .filter(Q(is_active=False) | Q(remote_was_deleted=True))
            .values_list("remote_id", flat=True)
        )
        return Context(
            installer_id=self.conn.installer_remote_id,
            default_owner_id=ws.default_lead_owner_remote_id,
            lead_source=ws.lead_source,
            fields={o: {f["name"] for f in d["fields"]} for o, d in describes.items()},
            mappings=mappings_for(tenant=self.tenant),
            inactive_users=inactive,
            **({"flags": self.flags} if self.flags is not None else {}),
        )

    def plan(self, work: list[Work]) -> tuple[list[Op], dict[int, str]]:
        ctx = self.context()
        keyed = Q(key__in=[f"meeting:{m.pk}" for w in work for m in w.meetings])
        for w in work:
            for chat, _ in w.chats:
                keyed |= Q(key__startswith=f"chat:{chat.pk}:")
        logs = WriteLog.objects.for_tenant(self.tenant).filter(
            keyed, result__in=[WriteResult.SUCCESS, WriteResult.RECONCILED, WriteResult.SENT]
        )
        logged, unsettled = {}, set()
        for key, result, remote_id in logs.values_list("key", "result", "remote_id"):
            if result != WriteResult.SENT and remote_id:
                logged[key] = remote_id
            else:
                unsettled.add(key)
        unsettled -= set(logged)
        subjects = {
            subject_for(m) for w in work for m in w.meetings if f"meeting:{m.pk}" in unsettled
        }
        titles = {
            title_for(c)
            for w in work
            for c, _ in w.chats
            if any(k.startswith(f"chat:{c.pk}:") for k in unsettled)
        }
        people = [
            w
            for w in work
            if {IntentKind.LEAD, IntentKind.PERSON, IntentKind.MEETING, IntentKind.CHAT}
            & set(w.intents)
        ]
        queries = build_queries(
            tenant=self.tenant,
            emails={w.visitor.email for w in people if w.visitor.email},
            phones={w.visitor.phone for w in people if w.visitor.phone},
            domains={w.visitor.company.domain for w in work if w.visitor.company},
            chat_emails={w.visitor.email for w in work if w.chats and w.visitor.email},
            person_fields={o: self._read_fields(ctx, o) for o in ("Contact", "Lead")},
            account_fields=self._read_fields(ctx, "Account"),
            has_domain_field=ctx.has("Account", "SalesMonk_Domain__c"),
            event_subjects=subjects,
            note_titles=titles,
        )
        found = run_queries(self.client, queries) if queries else Found()
        found.logged = logged
        return build_ops(work, found, ctx)

    @staticmethod
    def _read_fields(ctx: Context, obj: str) -> list[str]:
        from integrations.write.fieldmaps import SALESMONK_FIELDS

        wanted = [*SALESMONK_FIELDS[obj], *(m.sf_field for m in ctx.mappings.get(obj, []))]
        return [f for f in wanted if ctx.has(obj, f)]

    # --- writing -------------------------------------------------------------------------
    def execute(self, work: list[Work]) -> None:
        try:
            ops, nothing = self.plan(work)
        except SalesforceError as exc:
            if isinstance(exc, ApiBudgetExhausted):
                raise  # not an attempt: the intents wait for the budget
            # The lookups failed as a whole: every intent of the batch has had an attempt.
            failed = {iid: call_failure(exc) for w in work for iid in w.intents.values()}
            intents_settle(tenant=self.tenant, done=(), failed=failed, max_attempts=MAX_ATTEMPTS)
            self.counts["intents_failed"] += len(failed)
            raise
        # A meeting or chat with nowhere to go because the visitor's Lead failed is not
        # "nothing to do": it fails with the Lead, so it is retried (or parked) with it.
        waiting = {}
        for w in work:
            for kind in (IntentKind.MEETING, IntentKind.CHAT):
                iid = w.intents.get(kind)
                if w.lead_error and iid and iid in nothing:
                    del nothing[iid]
                    waiting[iid] = f"The visitor's Lead was not written: {w.lead_error}"
        intents_settle(tenant=self.tenant, done=nothing, failed=waiting, max_attempts=MAX_ATTEMPTS)
        self.counts["intents_failed"] += len(waiting)
        self.counts["nothing_to_write"] += len(nothing)
        self.ops = list(ops)
        skipped = [op for op in ops if op.result == WriteResult.SKIPPED]
        if skipped:
            self._log_sent(skipped, result=WriteResult.SKIPPED)
            self.recorded.update(skipped)
            self.counts["skipped"] += len(skipped)
        recovered = [op for op in ops if op.result == WriteResult.SUCCESS]
        if recovered:
            self._log_sent(recovered, result=WriteResult.SUCCESS)
            self.recorded.update(recovered)
            self.counts["recovered"] += len(recovered)
        try:
            self._write([op for op in ops if not op.result])
        finally:
            self._settle(self.ops)

    def _write(self, pending: list[Op]) -> None:
        while pending:
            flags = enabled_flags(tenant=self.tenant)  # disabled mid-run: stop at once
            parent_failed = []
            for op in pending:
                if op.parent is not None and op.parent.alias is not None:
                    op.parent = op.parent.alias
                if op.flag not in flags:
                    op.result = "disabled"
                elif op.parent is not None and op.parent.result == WriteResult.FAILED:
                    op.result, op.error = (
                        WriteResult.FAILED,
                        f"Parent not written: {op.parent.error}",
                    )
                    parent_failed.append(op)
                elif op.parent is not None and op.parent.result in ("disabled", "unsent"):
                    op.result = "disabled"
            if parent_failed:  # a failed attempt like any other: counted, error kept
                self._log_sent(parent_failed, result=WriteResult.FAILED)
                self._record(parent_failed)
            pending = [op for op in pending if not op.result]
            ready = [
                op for op in pending if op.parent is None or op.parent.result == WriteResult.SUCCESS
            ]
            if not ready:
                return
            collections = self._collections(ready)[:COLLECTIONS_PER_CALL]
            sent = {op for _, _, chunk in collections for op in chunk}
            if self.claim is not None:
                _renew(self.claim)  # taken over while we looked up: write nothing
            self._send(collections)
            pending = [op for op in pending if op not in sent]
            updates = self._duplicates_to_updates(list(sent))
            self.ops += updates
            pending += updates

    def _collections(self, ready: list[Op]) -> list[tuple[str, str, list[Op]]]:
        groups: dict[tuple[str, str], list[Op]] = defaultdict(list)
        for op in ready:
            groups[(op.object_name, op.operation)].append(op)
        out = []
        for key in ORDER:
            ops = groups.get(key, [])
            for i in range(0, len(ops), COLLECTION_SIZE):
                out.append((key[0], key[1], ops[i : i + COLLECTION_SIZE]))
        return out

    def _send(self, collections: list[tuple[str, str, list[Op]]]) -> None:
        base = f"/services/data/v{settings.SALESFORCE_API_VERSION}/composite/sobjects"
        subrequests = []
        for n, (obj, operation, ops) in enumerate(collections):
            records = []
            for op in ops:
                record: dict[str, Any] = {"attributes": {"type": obj}, **op.fields}
                if op.parent is not None:
                    record[op.parent_field] = op.parent.remote_id
                if op.remote_id and operation == "update":
                    record["Id"] = op.remote_id
                records.append(record)
            url = f"{base}/{obj}/SalesMonk_Domain__c" if operation == "upsert" else base
            subrequests.append(
                {
                    "method": "POST" if operation == "create" else "PATCH",
                    "url": url,
                    "referenceId": f"c{n}",
                    "body": {"allOrNone": False, "records": records},
                }
            )
        sent = [op for _, _, ops in collections for op in ops]
        self._log_sent(sent, result=WriteResult.SENT)
        try:
            answers = self.client.composite(subrequests, retry=False)
        except (ApiBudgetExhausted, SalesforceAuthError) as exc:
            # Refused before Salesforce did anything: settle the logs as not written.
            for op in sent:
                op.result, op.error = "unsent", str(exc)
            self._record(sent)
            raise
        except SalesforceRequestError as exc:
            # Refused as a whole (e.g. UNABLE_TO_LOCK_ROW): nothing was written. Each record
            # failed this attempt with that error; the drain goes on with the rest.
            for op in sent:
                op.result, op.error, op.api_call = (
                    WriteResult.FAILED,
                    call_failure(exc),
                    self.client.usage.calls,
                )
            self._record(sent)
            return
        except SalesforceError as exc:
            # No answer (timeout, 5xx, dropped connection): Salesforce may have written
            # some of it. The logs stay SENT for the next drain to reconcile by lookup;
            # the intents count a failed attempt, and this run stops.
            for op in sent:
                op.result, op.error = WriteResult.FAILED, call_failure(exc)
            self.in_doubt.update(sent)
            raise
        call = self.client.usage.calls
        for (_, _, ops), answer in zip(collections, answers, strict=True):
            body = answer.get("body")
            if answer["httpStatusCode"] >= 300 or not isinstance(body, list):
                for op in ops:
                    op.result, op.error = WriteResult.FAILED, str(body)[:2000]
                continue
            for op, res in zip(ops, body, strict=True):
                if res.get("success"):
                    op.result = WriteResult.SUCCESS
                    op.remote_id = op.remote_id or res.get("id", "")
                    continue
                errors = res.get("errors") or [{}]
                codes = [e.get("statusCode", "") for e in errors]
                op.result = WriteResult.FAILED
                op.error = "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in errors)
                if "DUPLICATES_DETECTED" in codes:
                    op.dup_ids = [
                        rec["record"]["Id"]
                        for e in errors
                        for match in (e.get("duplicateResult") or {}).get("matchResults", [])
                        for rec in match.get("matchRecords", [])
                    ]
        for op in sent:
            op.api_call = call
        self._record(sent)

    def _duplicates_to_updates(self, sent: list[Op]) -> list[Op]:
        return duplicates_to_updates(sent)

    # --- bookkeeping (short transactions, no Salesforce inside) ---------------------------
    def _log_sent(self, ops: list[Op], *, result: str) -> None:
        rows = [
            WriteLog(
                tenant=self.tenant,
                run=self.run,
                intent_id=min(op.intent_ids, default=None) or None,
                object_name=op.object_name,
                remote_id=op.remote_id,
                operation=op.operation,
                key=op.key[:120],
                fields_before=op.before,
                fields_after=op.fields,
                result=result,
                error=op.error,
                owner_rule=op.owner_rule,
            )
            for op in ops
        ]
        with transaction.atomic():
            created = WriteLog.objects.bulk_create(rows)
        for op, row in zip(ops, created, strict=True):
            op.log_id = row.pk

    def _record(self, ops: list[Op]) -> None:
        logs = []
        for op in ops:
            result = op.result if op.result in WriteResult.values else WriteResult.FAILED
            logs.append(
                WriteLog(
                    pk=op.log_id,
                    remote_id=op.remote_id,
                    result=result,
                    error=op.error,
                    api_call=op.api_call,
                )
            )
            self.counts[f"{op.object_name}.{op.operation}.{result}"] += 1
        mirror: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for op in ops:
            if op.result == WriteResult.SUCCESS and op.mirror is not None:
                mirror[op.object_name].append({**op.mirror, "remote_id": op.remote_id})
        with transaction.atomic():
            WriteLog.objects.bulk_update(logs, ["remote_id", "result", "error", "api_call"])
            for obj, rows in mirror.items():
                crm_services.mirror_upsert(tenant=self.tenant, model=MIRROR_MODELS[obj], rows=rows)
        self.recorded.update(ops)

    def _settle(self, ops: list[Op]) -> None:
        """Intents whose writes all settled: done, or one failed attempt with the error.
        Intents with writes not sent (budget, disabled) stay as they are."""
        by_intent: dict[int, list[Op]] = defaultdict(list)
        for op in ops:
            for iid in op.intent_ids:
                by_intent[iid].append(op)
        done, failed = [], {}
        for iid, its in by_intent.items():
            settled = self.recorded | self.in_doubt
            results = {op.result if op in settled else "" for op in its}
            if results <= {WriteResult.SUCCESS, WriteResult.SKIPPED}:
                done.append(iid)
            elif WriteResult.FAILED in results or not results & {"", "disabled", "unsent"}:
                failed[iid] = "; ".join(op.error for op in its if op.error)[:2000]
        intents_settle(tenant=self.tenant, done=done, failed=failed, max_attempts=MAX_ATTEMPTS)
        self.counts["intents_done"] += len(done)
        self.counts["intents_failed"] += len(failed)


def call_failure(exc: SalesforceError) -> str:
    """A whole call's failure in words, with Salesforce's code when it gave one."""
    code = f"{exc.code}: " if getattr(exc, "code", None) else ""
    if isinstance(exc, SalesforceRequestError):
        return f"Salesforce refused the whole request: {code}{exc}"[:2000]
    return f"Salesforce did not answer: {exc}"[:2000]
