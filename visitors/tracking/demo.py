"""Demo traffic: a month of believable visits for the demo tenant, recorded through the same
service the ingest endpoint uses, so sessions, counters, identities and companies come out
exactly as real traffic would make them.

Visitors are drawn from the tenant's mirrored Salesforce people and account domains (so the
Salesforce side of the pages has something to show) plus anonymous and free-mail visitors.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils import timezone

from crm.models import Account, Contact, Lead
from salesmonk.tenants.models import Tenant, User
from visitors.models import Device, EventType, Site
from visitors.tracking.crm_match import visitor_crm_match_refresh
from visitors.tracking.ingest import events_record
from visitors.tracking.payload import EventIn, utm_from_query
from visitors.tracking.services import site_create

DEMO_SITE_NAME = "Demo website"
DEMO_SITE_HOST = "www.acme.example"
_PAGES = [
    ("/", "Acme — Home"),
    ("/pricing", "Pricing"),
    ("/product", "Product tour"),
    ("/product/integrations", "Integrations"),
    ("/customers", "Customer stories"),
    ("/blog/visitor-identification", "Blog: identifying website visitors"),
    ("/blog/salesforce-sync", "Blog: keeping Salesforce in sync"),
    ("/docs/getting-started", "Docs: getting started"),
    ("/demo", "Book a demo"),
    ("/careers", "Careers"),
]
_CAMPAIGNS = [
    ("google", "cpc", "brand-search"),
    ("linkedin", "social", "q4-abm"),
    ("newsletter", "email", "november-digest"),
    ("g2", "referral", "reviews"),
]
_REFERRERS = ["https://www.google.com/", "https://www.linkedin.com/", "", ""]
_FIRST = ["Alex", "Sam", "Priya", "Jordan", "Mei", "Lucas", "Amara", "Noah", "Elena", "Omar"]
_LAST = ["Garcia", "Chen", "Okafor", "Novak", "Silva", "Kim", "Müller", "Haddad", "Rossi", "Park"]
_FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com"]


@dataclass(frozen=True)
class DemoTraffic:
    site: Site
    visitors: int
    events: int
    created: bool


def demo_traffic_generate(
    *,
    tenant: Tenant,
    acting_user: User | None = None,
    visitors: int = 300,
    days: int = 30,
    seed: int = 7,
) -> DemoTraffic:
    """Create the demo site and its traffic once; a second call changes nothing."""
    site = Site.objects.for_tenant(tenant).filter(name=DEMO_SITE_NAME).first()
    if site is None:
        site = site_create(
            tenant=tenant,
            acting_user=acting_user,
            name=DEMO_SITE_NAME,
            allowed_domains=[DEMO_SITE_HOST.removeprefix("www."), "localhost", "127.0.0.1"],
        )
    elif Device.objects.filter(site=site).exists():
        return DemoTraffic(site=site, visitors=0, events=0, created=False)

    rng = random.Random(seed)
    people = _crm_people(tenant=tenant, limit=visitors)
    domains = list(
        Account.objects.for_tenant(tenant)
        .filter(remote_was_deleted=False)
        .exclude(domain="")
        .order_by("remote_id")
        .values_list("domain", flat=True)[: visitors // 2]
    )
    now = timezone.now()
    events = 0
    for n in range(visitors):
        traits = _traits(rng, n=n, people=people, domains=domains)
        anonymous_id = f"demo-{seed}-{n:05d}"
        starts = sorted(
            now - dt.timedelta(minutes=rng.randint(10, days * 24 * 60))
            for _ in range(rng.choice([1, 1, 2, 2, 3, 4, 6]))
        )
        for number, start in enumerate(starts):
            batch = _session(rng, anonymous_id=anonymous_id, start=start, now=now)
            if traits and number == 0:
                at = batch[-1].occurred_at
                batch.append(EventIn(EventType.IDENTIFY, anonymous_id, at, data=traits))
                if rng.random() < 0.15:
                    batch.append(_meeting(rng, anonymous_id=anonymous_id, at=at, now=now))
            if traits and rng.random() < 0.1:
                batch.append(_chat(anonymous_id=anonymous_id, at=batch[-1].occurred_at, n=n))
            events += events_record(tenant=tenant, site=site, events=batch, ip="203.0.113.10")
    # Anonymous visitors got their company from the IP on the page-view path, which does
    # not match them to the CRM: match everyone now.
    visitor_crm_match_refresh(tenant=tenant)
    return DemoTraffic(site=site, visitors=visitors, events=events, created=True)


def _crm_people(*, tenant: Tenant, limit: int) -> list[tuple[str, str, str]]:
    """(email, first name, last name) of mirrored contacts and open leads, contacts first."""
    rows: list[tuple[str, str, str]] = []
    for model in (Contact, Lead):
        rows += list(
            model.objects.for_tenant(tenant)
            .filter(remote_was_deleted=False)
            .exclude(email="")
            .order_by("remote_id")
            .values_list("email", "first_name", "last_name")[: limit // 4]
        )
    return rows


def _traits(
    rng: random.Random, *, n: int, people: list[tuple[str, str, str]], domains: list[str]
) -> dict[str, str] | None:
    """Who visitor `n` says they are: a Salesforce person, someone at an account's domain, a
    free-mail address, or nobody (anonymous)."""
    roll = rng.random()
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    if roll < 0.35 and n < len(people):
        email, first, last = people[n]
    elif roll < 0.55 and domains:
        email = f"{first.lower()}.{last.lower()}{n}@{rng.choice(domains)}"
    elif roll < 0.65:
        email = f"{first.lower()}{n}@{rng.choice(_FREE_MAIL)}"
    else:
        return None
    traits = {"email": email, "first_name": first, "last_name": last, "phone": ""}
    return traits | {"company": "", "company_domain": ""}


def _session(
    rng: random.Random, *, anonymous_id: str, start: dt.datetime, now: dt.datetime
) -> list[EventIn]:
    campaign = rng.choice(_CAMPAIGNS) if rng.random() < 0.4 else None
    at, events = start, []
    for index in range(rng.randint(1, 6)):
        path, title = rng.choice(_PAGES)
        url = f"https://{DEMO_SITE_HOST}{path}"
        if index == 0 and campaign:
            source, medium, name = campaign
            url += f"?utm_source={source}&utm_medium={medium}&utm_campaign={name}"
        referrer = rng.choice(_REFERRERS) if index == 0 else f"https://{DEMO_SITE_HOST}/"
        events.append(
            EventIn(
                EventType.PAGE,
                anonymous_id,
                min(at, now),
                url=url,
                path=path,
                title=title,
                referrer=referrer,
                utm=utm_from_query(urlsplit(url).query),
            )
        )
        at += dt.timedelta(seconds=rng.randint(20, 240))
    return events


def _meeting(
    rng: random.Random, *, anonymous_id: str, at: dt.datetime, now: dt.datetime
) -> EventIn:
    starts = max(at, now) + dt.timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 6))
    data = {"title": "SalesMonk demo", "starts_at": starts.isoformat(), "duration": 30}
    return EventIn(EventType.MEETING, anonymous_id, at, data=data)


def _chat(*, anonymous_id: str, at: dt.datetime, n: int) -> EventIn:
    data = {
        "conversation_id": f"demo-chat-{n:05d}",
        "sender": "visitor",
        "message": "Hi! Does SalesMonk work with Salesforce sandboxes?",
    }
    return EventIn(EventType.CHAT, anonymous_id, at, data=data)
