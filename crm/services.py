"""Writes to the CRM mirror. The read sync maps remote records to unified field names and
hands them here; nothing else writes mirror rows.

Every function takes the tenant first and works in bulk: one upsert statement per batch,
one UPDATE per relation to resolve links, no per-row saves. Transactions cover one batch.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any, TypeVar

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from crm.models import Account, Contact, Engagement, EngagementContact, MirrorModel
from crm.models.base import REMOTE_ID_LENGTH
from crm.normalize import normalize_domain, normalize_email, normalize_phone
from crm.relations import Relation, all_relations, relations_of, relations_to
from salesmonk.tenants.models import Tenant

BATCH_SIZE = 2000  # one Salesforce query page
# Columns the upsert never takes from a row: ours, not the remote record's.
_OWN_FIELDS = frozenset({"id", "tenant", "created_at", "modified_at"})

M = TypeVar("M", bound=MirrorModel)
T = TypeVar("T")


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self

    @property
    def written(self) -> int:
        return self.created + self.updated


@dataclass(frozen=True)
class MergeResult:
    links_moved: int
    loser_marked_deleted: bool


# --- row preparation ---------------------------------------------------------------------


def _to_datetime(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is None:
                raise ValueError(f"Not a date/time: {value!r}")
            parsed = dt.datetime(day.year, day.month, day.day)
        value = parsed
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        raise ValueError(f"Not a date/time: {value!r}")
    # Remote timestamps without an offset are UTC (Salesforce dates are UTC calendar days).
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


def _to_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    parsed = parse_date(text[:10])
    if parsed is None:
        raise ValueError(f"Not a date: {value!r}")
    return parsed


def _coerce(field: models.Field, value: Any) -> Any:
    """The value as it reads back from the database, so stored and incoming rows compare."""
    if isinstance(field, models.CharField | models.TextField):
        text = "" if value is None else str(value)
        if field.max_length and len(text) > field.max_length:
            if field.name.endswith("remote_id"):
                raise ValueError(f"{field.name} longer than {field.max_length}: {text!r}")
            text = text[: field.max_length]  # the full value stays in remote_data
        return text
    if isinstance(field, models.JSONField):
        return field.get_default() if value is None else json.loads(json.dumps(value))
    if value is None:
        return None if field.null else field.get_default()
    if isinstance(field, models.DateTimeField):
        return _to_datetime(value)
    if isinstance(field, models.DateField):
        return _to_date(value)
    if isinstance(field, models.DecimalField):
        number = field.to_python(value)
        return None if number is None else number.quantize(Decimal(1).scaleb(-field.decimal_places))
    return field.to_python(value)


def _first(items: Any, key: str, normalize: Any) -> str:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and (found := normalize(item.get(key))):
            return found
    return ""


def _normalize(fields: dict[str, models.Field], row: dict[str, Any]) -> None:
    """Fill the columns we match on. A row without `email`/`phone` takes the first usable
    entry of its Merge-shaped list; an account without `domain` takes its website's."""
    if "email" in fields:
        if "email" in row:
            row["email"] = normalize_email(row["email"]) or ""
        elif "email_addresses" in row:
            row["email"] = _first(row["email_addresses"], "email_address", normalize_email)
    if "phone" in fields:
        if "phone" in row:
            row["phone"] = normalize_phone(row["phone"]) or ""
        elif "phone_numbers" in row:
            row["phone"] = _first(row["phone_numbers"], "phone_number", normalize_phone)
    if "domain" in fields and ("domain" in row or "website" in row):
        row["domain"] = normalize_domain(row.get("domain") or row.get("website")) or ""


def _writable_fields(model: type[MirrorModel]) -> dict[str, models.Field]:
    return {
        f.name: f
        for f in model._meta.concrete_fields
        if f.name not in _OWN_FIELDS and not f.is_relation
    }


def _prepare(model: type[MirrorModel], rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    fields = _writable_fields(model)
    latest: dict[str, dict[str, Any]] = {}
    for raw in rows:
        unknown = set(raw) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no mirrored field(s) {sorted(unknown)}")
        if not raw.get("remote_id"):
            raise ValueError(f"{model.__name__} row without remote_id")
        row = {name: _coerce(fields[name], value) for name, value in raw.items()}
        # A record we read exists remotely unless the row says otherwise (undelete).
        row.setdefault("remote_was_deleted", False)
        _normalize(fields, row)
        # A record read twice in one run (it changed between pages): keep the newest.
        seen = latest.get(row["remote_id"])
        if seen is None or _newer_or_same(row, seen):
            latest[row["remote_id"]] = row
    return list(latest.values())


def _newer_or_same(row: dict[str, Any], seen: dict[str, Any]) -> bool:
    new, old = row.get("remote_updated_at"), seen.get("remote_updated_at")
    return new is None or old is None or new >= old


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- upsert ------------------------------------------------------------------------------


def mirror_upsert(
    *,
    tenant: Tenant,
    model: type[MirrorModel],
    rows: Iterable[dict[str, Any]],
    batch_size: int = BATCH_SIZE,
) -> UpsertResult:
    """Create or update mirror rows from remote records, keyed on (tenant, remote_id).

    Rows use unified field names and may carry a subset of the columns: only the columns a
    row carries are written (e.g. `created_by_salesmonk`, set by the write sync, survives a
    read sync that does not mention it). Rows equal to what is stored are not written at
    all. Links are resolved from the `<rel>_remote_id` values, and rows elsewhere waiting
    for the records created here are linked to them.
    """
    result = UpsertResult()
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in _prepare(model, rows):
        groups.setdefault(frozenset(row), []).append(row)
    for keys, group in groups.items():
        for batch in _chunks(group, batch_size):
            result += _upsert_batch(tenant=tenant, model=model, keys=keys, rows=batch)
    return result


def _upsert_batch(
    *,
    tenant: Tenant,
    model: type[MirrorModel],
    keys: frozenset[str],
    rows: Sequence[dict[str, Any]],
) -> UpsertResult:
    compared = sorted(keys - {"remote_id"})
    stored = {
        values["remote_id"]: values
        for values in model.objects.for_tenant(tenant)
        .filter(remote_id__in=[row["remote_id"] for row in rows])
        .values("remote_id", *compared)
    }
    result = UpsertResult()
    created: list[str] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        old = stored.get(row["remote_id"])
        if old is None:
            result.created += 1
            created.append(row["remote_id"])
        elif all(old[name] == row[name] for name in compared):
            result.unchanged += 1
            continue
        else:
            result.updated += 1
        changed.append(row)
    if not changed:
        return result

    written = [row["remote_id"] for row in changed]
    instances = [model(tenant=tenant, **row) for row in changed]
    linked = _links_set(tenant=tenant, model=model, keys=keys, instances=instances, rows=changed)
    with transaction.atomic():
        # Our `id` is never in update_fields, so an existing row keeps it; the ids generated
        # for rows that turn out to exist are discarded by the database.
        _bulk_upsert(
            model=model,
            instances=instances,
            update_fields=[*compared, *linked, "modified_at"],
        )
        if model is Engagement and "contact_remote_ids" in keys:
            _engagement_contacts_rebuild(tenant=tenant, remote_ids=written)
        if created:
            for relation in relations_to(model):
                waiting = Q(**{f"{relation.field}__isnull": True})
                waiting &= Q(**{f"{relation.remote_field}__in": created})
                _link(tenant=tenant, relation=relation, rows=waiting)
    return result


def _links_set(
    *,
    tenant: Tenant,
    model: type[MirrorModel],
    keys: frozenset[str],
    instances: Sequence[MirrorModel],
    rows: Sequence[dict[str, Any]],
) -> list[str]:
    """Set the link fields of the rows' instances whose `<rel>_remote_id` the rows carry;
    returns those fields. Links are resolved before writing (one SELECT per relation for the
    whole batch), so the upsert writes each row once, links included."""
    linked = [r for r in relations_of(model) if r.remote_field in keys]
    for relation in linked:
        targets = _pks_by_remote_id(
            tenant=tenant,
            model=relation.target,
            remote_ids={row[relation.remote_field] for row in rows},
        )
        attname = model._meta.get_field(relation.field).attname
        for instance, row in zip(instances, rows, strict=True):
            setattr(instance, attname, targets.get(row[relation.remote_field]))
    return [r.field for r in linked]


def _bulk_upsert(
    *, model: type[MirrorModel], instances: list[MirrorModel], update_fields: list[str]
) -> None:
    """Insert or update on (tenant, remote_id). On PostgreSQL the rows are COPYed into a
    staging table and merged with one `INSERT … SELECT … ON CONFLICT`: COPY's C encoder is
    several times cheaper than quoting 2,000 rows of parameters in Python."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            instances,
            update_conflicts=True,
            unique_fields=["tenant", "remote_id"],
            update_fields=update_fields,
        )
        return
    qn = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    table, stage = qn(model._meta.db_table), qn(f"stage_{model._meta.db_table}")
    columns = ", ".join(qn(f.column) for f in fields)
    updates = ", ".join(
        f"{qn(c)} = EXCLUDED.{qn(c)}"
        for c in (model._meta.get_field(n).column for n in update_fields)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS)")
        getters = [_copy_value(f) for f in fields]
        with cursor.cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
            for instance in instances:
                copy.write_row([get(instance) for get in getters])
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} "
            f"ON CONFLICT (tenant_id, remote_id) DO UPDATE SET {updates}"
        )
        cursor.execute(f"TRUNCATE {stage}")


def _copy_value(field: models.Field) -> Any:
    """How COPY reads one field of an instance. psycopg adapts plain values (text, numbers,
    dates, UUIDs) itself; only JSON and auto-set timestamps need Django's preparation, and
    skipping it for the rest halves the cost of a batch."""
    if (
        isinstance(field, models.JSONField)
        or getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
    ):
        return lambda instance: field.get_db_prep_save(field.pre_save(instance, True), connection)
    return attrgetter(field.attname)


def _pks_by_remote_id(
    *, tenant: Tenant, model: type[MirrorModel], remote_ids: set[str]
) -> dict[str, Any]:
    wanted = [rid for rid in remote_ids if rid]
    if not wanted:
        return {}
    return dict(
        model.objects.for_tenant(tenant).filter(remote_id__in=wanted).values_list("remote_id", "pk")
    )


def _link(*, tenant: Tenant, relation: Relation, rows: Q) -> int:
    """Point `relation` of the selected rows at the mirrored row named by its remote id (or
    at nothing), in one UPDATE with a correlated subquery, within the tenant."""
    target = relation.target.objects.for_tenant(tenant).filter(
        remote_id=OuterRef(relation.remote_field)
    )
    changes: dict[str, Any] = {relation.field: Subquery(target.values("pk")[:1])}
    if _has_field(relation.model, "modified_at"):
        changes["modified_at"] = timezone.now()
    return relation.model.objects.filter(tenant=tenant).filter(rows).update(**changes)


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)


def _engagement_contacts_rebuild(*, tenant: Tenant, remote_ids: Sequence[str]) -> None:
    """Replace the through rows of the given engagements by their `contact_remote_ids`."""
    lists = dict(
        Engagement.objects.for_tenant(tenant)
        .filter(remote_id__in=remote_ids)
        .values_list("pk", "contact_remote_ids")
    )
    EngagementContact.objects.for_tenant(tenant).filter(engagement_id__in=list(lists)).delete()
    wanted = {
        pk: [
            rid
            for rid in dict.fromkeys(rids)
            if isinstance(rid, str) and 0 < len(rid) <= REMOTE_ID_LENGTH
        ]
        for pk, rids in lists.items()
        if isinstance(rids, list)
    }
    contacts = dict(
        Contact.objects.for_tenant(tenant)
        .filter(remote_id__in={rid for rids in wanted.values() for rid in rids})
        .values_list("remote_id", "pk")
    )
    EngagementContact.objects.bulk_create(
        EngagementContact(
            tenant=tenant, engagement_id=pk, contact_id=contacts.get(rid), contact_remote_id=rid
        )
        for pk, rids in wanted.items()
        for rid in rids
    )


def mirror_resolve_links(*, tenant: Tenant) -> int:
    """Link every row still waiting for a parent that is mirrored now; the number linked.

    The upsert already does this for the parents it creates; this is the repair for rows
    written concurrently with their parents. One UPDATE per relation.
    """
    linked = 0
    with transaction.atomic():
        for relation in all_relations():
            parents = relation.target.objects.for_tenant(tenant).filter(
                remote_id=OuterRef(relation.remote_field)
            )
            waiting = Q(**{f"{relation.field}__isnull": True}) & ~Q(**{relation.remote_field: ""})
            linked += _link(
                tenant=tenant, relation=relation, rows=waiting & Q(models.Exists(parents))
            )
    return linked


# --- deletes and merges ------------------------------------------------------------------


def mirror_mark_deleted(
    *, tenant: Tenant, model: type[MirrorModel], remote_ids: Iterable[str]
) -> int:
    """Mark records deleted remotely; the number of rows that changed. Rows stay (and keep
    their links) so history and write dedupe still see them; selectors skip them."""
    ids = sorted(set(remote_ids))
    marked = 0
    for chunk in _chunks(ids, BATCH_SIZE):
        marked += (
            model.objects.for_tenant(tenant)
            .filter(remote_id__in=chunk, remote_was_deleted=False)
            .update(remote_was_deleted=True, modified_at=timezone.now())
        )
    return marked


def mirror_merge(
    *,
    tenant: Tenant,
    model: type[MirrorModel],
    loser_remote_id: str,
    master_remote_id: str,
) -> MergeResult:
    """Record a remote merge: every link to the loser now points to the master (also when
    the master is not mirrored yet: its remote id is kept and resolved later), and the
    loser is marked deleted. Contact counts are left to `account_contact_counts_refresh`."""
    if not loser_remote_id or not master_remote_id or loser_remote_id == master_remote_id:
        raise ValueError("A merge needs two different remote ids.")
    pks = dict(
        model.objects.for_tenant(tenant)
        .filter(remote_id__in=[loser_remote_id, master_remote_id])
        .values_list("remote_id", "pk")
    )
    loser_pk, master_pk = pks.get(loser_remote_id), pks.get(master_remote_id)
    moved = 0
    with transaction.atomic():
        for relation in relations_to(model):
            to_loser = Q(**{relation.remote_field: loser_remote_id})
            if loser_pk is not None:
                to_loser |= Q(**{relation.field: loser_pk})
            rows = relation.model.objects.filter(tenant=tenant).filter(to_loser)
            if relation.model is EngagementContact:
                # An engagement listing both keeps one row (unique per engagement).
                rows.filter(
                    engagement__in=EngagementContact.objects.for_tenant(tenant)
                    .filter(contact_remote_id=master_remote_id)
                    .values("engagement")
                ).delete()
            changes: dict[str, Any] = {
                relation.field: master_pk,
                relation.remote_field: master_remote_id,
            }
            if _has_field(relation.model, "modified_at"):
                changes["modified_at"] = timezone.now()
            moved += rows.update(**changes)
        marked = mirror_mark_deleted(tenant=tenant, model=model, remote_ids=[loser_remote_id])
    return MergeResult(links_moved=moved, loser_marked_deleted=marked == 1)


def account_contact_counts_refresh(*, tenant: Tenant) -> int:
    """Set `number_of_contacts` of every account to its live mirrored contacts, in one
    UPDATE that touches only the accounts whose count differs; the number updated."""
    count = Coalesce(
        Subquery(
            Contact.objects.filter(tenant=tenant, account=OuterRef("pk"), remote_was_deleted=False)
            .order_by()
            .values("account")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        Value(0),
    )
    return (
        Account.objects.for_tenant(tenant)
        .exclude(number_of_contacts=count)
        .update(number_of_contacts=count, modified_at=timezone.now())
    )


def mirror_analyze(*, models: Iterable[type[MirrorModel]]) -> None:
    """Refresh the planner's statistics of mirror tables after a bulk load. A freshly
    filled table still looks empty to PostgreSQL until autovacuum catches up, and the
    queries that follow (link resolution, contact counts) then pick sequential scans."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def mirror_forget(*, tenant: Tenant) -> int:
    """Mark every mirrored record of the tenant deleted: its CRM was replaced by another
    (a different org connected). Rows stay for history; the next sync revives what exists."""
    now = timezone.now()
    mirror_models = [
        m for m in apps.get_app_config("crm").get_models() if issubclass(m, MirrorModel)
    ]
    return sum(
        model.objects.for_tenant(tenant)
        .filter(remote_was_deleted=False)
        .update(remote_was_deleted=True, modified_at=now)
        for model in mirror_models
    )
