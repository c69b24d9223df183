"""factory-boy factories for the CRM mirror, with realistic Salesforce ids."""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal
from typing import Any

import factory

from crm.models import (
    Account,
    ActivityType,
    Contact,
    CrmUser,
    Engagement,
    EngagementType,
    Lead,
    Note,
    Opportunity,
    OpportunityStatus,
    Stage,
    Task,
)
from salesmonk.tenants.factories import TenantFactory

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = string.ascii_uppercase + "012345"


def salesforce_id(prefix: str, n: int) -> str:
    """An 18-character Salesforce id: key prefix, pod "5g", counter, and the case-safe
    checksum Salesforce appends to the 15-character id."""
    counter = ""
    for _ in range(8):
        n, digit = divmod(n, 62)
        counter = _BASE62[digit] + counter
    short = f"{prefix}5g00{counter}"
    checksum = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(short[start : start + 5]) if ch.isupper())
        checksum += _SUFFIX[bits]
    return short + checksum


def _remote_id(prefix: str) -> Any:
    return factory.Sequence(lambda n: salesforce_id(prefix, n + 1))


def _remote_ref(field: str) -> Any:
    """`<field>_remote_id` follows the related object the factory was given (or built)."""
    return factory.LazyAttribute(lambda o: getattr(getattr(o, field), "remote_id", ""))


_MODSTAMP = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)


class MirrorFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    tenant = factory.SubFactory(TenantFactory)
    remote_created_at = _MODSTAMP - dt.timedelta(days=30)
    remote_updated_at = _MODSTAMP
    remote_data = factory.LazyAttribute(lambda o: {"Id": o.remote_id})


def _same_tenant(factory_class: type[factory.Factory], **kwargs: Any) -> Any:
    return factory.SubFactory(factory_class, tenant=factory.SelfAttribute("..tenant"), **kwargs)


class UserFactory(MirrorFactory):
    class Meta:
        model = CrmUser

    remote_id = _remote_id("005")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"rep{n}@acme.example")
    is_active = True


class AccountFactory(MirrorFactory):
    class Meta:
        model = Account

    remote_id = _remote_id("001")
    name = factory.Sequence(lambda n: f"Initech {n}")
    website = factory.LazyAttribute(lambda o: f"https://www.{o.domain}/")
    domain = factory.Sequence(lambda n: f"initech{n}.example")
    industry = "Technology"
    type = "Prospect"
    owner = _same_tenant(UserFactory)
    owner_remote_id = _remote_ref("owner")


class ContactFactory(MirrorFactory):
    class Meta:
        model = Contact

    remote_id = _remote_id("003")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@initech.example")
    email_addresses = factory.LazyAttribute(
        lambda o: [{"email_address": o.email, "email_address_type": "Work"}]
    )
    phone = ""
    title = "VP Sales"
    account = _same_tenant(AccountFactory)
    account_remote_id = _remote_ref("account")
    owner = _same_tenant(UserFactory)
    owner_remote_id = _remote_ref("owner")


class LeadFactory(MirrorFactory):
    class Meta:
        model = Lead

    remote_id = _remote_id("00Q")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@prospect.example")
    phone = ""
    company = "Prospect Ltd"
    lead_status = "Open - Not Contacted"
    lead_source = "Web"
    owner = _same_tenant(UserFactory)
    owner_remote_id = _remote_ref("owner")
    converted_contact = None
    converted_contact_remote_id = _remote_ref("converted_contact")
    converted_account = None
    converted_account_remote_id = _remote_ref("converted_account")


class StageFactory(MirrorFactory):
    class Meta:
        model = Stage

    remote_id = _remote_id("01J")
    name = factory.Sequence(lambda n: f"Stage {n}")
    probability = 10
    sort_order = factory.Sequence(lambda n: n)


class OpportunityFactory(MirrorFactory):
    class Meta:
        model = Opportunity

    remote_id = _remote_id("006")
    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("25000.00")
    close_date = dt.date(2026, 3, 31)
    status = OpportunityStatus.OPEN
    pipeline = "New Business"
    stage = _same_tenant(StageFactory)
    stage_remote_id = _remote_ref("stage")
    owner = _same_tenant(UserFactory)
    owner_remote_id = _remote_ref("owner")
    account = _same_tenant(AccountFactory)
    account_remote_id = _remote_ref("account")


class TaskFactory(MirrorFactory):
    class Meta:
        model = Task

    remote_id = _remote_id("00T")
    subject = "Follow up"
    owner = _same_tenant(UserFactory)
    owner_remote_id = _remote_ref("owner")
    account = None
    account_remote_id = _remote_ref("account")
    opportunity = None
    opportunity_remote_id = _remote_ref("opportunity")
    contact = _same_tenant(ContactFactory)
    contact_remote_id = _remote_ref("contact")
    lead = None
    lead_remote_id = _remote_ref("lead")
    due_date = dt.date(2026, 2, 1)


class EngagementTypeFactory(MirrorFactory):
    class Meta:
        model = EngagementType

    # Salesforce has no engagement type object; the sync names them after the activity.
    remote_id = factory.Sequence(lambda n: f"MEETING-{n}")
    activity_type = ActivityType.MEETING
    name = "Meeting"


class EngagementFactory(MirrorFactory):
    class Meta:
        model = Engagement

    remote_id = _remote_id("00U")
    subject = "Demo"
    start_time = _MODSTAMP
    end_time = _MODSTAMP + dt.timedelta(minutes=30)
    engagement_type = _same_tenant(EngagementTypeFactory)
    engagement_type_remote_id = _remote_ref("engagement_type")
    owner = _same_tenant(UserFactory)
    owner_remote_id = _remote_ref("owner")
    account = None
    account_remote_id = _remote_ref("account")
    lead = None
    lead_remote_id = _remote_ref("lead")


class NoteFactory(MirrorFactory):
    class Meta:
        model = Note

    remote_id = _remote_id("002")
    title = "Call notes"
    content = "Interested in the enterprise plan."
    owner = _same_tenant(UserFactory)
    owner_remote_id = _remote_ref("owner")
    account = _same_tenant(AccountFactory)
    account_remote_id = _remote_ref("account")
    contact = None
    contact_remote_id = _remote_ref("contact")
    lead = None
    lead_remote_id = _remote_ref("lead")
    opportunity = None
    opportunity_remote_id = _remote_ref("opportunity")
