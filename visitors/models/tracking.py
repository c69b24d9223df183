"""Sites, events, visitors, sessions and companies seen on customers' websites.

A `Visitor` is one person. Each browser they use is a `Device` (the snippet's first-party
anonymous id); identifying two devices with the same email merges their visitors, so devices,
sessions and events all end up on one person. Counters live on the visitor and are changed
only with atomic updates by `visitors.tracking` (ingest, people), never recounted from history.
"""

from __future__ import annotations

import secrets
import uuid

from django.db import models

from crm.owners import OwnerRule
from salesmonk.tenants.models import Tenant, TenantOwnedModel

SESSION_TIMEOUT_MINUTES = 30
UTM_FIELDS = ("utm_campaign", "utm_content", "utm_medium", "utm_source")


def new_site_key() -> str:
    return "sk_" + secrets.token_urlsafe(18)


class Site(TenantOwnedModel):
    """A website of the tenant. The key is public (it is in the snippet); what protects the
    endpoint is the origin check against `allowed_domains`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=40, unique=True, default=new_site_key, editable=False)
    allowed_domains = models.JSONField(
        default=list,
        blank=True,
        help_text='Hosts allowed to send events, e.g. ["acme.com"]; subdomains are included.',
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Company(TenantOwnedModel):
    """A company seen on the site, keyed by `crm.normalize.normalize_domain`."""

    class Source(models.TextChoices):
        EXPLICIT = "explicit", "Given by the visitor"
        EMAIL = "email", "Email domain"
        IP = "ip", "IP address"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    domain = models.CharField(max_length=253)
    name = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "domain"], name="visitors_company_domain"),
        ]

    def __str__(self) -> str:
        return self.name or self.domain


class Visitor(TenantOwnedModel):
    """A person: anonymous until identified. A merged visitor keeps `merged_into` so old
    links still lead somewhere; its counters moved to the survivor.

    Every ingested request updates its visitor's counters and `last_seen_at`, which the list
    indexes hold, so each update writes a new entry in every index of this table: keep only
    the indexes a page or filter reads (the tenant's own is covered by `(tenant, email)`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    email = models.CharField(max_length=254, blank=True, default="")
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="")
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="visitors"
    )
    company_source = models.CharField(
        max_length=8, choices=Company.Source.choices, blank=True, default=""
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    total_sessions = models.PositiveIntegerField(default=0)
    total_events = models.PositiveIntegerField(default=0)
    utm_campaign = models.CharField(max_length=255, blank=True, default="")
    utm_content = models.CharField(max_length=255, blank=True, default="")
    utm_medium = models.CharField(max_length=255, blank=True, default="")
    utm_source = models.CharField(max_length=255, blank=True, default="")
    identified_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Who the visitor is in Salesforce, as `visitors.tracking.selectors.visitors_in_crm` answers it,
    # stored so segment filters are column lookups. Written only by
    # `visitors.tracking.crm_match.visitor_crm_match_refresh`; `crm_matched_at` is when that
    # last wrote the row (null: never computed yet).
    crm_contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    crm_lead = models.ForeignKey(
        "crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    crm_account = models.ForeignKey(
        "crm.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    crm_owner = models.ForeignKey(
        "crm.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Which link of the owner chain (`crm.owners`) chose `crm_owner` ("" when none did). A
    # database default too: ingest inserts visitors with its own SQL, naming no CRM column.
    crm_owner_rule = models.CharField(
        max_length=20, blank=True, default="", db_default="", choices=OwnerRule.choices
    )
    crm_matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [
            models.Index(fields=["tenant", "email"], name="visitors_visitor_email"),
            # The Visitors page: live visitors, keyset-paginated on (last seen, id); also the
            # alert scan's "seen since" range.
            models.Index(
                fields=["tenant", "-last_seen_at", "-id"],
                name="visitors_visitor_live_page",
                condition=models.Q(merged_into__isnull=True),
            ),
            # Companies: a company's latest visitor, its visitor count, its visitors' sessions.
            models.Index(
                fields=["company", "last_seen_at", "id"],
                name="visitors_visitor_company_seen",
                condition=models.Q(merged_into__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or f"Visitor {str(self.id)[:8]}"


class Identity(TenantOwnedModel):
    """Which visitor an email address is. The unique key is what makes merging safe under
    concurrency: two devices identifying with one email race on this row, not on visitors."""

    id = models.BigAutoField(primary_key=True)
    email = models.CharField(max_length=254)
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="identities")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="visitors_identity_email"),
        ]

    def __str__(self) -> str:
        return self.email


class Device(TenantOwnedModel):
    """One browser: the snippet's first-party anonymous id on one site."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # `site` and `visitor` lookups are served by the unique key and `visitors_device_visitor`.
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="devices", db_index=False)
    anonymous_id = models.CharField(max_length=64)
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="devices", db_index=False
    )
    session = models.ForeignKey(
        "Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True, default="")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "anonymous_id"], name="visitors_device_anon"),
        ]
        indexes = [models.Index(fields=["visitor"], name="visitors_device_visitor")]

    def __str__(self) -> str:
        return self.anonymous_id


class Session(TenantOwnedModel):
    """Continuous activity on one device; a gap of more than 30 minutes starts a new one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # `visitor` lookups are served by `visitors_session_visitor`.
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="sessions", db_index=False
    )
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="sessions")
    started_at = models.DateTimeField()
    last_event_at = models.DateTimeField()
    event_count = models.PositiveIntegerField(default=0)
    landing_url = models.CharField(max_length=2048, blank=True, default="")
    referrer = models.CharField(max_length=2048, blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["visitor", "-started_at"], name="visitors_session_visitor")]

    def __str__(self) -> str:
        return f"{self.visitor_id} @ {self.started_at:%Y-%m-%d %H:%M}"


class EventType(models.TextChoices):
    PAGE = "page", "Page view"
    IDENTIFY = "identify", "Identify"
    CHAT = "chat", "Chat message"
    MEETING = "meeting", "Meeting booked"


class Event(TenantOwnedModel):
    """What the snippet sent, as accepted. Append-only.

    The busiest table: every ingested event is a row. Its references are not checked by
    the database: the ingest writer inserts events in the transaction that locked their
    device and created or locked their visitor and session, so they always point at rows
    that exist, and deletes cascade through Django as before. A checked reference cost a
    lookup of its target (with a row lock) per event and reference — about half of an
    event's insert. Only the two indexes pages read are kept: a visitor's events, a
    session's events."""

    id = models.BigAutoField(primary_key=True)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    visitor = models.ForeignKey(
        Visitor,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    session = models.ForeignKey(
        Session,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    type = models.CharField(max_length=8, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    url = models.CharField(max_length=2048, blank=True, default="")
    path = models.CharField(max_length=2048, blank=True, default="")
    title = models.CharField(max_length=512, blank=True, default="")
    referrer = models.CharField(max_length=2048, blank=True, default="")
    utm_campaign = models.CharField(max_length=255, blank=True, default="")
    utm_content = models.CharField(max_length=255, blank=True, default="")
    utm_medium = models.CharField(max_length=255, blank=True, default="")
    utm_source = models.CharField(max_length=255, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["visitor", "-occurred_at"], name="visitors_event_visitor"),
            models.Index(fields=["session"], name="visitors_event_session"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.path}".strip()


class Chat(TenantOwnedModel):
    """A conversation started on the site; the write sync logs it as a Note."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="chats")
    conversation_key = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "conversation_key"], name="visitors_chat_key"
            ),
        ]

    def __str__(self) -> str:
        return f"Chat {self.conversation_key}"


class ChatMessage(TenantOwnedModel):
    class Sender(models.TextChoices):
        VISITOR = "visitor", "Visitor"
        AGENT = "agent", "Agent"

    id = models.BigAutoField(primary_key=True)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=7, choices=Sender.choices, default=Sender.VISITOR)
    body = models.TextField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]


class Meeting(TenantOwnedModel):
    """A meeting the visitor booked; the write sync logs it on the activity timeline."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="meetings")
    title = models.CharField(max_length=255)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField()
    booked_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title


class IpRange(models.Model):
    """A block of IP addresses owned by a company (shared by all tenants: it is public
    data, loaded with `manage.py load_ip_ranges`). Addresses are stored as 16 bytes
    (IPv4 mapped into IPv6) so one byte-wise comparison orders both families."""

    id = models.BigAutoField(primary_key=True)
    start = models.BinaryField(max_length=16)
    end = models.BinaryField(max_length=16)
    domain = models.CharField(max_length=253)
    name = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["start"], name="visitors_iprange_start")]

    def __str__(self) -> str:
        return self.domain


class IntentKind(models.TextChoices):
    """What the write sync should do; each kind is enabled by one `crm.WritePolicy` flag."""

    ACCOUNT = "account", "Create the company's account"
    LEAD = "lead", "Create a lead for the visitor"
    PERSON = "person", "Update the contact or lead's SalesMonk fields"
    MEETING = "meeting", "Log meetings"
    CHAT = "chat", "Log chats"


class WriteIntent(TenantOwnedModel):
    """An outbox row for the write sync, recorded in the same transaction as the event.
    Coalesced: at most one pending intent per visitor and kind, so a busy visitor costs one
    Salesforce write per sync, carrying the latest values read at write time."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="write_intents")
    kind = models.CharField(max_length=8, choices=IntentKind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "kind"],
                condition=models.Q(status="pending"),
                name="visitors_intent_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "kind"], name="visitors_intent_queue")]

    def __str__(self) -> str:
        return f"{self.kind} {self.visitor_id} ({self.status})"
