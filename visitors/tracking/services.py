"""Sites and the IP range table."""

from __future__ import annotations

import csv
import ipaddress
import itertools
from collections.abc import Iterable
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.normalize import normalize_domain
from salesmonk.tenants.models import Tenant, User
from salesmonk.tenants.services import audit_record
from visitors.models import IpRange, Site
from visitors.tracking.resolvers import ip_answers_forget, ip_key

_BATCH = 5_000


def _allowed_host(value: str) -> str:
    host = value.strip().lower().removeprefix("https://").removeprefix("http://")
    host = host.split("/", 1)[0].split(":", 1)[0].rstrip(".")
    if not host or (host != "localhost" and "." not in host and not host.startswith("[")):
        raise ValidationError(f"{value!r} is not a host name.")
    return host


@transaction.atomic
def site_create(
    *, tenant: Tenant, acting_user: User | None, name: str, allowed_domains: Iterable[str]
) -> Site:
    """A new site with a fresh public key; events are accepted only from `allowed_domains`
    (and their subdomains)."""
    hosts = sorted({_allowed_host(d) for d in allowed_domains})
    if not hosts:
        raise ValidationError("A site needs at least one allowed domain.")
    site = Site.objects.create(tenant=tenant, name=name.strip() or hosts[0], allowed_domains=hosts)
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="site.created",
        target=site.name,
        data={"allowed_domains": hosts},
    )
    return site


def _network(row: dict[str, str], line: int) -> tuple[bytes, bytes]:
    try:
        if row.get("network"):
            net = ipaddress.ip_network(row["network"].strip(), strict=False)
            return ip_key(str(net[0])), ip_key(str(net[-1]))
        return ip_key(row["start"].strip()), ip_key(row["end"].strip())
    except (KeyError, ValueError, AttributeError):
        raise ValidationError(f"line {line}: give `network` (CIDR) or `start` and `end`.") from None


@transaction.atomic
def ip_ranges_load(*, source: IO[str], replace: bool = True) -> int:
    """Load IP ranges from CSV (`network,domain,name` or `start,end,domain,name`), replacing
    the table by default. All or nothing: any bad line or overlap aborts the load."""
    ranges: list[IpRange] = []
    for line, row in enumerate(csv.DictReader(source), start=2):
        start, end = _network(row, line)
        domain = normalize_domain(row.get("domain") or "")
        if domain is None or start > end:
            raise ValidationError(f"line {line}: needs a valid domain and start <= end.")
        ranges.append(
            IpRange(start=start, end=end, domain=domain, name=(row.get("name") or "")[:255])
        )
    if replace:
        IpRange.objects.all().delete()
    else:
        ranges += list(IpRange.objects.all())
    ranges.sort(key=lambda r: bytes(r.start))
    for before, after in itertools.pairwise(ranges):
        if bytes(after.start) <= bytes(before.end):
            raise ValidationError(f"{after.domain} overlaps {before.domain}.")
    new = [r for r in ranges if r.pk is None]
    IpRange.objects.bulk_create(new, batch_size=_BATCH)
    transaction.on_commit(ip_answers_forget)
    return len(new)


@transaction.atomic
def site_update(
    *,
    tenant: Tenant,
    acting_user: User | None,
    site: Site,
    name: str | None = None,
    allowed_domains: Iterable[str] | None = None,
    is_active: bool | None = None,
) -> Site:
    """Rename a site, change the hosts allowed to send its events, or (de)activate it: an
    inactive site's key is refused at ingest. Only what is given changes."""
    if site.tenant_id != tenant.pk:
        raise ValidationError("That site is not in this workspace.")
    before = {"name": site.name, "allowed_domains": site.allowed_domains, "active": site.is_active}
    if allowed_domains is not None:
        hosts = sorted({_allowed_host(d) for d in allowed_domains})
        if not hosts:
            raise ValidationError("A site needs at least one allowed domain.")
        site.allowed_domains = hosts
    if name is not None:
        site.name = name.strip() or site.allowed_domains[0]
    if is_active is not None:
        site.is_active = is_active
    site.save(update_fields=["name", "allowed_domains", "is_active"])
    audit_record(
        tenant=tenant,
        actor=acting_user,
        action="site.updated",
        target=site.name,
        data={
            "before": before,
            "after": {
                "name": site.name,
                "allowed_domains": site.allowed_domains,
                "active": site.is_active,
            },
        },
    )
    return site
