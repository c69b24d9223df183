"""From a batch of visitors and what Salesforce already holds, the writes to make.

Pure: no database, no HTTP. Each `Op` is one record to create, update or upsert, with the
values Salesforce holds now (`before`, for the write log and "only fill blanks"), the
intents it settles, and the WritePolicy flag that allows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crm.normalize import normalize_email, normalize_phone
from crm.owners import OwnerDecision, owner_resolve
from integrations.write.fieldmaps import Mapping
from integrations.write.lookup import Found, Record
from integrations.write.source import KIND_FLAGS, Work
from visitors.models import IntentKind

PERSON_VALUES = {
    "SalesMonk_Contact__c": "visitor_url",
    "SalesMonk_Last_Seen__c": "last_seen_at",
    "SalesMonk_Total_Sessions__c": "total_sessions",
    "SalesMonk_UTM_Campaign__c": "utm_campaign",
    "SalesMonk_UTM_Content__c": "utm_content",
    "SalesMonk_UTM_Medium__c": "utm_medium",
    "SalesMonk_UTM_Source__c": "utm_source",
}
DOMAIN_FIELD = "SalesMonk_Domain__c"
SKIPPED = "skipped"  # an Op settled without a write (WriteResult.SKIPPED)
EXISTS_NO_UPDATES = "Nothing to do: exists; updates not enabled."
# No usable owner: the record is created without OwnerId and Salesforce assigns the user
# whose connection wrote it.
CONNECTED_USER = "connected_user"


@dataclass(eq=False)
class Op:
    object_name: str
    operation: str  # create, update, upsert
    flag: str
    key: str
    fields: dict[str, Any]
    intent_ids: set[int] = field(default_factory=set)
    remote_id: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    owner_rule: str = ""
    parent: Op | None = None  # the create whose id fills `parent_field`
    parent_field: str = ""
    mirror: dict[str, Any] | None = None  # unified row to mirror once written
    # For support (dry run page, write log): how the record was found ("" = not found, so
    # created), the visitor and company it is written for, and a matched record's owner.
    match_rule: str = ""
    visitor_id: str = ""
    company_id: str = ""
    owner_id: str = ""
    # outcome
    result: str = ""
    error: str = ""
    dup_ids: list[str] = field(default_factory=list)
    alias: Op | None = None  # the update that replaced this create (duplicate rule)
    replaces: Op | None = None  # on that update: the create it replaced
    log_id: int = 0
    api_call: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "object": self.object_name,
            "operation": self.operation,
            "id": self.remote_id,
            "key": self.key,
            "before": self.before,
            "after": self.fields,
            "owner": self.fields.get("OwnerId") or self.owner_id,
            "owner_rule": self.owner_rule,
            "match": self.match_rule,
            "visitor": self.visitor_id,
            "company": self.company_id,
        }


@dataclass
class Context:
    installer_id: str
    default_owner_id: str
    lead_source: str
    fields: dict[str, set[str]]  # object -> field names the org has
    mappings: dict[str, list[Mapping]]
    inactive_users: set[str]
    # The enabled write kinds (a dry run previews every kind).
    flags: frozenset[str] = frozenset(KIND_FLAGS.values())

    def has(self, obj: str, name: str) -> bool:
        return name in self.fields[obj]


def subject_for(meeting: Any) -> str:
    return f"{meeting.title[:200]} · SalesMonk #{meeting.pk.hex[:12]}"


def title_for(chat: Any) -> str:
    return f"Website chat · SalesMonk #{chat.pk.hex[:12]}"


def _mapped(ctx: Context, obj: str, values: dict[str, Any], current: Record | None) -> dict:
    out = {}
    for m in ctx.mappings.get(obj, []):
        if not ctx.has(obj, m.sf_field) or values.get(m.attribute) in (None, ""):
            continue
        if (
            m.rule == "only_blank"
            and current is not None
            and current.get(m.sf_field)
            not in (
                None,
                "",
            )
        ):
            continue
        out[m.sf_field] = values[m.attribute]
    return out


def _changed(fields: dict[str, Any], current: Record) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if current.get(k) != v}


def person_fields(ctx: Context, obj: str, values: dict[str, Any], current: Record | None) -> dict:
    """SalesMonk fields the org has, then mapped fields; on a match, the names the visitor
    gave and changed email/phone (overwritten, as the product promises)."""
    out: dict[str, Any] = {}
    for name, attr in PERSON_VALUES.items():
        if ctx.has(obj, name) and values.get(attr) not in (None, ""):
            out[name] = values[attr]
    out.update(_mapped(ctx, obj, values, current))
    if current is not None:
        for sf, attr in (("FirstName", "first_name"), ("LastName", "last_name")):
            if values[attr]:
                out[sf] = values[attr]
        if values["email"] and normalize_email(current.get("Email")) != normalize_email(
            values["email"]
        ):
            out["Email"] = values["email"]
        if values["phone"] and normalize_phone(current.get("Phone")) != normalize_phone(
            values["phone"]
        ):
            out["Phone"] = values["phone"]
    return out


def build_ops(work: list[Work], found: Found, ctx: Context) -> tuple[list[Op], dict[int, str]]:
    """The writes for a batch, and the intents that need none (with why, for the log)."""
    ops: list[Op] = []
    nothing: dict[int, str] = {}
    accounts: dict[str, Op] = {}
    rank: dict[Op, tuple] = {}  # the visitor an op was made for: most recently seen wins
    for w in work:
        values = w.values()
        v = w.visitor
        seen = (v.last_seen_at is not None, v.last_seen_at or 0, str(v.pk))
        domain = v.company.domain if v.company else ""
        account_match = found.account_match(domain) if domain else None
        account = account_match[0] if account_match is not None else None
        made_here = len(ops)
        if IntentKind.ACCOUNT in w.intents:
            iid = w.intents[IntentKind.ACCOUNT]
            if not domain:
                nothing[iid] = "The visitor has no company."
            elif domain in accounts:
                accounts[domain].intent_ids.add(iid)
            else:
                op = _account_op(ctx, domain, values, account_match)
                if op is None:
                    nothing[iid] = "The account already has these values."
                else:
                    op.intent_ids.add(iid)
                    accounts[domain] = op
                    ops.append(op)
                    rank[op] = seen
        person_op, person_id = _person(ctx, w, values, found, account)
        if person_op is not None:
            ops.append(person_op)
            rank[person_op] = seen
        person_intents = [
            w.intents[k] for k in (IntentKind.LEAD, IntentKind.PERSON) if k in w.intents
        ]
        for iid in person_intents:
            if person_op is None:
                nothing[iid] = "Nothing to write for this person."
            else:
                person_op.intent_ids.add(iid)
        parent = person_op if person_op is not None and person_op.operation == "create" else None
        if IntentKind.MEETING in w.intents:
            iid = w.intents[IntentKind.MEETING]
            made = _events(ctx, w, person_id, parent, found, iid)
            ops.extend(made)
            if not made:
                nothing[iid] = "No meeting to log, or no contact or lead for the visitor."
        if IntentKind.CHAT in w.intents:
            iid = w.intents[IntentKind.CHAT]
            made = _notes(w, person_id, parent, found, iid)
            ops.extend(made)
            if not made:
                nothing[iid] = "No chat to log, or no contact or lead for the visitor."
        for op in ops[made_here:]:
            op.visitor_id = str(v.pk)
            op.company_id = str(v.company.pk) if v.company else ""
    return merge_updates(ops, rank), nothing


def merge_updates(ops: list[Op], rank: dict[Op, tuple]) -> list[Op]:
    """One update per record: two visitors matching one Salesforce record make one op
    carrying both intents (Salesforce refuses a collection naming an Id twice). Where
    their values differ, the most recently seen visitor's win."""
    kept: dict[tuple[str, str], Op] = {}
    out = []
    for op in ops:
        key = (op.object_name, op.remote_id)
        if op.operation != "update" or op.result or not op.remote_id:
            out.append(op)
            continue
        first = kept.get(key)
        if first is None:
            kept[key] = op
            out.append(op)
            continue
        older, newer = sorted((first, op), key=lambda o: rank.get(o, (False, 0, "")))
        first.fields = {**older.fields, **newer.fields}
        first.before = {**older.before, **newer.before}
        if older.mirror is not None or newer.mirror is not None:
            first.mirror = {**(older.mirror or {}), **(newer.mirror or {})}
        first.intent_ids |= op.intent_ids
        first.key = newer.key
        first.match_rule, first.visitor_id, first.company_id = (
            newer.match_rule,
            newer.visitor_id,
            newer.company_id,
        )
        rank[first] = rank.get(newer, (False, 0, ""))
    return out


def _account_op(
    ctx: Context, domain: str, values: dict, match: tuple[Record, str] | None
) -> Op | None:
    account, rule = match if match is not None else (None, "")
    sm: dict[str, Any] = {}
    if ctx.has("Account", "SalesMonk_Company__c") and values["company_url"]:
        sm["SalesMonk_Company__c"] = values["company_url"]
    if account is not None:
        fields = {**sm, **_mapped(ctx, "Account", values, account)}
        if ctx.has("Account", DOMAIN_FIELD) and not account.get(DOMAIN_FIELD):
            fields[DOMAIN_FIELD] = domain
        fields = _changed(fields, account)
        if not fields:
            return None
        before = {k: account.get(k) for k in fields}
        mirror = {"remote_id": account["Id"]}
        return Op(
            "Account",
            "update",
            "create_accounts",
            f"domain:{domain}",
            fields,
            remote_id=account["Id"],
            before=before,
            mirror=mirror,
            match_rule=rule,
            owner_id=account.get("OwnerId") or "",
        )
    # Accounts go to the installer first (the product rule), then the default lead owner.
    owner_id, owner_rule = _owner(
        owner_resolve(installer_id=ctx.installer_id, inactive_ids=ctx.inactive_users),
        owner_resolve(default_owner_id=ctx.default_owner_id, inactive_ids=ctx.inactive_users),
    )
    fields = {
        "Name": values["company_name"] or domain,
        "Website": domain,
        "OwnerId": owner_id,
        **sm,
        **_mapped(ctx, "Account", values, None),
    }
    if not fields["OwnerId"]:
        del fields["OwnerId"]  # no usable owner: Salesforce assigns the connected user
    if ctx.has("Account", "SalesMonk_Created__c"):
        fields["SalesMonk_Created__c"] = True
    upsert = ctx.has("Account", DOMAIN_FIELD)
    if upsert:
        fields[DOMAIN_FIELD] = domain
    mirror = {
        "name": fields["Name"],
        "website": domain,
        "domain": domain,
        "owner_remote_id": owner_id,
        "created_by_salesmonk": True,
    }
    return Op(
        "Account",
        "upsert" if upsert else "create",
        "create_accounts",
        f"domain:{domain}",
        fields,
        owner_rule=owner_rule,
        mirror=mirror,
    )


def _person(
    ctx: Context, w: Work, values: dict, found: Found, account: Record | None
) -> tuple[Op | None, str]:
    v = w.visitor
    match = found.person_match(v.email, v.phone)
    wants = {IntentKind.LEAD, IntentKind.PERSON} & set(w.intents)
    if match is not None:
        obj, current, rule = match
        if not wants:
            return None, current["Id"]
        if "update_people" not in ctx.flags:
            # Asked to create a Lead for someone Salesforce already has: done, and the log
            # says why (re-trying would only look them up again, every minute).
            skipped = Op(
                obj,
                "update",
                "update_people",
                person_key(v),
                {},
                remote_id=current["Id"],
                result=SKIPPED,
                error=EXISTS_NO_UPDATES,
                match_rule=rule,
            )
            return skipped, current["Id"]
        fields = _changed(person_fields(ctx, obj, values, current), current)
        if not fields:
            return None, current["Id"]
        before = {k: current.get(k) for k in fields}
        mirror = {
            "remote_id": current["Id"],
            "first_name": current.get("FirstName") or "",
            "last_name": current.get("LastName") or "",
        }
        mirror.update(
            {
                "first_name": fields.get("FirstName", mirror["first_name"]),
                "last_name": fields.get("LastName", mirror["last_name"]),
            }
        )
        if "Email" in fields:
            mirror["email"] = fields["Email"]
        if "Phone" in fields:
            mirror["phone"] = fields["Phone"]
        op = Op(
            obj,
            "update",
            "update_people",
            person_key(v),
            fields,
            remote_id=current["Id"],
            before=before,
            mirror=mirror,
            match_rule=rule,
            owner_id=current.get("OwnerId") or "",
        )
        return op, current["Id"]
    if IntentKind.LEAD not in w.intents:
        return None, ""
    owner_id, owner_rule = _owner(
        owner_resolve(
            account_owner_id=account.get("OwnerId") if account else None,
            installer_id=ctx.installer_id,
            default_owner_id=ctx.default_owner_id,
            inactive_ids=ctx.inactive_users,
        )
    )
    fields = {
        "FirstName": v.first_name,
        "LastName": v.last_name or (v.email.split("@")[0] if v.email else "") or "[not provided]",
        "Email": v.email,
        "Phone": v.phone,
        "Company": values["company_name"] or values["company_domain"] or "[not provided]",
        "OwnerId": owner_id,
        "LeadSource": ctx.lead_source,
        **person_fields(ctx, "Lead", values, None),
    }
    fields = {k: val for k, val in fields.items() if val not in ("", None)}
    if ctx.has("Lead", "SalesMonk_Created__c"):
        fields["SalesMonk_Created__c"] = True
    mirror = {
        "first_name": v.first_name,
        "last_name": fields["LastName"],
        "email": v.email,
        "phone": v.phone,
        "company": fields["Company"],
        "lead_source": ctx.lead_source,
        "owner_remote_id": owner_id,
        "created_by_salesmonk": True,
    }
    op = Op(
        "Lead",
        "create",
        "create_leads",
        person_key(v),
        fields,
        owner_rule=owner_rule,
        mirror=mirror,
    )
    return op, ""


def _owner(*decisions: OwnerDecision | None) -> tuple[str, str]:
    """The owner id and rule of the first decision made, else none and `CONNECTED_USER`."""
    for decision in decisions:
        if decision is not None:
            return decision.owner_id, decision.rule.value
    return "", CONNECTED_USER


def person_key(v: Any) -> str:
    return f"email:{v.email}" if v.email else f"phone:{v.phone}"


def _events(ctx: Context, w: Work, who: str, parent: Op | None, found: Found, iid: int) -> list:
    if not who and parent is None:
        return []
    ops = []
    for m in w.meetings:
        subject = subject_for(m)
        fields = {
            "Subject": subject,
            "StartDateTime": m.starts_at.isoformat(),
            "ActivityDateTime": m.starts_at.isoformat(),
            "DurationInMinutes": m.duration_minutes,
            "Type": "Meeting",
            "Description": f"Booked on the website on {m.booked_at:%Y-%m-%d %H:%M} UTC.",
        }
        key = f"meeting:{m.pk}"
        if key in found.logged:
            continue
        if subject in found.events:  # written before a crash: settle, don't repeat
            op = Op(
                "Event",
                "create",
                "log_meetings",
                key,
                fields,
                {iid},
                remote_id=found.events[subject],
                result="success",
            )
        elif who:
            op = Op("Event", "create", "log_meetings", key, {**fields, "WhoId": who}, {iid})
        else:
            op = Op(
                "Event",
                "create",
                "log_meetings",
                key,
                fields,
                {iid},
                parent=parent,
                parent_field="WhoId",
            )
        ops.append(op)
    return ops


def _notes(w: Work, who: str, parent: Op | None, found: Found, iid: int) -> list:
    if not who and parent is None:
        return []
    ops = []
    opps = found.open_opps.get(who, []) if who.startswith("003") else []
    for chat, transcript in w.chats:
        title = title_for(chat)
        fields = {"Title": title, "Body": transcript or "(no messages)"}
        for n, target in enumerate([who, *opps] if who else [""]):
            key = f"chat:{chat.pk}:{target if n else 'person'}"
            existing = found.logged.get(key) or (
                found.notes.get((target, title)) if target else None
            )
            if existing:
                op = Op(
                    "Note",
                    "update",
                    "log_chats",
                    key,
                    {"Body": fields["Body"]},
                    {iid},
                    remote_id=existing,
                )
            elif target:
                op = Op("Note", "create", "log_chats", key, {**fields, "ParentId": target}, {iid})
            else:
                op = Op(
                    "Note",
                    "create",
                    "log_chats",
                    key,
                    fields,
                    {iid},
                    parent=parent,
                    parent_field="ParentId",
                )
            ops.append(op)
    return ops
