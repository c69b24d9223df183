"""Names for what support pages show by id — Salesforce records and users, visitors and
companies — loaded in bulk, so a page costs the same few queries whatever its length, and
the small HTML pieces (links, truncated text) every support page uses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crm.models import Account, Contact, CrmUser, Lead
from integrations.models import SalesforceConnection
from visitors.models import Company, Visitor

MIRRORED = {"Account": Account, "Contact": Contact, "Lead": Lead}
OWNER_RULES = {
    "account_owner": "account owner",
    "contact_owner": "contact owner",
    "lead_owner": "lead owner",
    "default_lead_owner": "default lead owner",
    "installer": "user who connected",
    "connected_user": "left to Salesforce",
}


@dataclass
class Names:
    """What one page needs, keyed by (tenant id, Salesforce id) since ids are per org."""

    records: dict[tuple[Any, str], tuple[str, str]] = field(default_factory=dict)  # name, owner
    users: dict[tuple[Any, str], str] = field(default_factory=dict)
    instance_urls: dict[Any, str] = field(default_factory=dict)

    def record_name(self, tenant_id: Any, remote_id: str) -> str:
        return self.records.get((tenant_id, remote_id), ("", ""))[0]

    def record_owner(self, tenant_id: Any, remote_id: str) -> str:
        return self.records.get((tenant_id, remote_id), ("", ""))[1]

    def user_name(self, tenant_id: Any, remote_id: str) -> str:
        return self.users.get((tenant_id, remote_id), "")

    def salesforce_link(self, tenant_id: Any, remote_id: str, name: str = "") -> SafeString:
        """The record's mirrored name (else `name`, else its id), linked into Salesforce."""
        if not remote_id:
            return format_html("{}", name or "—")
        label = self.record_name(tenant_id, remote_id) or name or remote_id
        base = self.instance_urls.get(tenant_id)
        if not base:
            return format_html('<span title="{}">{}</span>', remote_id, label)
        return format_html(
            '<a href="{}/{}" target="_blank" rel="noopener" title="{}">{}</a>',
            base,
            remote_id,
            remote_id,
            label,
        )

    def owner(self, tenant_id: Any, user_id: str, rule: str = "") -> SafeString:
        """The owner's name (its id when the user is not mirrored) and the rule that chose
        it; an update keeps the record's owner."""
        who = self.user_name(tenant_id, user_id) or user_id
        why = OWNER_RULES.get(rule, rule) if rule else ("record's owner, kept" if who else "")
        if not who:
            return format_html("{}", f"— ({why})" if why else "—")
        return format_html('{}<br><span class="quiet">{}</span>', who, why)


def names_load(
    *, records: Iterable[tuple[Any, str, str]], users: Iterable[tuple[Any, str]] = ()
) -> Names:
    """Names of (tenant id, object, Salesforce id) records and (tenant id, user id) users,
    the owners of those records included, and each tenant's Salesforce address: at most
    five queries."""
    wanted: dict[str, set[str]] = defaultdict(set)
    tenants: set[Any] = set()
    for tenant_id, obj, remote_id in records:
        if obj in MIRRORED and remote_id:
            wanted[obj].add(remote_id)
        tenants.add(tenant_id)
    names = Names()
    user_keys = set(users)
    for obj, ids in wanted.items():
        model = MIRRORED[obj]
        columns = ["name"] if obj == "Account" else ["first_name", "last_name", "email"]
        rows = model.objects.filter(tenant_id__in=tenants, remote_id__in=ids).values_list(
            "tenant_id", "remote_id", "owner_remote_id", *columns
        )
        for tenant_id, remote_id, owner_id, *parts in rows:
            label = " ".join(p for p in parts[:2] if p) or (parts[2] if len(parts) > 2 else "")
            names.records[(tenant_id, remote_id)] = (label, owner_id)
            if owner_id:
                user_keys.add((tenant_id, owner_id))
    tenants |= {t for t, _ in user_keys}
    if user_keys:
        for tenant_id, remote_id, name, email in CrmUser.objects.filter(
            tenant_id__in={t for t, _ in user_keys},
            remote_id__in={u for _, u in user_keys},
        ).values_list("tenant_id", "remote_id", "name", "email"):
            names.users[(tenant_id, remote_id)] = name or email or remote_id
    if tenants:
        names.instance_urls = dict(
            SalesforceConnection.objects.filter(tenant_id__in=tenants).values_list(
                "tenant_id", "instance_url"
            )
        )
    return names


def visitor_label(v: Visitor) -> str:
    return f"{v.first_name} {v.last_name}".strip() or v.email or v.phone or "Anonymous visitor"


def visitor_link(v: Visitor | None) -> SafeString:
    """The visitor's name to their admin page, and ↗ to the page customers see."""
    if v is None:
        return format_html("{}", "—")
    label = visitor_label(v)
    return format_html(
        '<a href="{}" title="{}">{}</a> <a href="{}" target="_blank" title="Visitor page">↗</a>',
        reverse("admin:visitors_visitor_change", args=[v.pk]),
        f"{label} · {v.email or v.phone}",
        _short(label),
        reverse("visitor_detail", args=[v.pk]),
    )


def company_link(c: Company | None) -> SafeString:
    if c is None:
        return format_html("{}", "")
    return format_html(
        '<a href="{}" title="{}">{}</a> <a href="{}" target="_blank" title="Company page">↗</a>',
        reverse("admin:visitors_company_change", args=[c.pk]),
        f"{c.name} · {c.domain}" if c.name else c.domain,
        _short(c.name or c.domain),
        reverse("company_detail", args=[c.pk]),
    )


def person_and_company(v: Visitor | None, c: Company | None) -> SafeString:
    """One cell: the visitor, and their company below in grey."""
    if v is None and c is None:
        return format_html("{}", "—")
    if v is None:
        return company_link(c)
    if c is None:
        return visitor_link(v)
    return format_html('{}<br><span class="quiet">{}</span>', visitor_link(v), company_link(c))


def _short(text: str, length: int = 26) -> str:
    return text if len(text) <= length else f"{text[: length - 1]}…"


def truncated(text: str, length: int = 60) -> SafeString:
    """Short enough for a laptop-wide table; the whole text on hover."""
    text = text or ""
    if len(text) <= length:
        return format_html("{}", text)
    return format_html('<span title="{}">{}…</span>', text, text[: length - 1])
