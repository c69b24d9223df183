"""Enabling writes (staff only, confirmation page, audited, instant disable), what customers
see, write settings, the fallback owners they give pages, and field maps validated against
the org's describe."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from crm.models import WritePolicy
from integrations.models import FieldMapping, SalesforceConnection
from integrations.salesforce.client import SalesforceClient
from integrations.tests.writes import staff
from integrations.write.fieldmaps import (
    FieldMappingError,
    field_mapping_save,
    field_mapping_validate,
    mappings_for,
)
from integrations.write.policy import (
    WritePermissionDenied,
    enabled_flags,
    write_settings_update,
    write_state,
    writes_disable,
    writes_enable,
)
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import AuditEvent, Membership

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:integrations_tenantwrites_changelist"


@pytest.fixture(autouse=True)
def _fresh_describe_cache() -> None:
    cache.clear()


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(staff())
    return client


def test_writes_are_off_until_staff_enable_them(owner: Membership, outsider: Membership) -> None:
    assert enabled_flags(tenant=owner.tenant) == frozenset()
    assert write_state(tenant=owner.tenant).any_enabled is False


def test_admin_action_asks_for_confirmation_then_enables_and_audits(
    staff_client: Client, owner: Membership, outsider: Membership
) -> None:
    url = reverse(CHANGELIST)
    body = {"action": "enable_writes", ACTION_CHECKBOX_NAME: [str(owner.tenant.pk)]}

    page = staff_client.post(url, body)

    assert page.status_code == 200
    assert b"Enable Salesforce writes" in page.content
    assert not WritePolicy.objects.exists()

    done = staff_client.post(
        url, {**body, "confirm": "yes", "flags": ["create_leads", "log_chats"], "note": "Call 3/11"}
    )

    assert done.status_code == 302
    policy = WritePolicy.objects.get(tenant=owner.tenant)
    assert enabled_flags(tenant=owner.tenant) == {"create_leads", "log_chats"}
    assert policy.approved_by.email == "support@salesmonk.example"
    assert policy.note == "Call 3/11"
    event = AuditEvent.objects.get(tenant=owner.tenant, action="salesforce.writes_enabled")
    assert event.actor == policy.approved_by
    assert event.data["after"]["create_leads"] is True
    assert event.data["before"]["create_leads"] is False
    assert enabled_flags(tenant=outsider.tenant) == frozenset()


def test_enabling_without_a_note_keeps_the_confirmation_page(
    staff_client: Client, owner: Membership
) -> None:
    body = {
        "action": "enable_writes",
        ACTION_CHECKBOX_NAME: [str(owner.tenant.pk)],
        "confirm": "yes",
        "flags": ["create_leads"],
        "note": "",
    }
    page = staff_client.post(reverse(CHANGELIST), body)
    assert page.status_code == 200
    assert enabled_flags(tenant=owner.tenant) == frozenset()


def test_disabling_is_instant_and_audited(staff_client: Client, owner: Membership) -> None:
    support = staff("other@salesmonk.example")
    writes_enable(tenant=owner.tenant, acting_user=support, flags=["create_leads"], note="ok")

    response = staff_client.post(
        reverse(CHANGELIST),
        {"action": "disable_writes", ACTION_CHECKBOX_NAME: [str(owner.tenant.pk)]},
    )

    assert response.status_code == 302
    assert enabled_flags(tenant=owner.tenant) == frozenset()
    actions = list(AuditEvent.objects.filter(tenant=owner.tenant).values_list("action", flat=True))
    assert actions == ["salesforce.writes_disabled", "salesforce.writes_enabled"]


def test_customers_can_read_but_never_change_the_state(
    owner: Membership, owner_client: Client
) -> None:
    with pytest.raises(WritePermissionDenied):
        writes_enable(tenant=owner.tenant, acting_user=owner.user, flags=["create_leads"], note="x")
    with pytest.raises(WritePermissionDenied):
        writes_disable(tenant=owner.tenant, acting_user=owner.user)
    assert owner_client.get(reverse(CHANGELIST)).status_code == 302  # to the admin login
    writes_enable(tenant=owner.tenant, acting_user=staff(), flags=["log_meetings"], note="ok")
    state = write_state(tenant=owner.tenant)
    assert state.enabled["log_meetings"] is True
    assert state.enabled["create_leads"] is False
    assert state.approved_by == "support@salesmonk.example"


def test_default_lead_owner_must_be_an_active_mirrored_user(owner: Membership) -> None:
    from crm.models import CrmUser

    support = staff()
    CrmUser.objects.create(tenant=owner.tenant, remote_id="005000000000001AAA", name="Rep")
    CrmUser.objects.create(
        tenant=owner.tenant, remote_id="005000000000002AAA", name="Gone", is_active=False
    )
    with pytest.raises(ValueError, match="active Salesforce user"):
        write_settings_update(
            tenant=owner.tenant,
            acting_user=support,
            default_lead_owner_remote_id="005000000000002AAA",
        )
    ws = write_settings_update(
        tenant=owner.tenant,
        acting_user=support,
        default_lead_owner_remote_id="005000000000001AAA",
        lead_source="Website",
    )
    assert ws.default_lead_owner_remote_id == "005000000000001AAA"
    assert ws.lead_source == "Website"
    event = AuditEvent.objects.get(action="salesforce.write_settings_changed")
    assert event.data["after"]["lead_source"] == "Website"


def test_pages_read_the_default_lead_owner_and_installer_through_crm(
    owner: Membership, outsider: Membership, django_assert_num_queries
) -> None:
    """`visitors` may not import us: `crm.owners.fallback_owners` reads our settings through
    the provider this app registers, one query for the ids and one for the users."""
    from crm.factories import UserFactory
    from crm.owners import FallbackOwners, fallback_owners

    tenant = owner.tenant
    jo = UserFactory(tenant=tenant, name="Jo Closer")
    installer = UserFactory(tenant=tenant, name="Ina Staller")
    theirs = UserFactory(tenant=outsider.tenant)
    assert fallback_owners(tenant=tenant) == FallbackOwners()
    SalesforceConnection.objects.create(tenant=tenant, installer_remote_id=installer.remote_id)
    SalesforceConnection.objects.create(
        tenant=outsider.tenant, installer_remote_id=theirs.remote_id
    )
    with django_assert_num_queries(2):
        assert fallback_owners(tenant=tenant) == FallbackOwners(installer=installer)
    write_settings_update(
        tenant=tenant, acting_user=staff(), default_lead_owner_remote_id=jo.remote_id
    )
    assert fallback_owners(tenant=tenant) == FallbackOwners(
        default_lead_owner=jo, installer=installer
    )
    assert fallback_owners(tenant=outsider.tenant) == FallbackOwners(installer=theirs)


# --- field maps ----------------------------------------------------------------------------
def _describe(conn: SalesforceConnection, obj: str) -> dict:
    return SalesforceClient(conn, purpose="read").describe(obj)


def test_field_map_accepts_a_compatible_writable_field(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    outsider: Membership,
) -> None:
    mapping = field_mapping_save(
        tenant=owner.tenant,
        acting_user=staff(),
        object_name="Lead",
        attribute="utm_source",
        sf_field="description",
        rule="only_blank",
        describe=_describe(connected, "Lead"),
    )
    assert mapping.sf_field == "Description"
    assert [m.sf_field for m in mappings_for(tenant=owner.tenant)["Lead"]] == ["Description"]
    assert mappings_for(tenant=outsider.tenant)["Lead"] == []
    assert AuditEvent.objects.get(action="salesforce.field_mapping_saved").target == (
        "Lead.Description"
    )


@pytest.mark.parametrize(
    ("obj", "attribute", "field", "message"),
    [
        ("Lead", "utm_source", "Nope__c", "Lead has no field 'Nope__c'"),
        ("Lead", "utm_source", "IsConverted", "Lead.IsConverted is read-only in Salesforce"),
        ("Contact", "total_sessions", "Email", "Contact.Email is a email field"),
        ("Account", "last_seen_at", "NumberOfEmployees", "is a int field"),
        ("Opportunity", "email", "Name", "not Opportunity"),
        ("Lead", "favourite_colour", "Description", "Unknown SalesMonk attribute"),
    ],
)
def test_field_map_refuses_what_cannot_work(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    obj: str,
    attribute: str,
    field: str,
    message: str,
) -> None:
    describe = _describe(connected, obj if obj != "Opportunity" else "Lead")
    with pytest.raises(FieldMappingError, match=message):
        field_mapping_validate(
            object_name=obj, attribute=attribute, sf_field=field, rule="always", describe=describe
        )


def test_field_map_admin_refuses_read_only_fields_with_a_clear_message(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    staff_client: Client,
) -> None:
    url = reverse("admin:integrations_fieldmapping_add")
    body = {
        "tenant": owner.tenant.pk,
        "object_name": "Lead",
        "attribute": "utm_source",
        "sf_field": "IsConverted",
        "rule": "always",
    }

    response = staff_client.post(url, body, follow=True)

    assert b"is read-only in Salesforce" in response.content
    assert not FieldMapping.objects.exists()
    staff_client.post(url, {**body, "sf_field": "Description"})
    assert FieldMapping.objects.get().sf_field == "Description"
