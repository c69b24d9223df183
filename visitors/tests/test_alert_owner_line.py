"""The owner line of an alert says which rule of the owner chain chose the owner, for each
rule an existing record can give, with the owner's name escaped for Slack; and the live
match the scan asks agrees with it (an outsider's CRM never answers for us)."""

from __future__ import annotations

from typing import Any

import pytest

from crm.factories import AccountFactory, ContactFactory, LeadFactory, UserFactory
from crm.models import CrmUser
from crm.owners import OwnerRule
from salesmonk.tenants.models import Membership, Tenant
from visitors.alerts.messages import alert_message
from visitors.models import AlertKind, AlertRule, Visitor
from visitors.tests.browse_factories import VisitorFactory
from visitors.tracking.selectors import visitors_in_crm

pytestmark = pytest.mark.django_db


def owner_field(message: Any) -> str:
    (field,) = [f["text"] for f in message.blocks[1]["fields"] if f["text"].startswith("*Owner*")]
    return field


def message_for(tenant: Tenant, visitor: Visitor, slack_id: str | None = None) -> Any:
    in_crm = visitors_in_crm(tenant=tenant, visitors=[visitor], opportunities=False)[visitor.pk]
    rule = AlertRule(tenant=tenant, name="Owners", kind=AlertKind.OWNED_ACCOUNT)
    return alert_message(
        rule=rule, visitor=visitor, in_crm=in_crm, pages=[], owner_slack_id=slack_id
    )


@pytest.fixture
def reps(tenant: Tenant) -> dict[str, CrmUser]:
    return {
        "account": UserFactory(tenant=tenant, name="Jo Closer"),
        "contact": UserFactory(tenant=tenant, name="<!channel> & Co"),
        "lead": UserFactory(tenant=tenant, name="Lee Lead"),
    }


def test_the_account_owner_comes_first_and_is_named_with_the_rule(
    tenant: Tenant, reps: dict[str, CrmUser]
) -> None:
    account = AccountFactory(tenant=tenant, owner=reps["account"])
    ContactFactory(tenant=tenant, email="ann@initech.com", owner=reps["contact"], account=account)
    ann = VisitorFactory(tenant=tenant, email="ann@initech.com")

    message = message_for(tenant, ann)

    assert owner_field(message) == "*Owner*\n*Jo Closer* — account owner"
    assert message.text.startswith("*Jo Closer*: ")
    assert owner_field(message_for(tenant, ann, "U0JO0001")) == (
        "*Owner*\n<@U0JO0001> — account owner"
    )


def test_the_contact_owner_is_escaped_and_named_with_the_rule(
    tenant: Tenant, reps: dict[str, CrmUser]
) -> None:
    account = AccountFactory(tenant=tenant, owner=UserFactory(tenant=tenant, is_active=False))
    ContactFactory(tenant=tenant, email="ann@initech.com", owner=reps["contact"], account=account)
    ann = VisitorFactory(tenant=tenant, email="ann@initech.com")

    assert owner_field(message_for(tenant, ann)) == (
        "*Owner*\n*&lt;!channel&gt; &amp; Co* — contact owner"
    )


def test_a_lead_owner_and_a_queue(tenant: Tenant, reps: dict[str, CrmUser]) -> None:
    LeadFactory(tenant=tenant, email="lee@prospect.example", owner=reps["lead"])
    LeadFactory(
        tenant=tenant, email="q@prospect.example", owner=None, owner_remote_id="00G5g00000QUEUEAAA"
    )
    lee = VisitorFactory(tenant=tenant, email="lee@prospect.example")
    queued = VisitorFactory(tenant=tenant, email="q@prospect.example")

    assert owner_field(message_for(tenant, lee)) == "*Owner*\n*Lee Lead* — lead owner"
    in_crm = visitors_in_crm(tenant=tenant, visitors=[queued])[queued.pk]
    assert (in_crm.owner, in_crm.owner_rule) == (None, None)
    assert [
        f for f in message_for(tenant, queued).blocks[1]["fields"] if "Owner" in f["text"]
    ] == []


def test_the_live_match_never_reads_another_tenants_records(
    tenant: Tenant, outsider: Membership, reps: dict[str, CrmUser]
) -> None:
    theirs = UserFactory(tenant=outsider.tenant, name="Globex Rep")
    LeadFactory(tenant=outsider.tenant, email="lee@prospect.example", owner=theirs)
    LeadFactory(tenant=tenant, email="lee@prospect.example", owner=reps["lead"])
    lee = VisitorFactory(tenant=tenant, email="lee@prospect.example")
    in_crm = visitors_in_crm(tenant=tenant, visitors=[lee])[lee.pk]
    assert (in_crm.owner, in_crm.owner_rule) == (reps["lead"], OwnerRule.LEAD_OWNER)
