"""Write intents: recorded with the event only for the kinds the tenant's policy enables,
one pending row per visitor and kind."""

from __future__ import annotations

import pytest

from crm.models import WritePolicy
from salesmonk.tenants.models import Membership, Tenant
from visitors.models import IntentKind, Visitor, WriteIntent
from visitors.tests.conftest import Send, now_ms, page

pytestmark = pytest.mark.django_db

ALL_ON = dict.fromkeys(
    ("create_accounts", "create_leads", "update_people", "log_meetings", "log_chats"), True
)


def pending() -> list[tuple[str, str]]:
    return sorted(
        WriteIntent.objects.filter(status="pending").values_list("visitor__email", "kind")
    )


def identify_and_act(send: Send) -> None:
    send(page())
    send({"type": "identify", "email": "ann@initech.com"})
    send(page(url="https://www.acme.example/?utm_source=ads"))
    send({"type": "chat", "conversation_id": "c1", "message": "hi"})
    send({"type": "chat", "conversation_id": "c1", "message": "still there?"})
    send({"type": "meeting", "title": "Demo", "starts_at": now_ms() + 3_600_000, "duration": 30})


def test_no_policy_no_intents(send: Send) -> None:
    identify_and_act(send)
    assert not WriteIntent.objects.exists()


def test_all_switches_off_no_intents(send: Send, tenant: Tenant) -> None:
    WritePolicy.objects.create(tenant=tenant)
    identify_and_act(send)
    assert not WriteIntent.objects.exists()


def test_enabled_kinds_are_coalesced_per_visitor(send: Send, tenant: Tenant) -> None:
    WritePolicy.objects.create(tenant=tenant, **ALL_ON)
    identify_and_act(send)
    email = "ann@initech.com"
    assert pending() == [(email, k) for k in ("account", "chat", "lead", "meeting", "person")]
    assert WriteIntent.objects.count() == 5


def test_only_the_enabled_kinds(send: Send, tenant: Tenant) -> None:
    WritePolicy.objects.create(tenant=tenant, update_people=True, log_chats=True)
    identify_and_act(send)
    assert pending() == [("ann@initech.com", "chat"), ("ann@initech.com", "person")]


def test_anonymous_activity_records_nothing(send: Send, tenant: Tenant) -> None:
    WritePolicy.objects.create(tenant=tenant, **ALL_ON)
    send(page())
    send({"type": "chat", "conversation_id": "c1", "message": "hi"})
    assert not WriteIntent.objects.exists()


def test_a_done_intent_lets_a_new_one_be_recorded(send: Send, tenant: Tenant) -> None:
    WritePolicy.objects.create(tenant=tenant, update_people=True)
    send({"type": "identify", "email": "ann@initech.com"})
    WriteIntent.objects.update(status=WriteIntent.Status.DONE)
    send(page())
    assert list(WriteIntent.objects.order_by("id").values_list("kind", "status")) == [
        (IntentKind.PERSON, "done"),
        (IntentKind.PERSON, "pending"),
    ]


def test_merge_keeps_one_pending_intent_per_kind(send: Send, tenant: Tenant) -> None:
    WritePolicy.objects.create(tenant=tenant, update_people=True, log_chats=True)
    send({"type": "identify", "email": "ann@initech.com"}, anonymous_id="laptop-0001")
    send({"type": "identify", "email": "ann@other.com"}, anonymous_id="phone-00001")
    send({"type": "chat", "conversation_id": "c9", "message": "hi"}, anonymous_id="phone-00001")
    assert WriteIntent.objects.count() == 3
    send({"type": "identify", "email": "ann@initech.com"}, anonymous_id="phone-00001")
    person = Visitor.objects.get(merged_into__isnull=True)
    assert sorted(WriteIntent.objects.values_list("visitor_id", "kind")) == [
        (person.pk, "chat"),
        (person.pk, "person"),
    ]


def test_outsider_policy_does_not_apply(send: Send, outsider: Membership) -> None:
    WritePolicy.objects.create(tenant=outsider.tenant, **ALL_ON)
    identify_and_act(send)
    assert not WriteIntent.objects.exists()
