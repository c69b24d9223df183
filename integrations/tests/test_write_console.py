"""Support's write-back console as staff use it, through the admin with the test client
and the emulator over HTTP: owners chosen by name, one settings page per workspace, field
mappings picked from describe, the dry run as a readable page, and the logs with names and
links at a constant number of queries."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from crm.models import CrmUser
from integrations.models import SalesforceConnection
from integrations.tests.writes import enable, staff, visitor
from integrations.write.console.configure import settings_url
from integrations.write.console.dry_run import PAGE_SIZE
from integrations.write.engine import write_sync_run
from integrations.write.models import FieldMapping, WriteLog, WriteRun, WriteSettings
from salesforce_emulator.testing import EmulatedOrg
from salesmonk.tenants.models import AuditEvent, Membership

pytestmark = pytest.mark.django_db

RITA = "005000000000001AAA"
GARY = "005000000000002AAA"


@pytest.fixture(autouse=True)
def _fresh_describe_cache() -> None:
    cache.clear()


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(staff())
    return client


def text(response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body))


def options(response, name: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of the select called `name`."""
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', response.content.decode(), re.S)
    assert select is not None, f"no select {name}"
    return [
        (value, html.unescape(label), bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(0)
        )
    ]


def users(owner: Membership, outsider: Membership) -> None:
    CrmUser.objects.create(
        tenant=owner.tenant, remote_id=RITA, name="Rita Rep", email="rita@acme.example"
    )
    CrmUser.objects.create(
        tenant=owner.tenant,
        remote_id=GARY,
        name="Gary Gone",
        email="gary@acme.example",
        is_active=False,
    )
    CrmUser.objects.create(
        tenant=owner.tenant,
        remote_id="005000000000003AAA",
        name="Dora Deleted",
        email="dora@acme.example",
        remote_was_deleted=True,
    )
    CrmUser.objects.create(
        tenant=outsider.tenant, remote_id="005000000000009AAA", name="Oscar Outsider"
    )


# --- write settings ------------------------------------------------------------------------
def test_default_lead_owner_is_chosen_by_name_and_saved_as_its_id(
    owner: Membership, outsider: Membership, staff_client: Client
) -> None:
    users(owner, outsider)

    opened = staff_client.get(settings_url(owner.tenant.pk))

    ws = WriteSettings.objects.get(tenant=owner.tenant)
    change = reverse("admin:integrations_writesettings_change", args=[ws.pk])
    assert opened["Location"] == change
    page = staff_client.get(change)
    assert options(page, "default_lead_owner_remote_id") == [
        ("", "— the Salesforce user who connected —", True),
        (RITA, "Rita Rep <rita@acme.example>", False),
    ]

    saved = staff_client.post(
        change, {"default_lead_owner_remote_id": RITA, "lead_source": "Website"}, follow=True
    )

    ws.refresh_from_db()
    assert (ws.default_lead_owner_remote_id, ws.lead_source) == (RITA, "Website")
    assert "was changed successfully" in text(saved)
    assert "Rita Rep" in text(saved)  # the changelist names the owner
    event = AuditEvent.objects.get(action="salesforce.write_settings_changed")
    assert event.data["after"] == {"default_lead_owner": RITA, "lead_source": "Website"}


def test_an_owner_no_longer_active_shows_only_the_error_and_keeps_the_input(
    owner: Membership, outsider: Membership, staff_client: Client
) -> None:
    users(owner, outsider)
    ws = WriteSettings.objects.create(tenant=owner.tenant, default_lead_owner_remote_id=GARY)
    change = reverse("admin:integrations_writesettings_change", args=[ws.pk])
    assert options(staff_client.get(change), "default_lead_owner_remote_id")[-1] == (
        GARY,
        "Gary Gone <gary@acme.example> (not an active Salesforce user)",
        True,
    )

    refused = staff_client.post(
        change, {"default_lead_owner_remote_id": GARY, "lead_source": "Web form"}
    )

    assert refused.status_code == 200
    assert "The default lead owner must be an active Salesforce user." in text(refused)
    assert "changed successfully" not in text(refused)
    assert 'value="Web form"' in refused.content.decode()
    assert options(refused, "default_lead_owner_remote_id")[-1][::2] == (GARY, True)
    ws.refresh_from_db()
    assert ws.lead_source == "SalesMonk"
    assert not AuditEvent.objects.filter(action="salesforce.write_settings_changed").exists()
    follow_up = staff_client.get(reverse("admin:integrations_writesettings_changelist"))
    assert "changed successfully" not in text(follow_up)


def test_write_settings_have_one_page_per_workspace_and_no_add(
    owner: Membership, outsider: Membership, staff_client: Client
) -> None:
    add = reverse("admin:integrations_writesettings_add")
    changelist = reverse("admin:integrations_writesettings_changelist")

    assert staff_client.get(add).status_code == 403
    listing = staff_client.get(changelist)
    assert add not in listing.content.decode()
    assert [label for _, label, _ in options(listing, "tenant")] == ["Acme Inc", "Globex Corp"]

    first = staff_client.get(settings_url(owner.tenant.pk))
    again = staff_client.get(settings_url(owner.tenant.pk))
    theirs = staff_client.get(settings_url(outsider.tenant.pk))

    assert first["Location"] == again["Location"] != theirs["Location"]
    assert WriteSettings.objects.filter(tenant=owner.tenant).count() == 1
    assert WriteSettings.objects.count() == 2
    assert (
        staff_client.get(f"{reverse('admin:integrations_writesettings_open')}?tenant=x").status_code
        == 404
    )
    enablement = staff_client.get(reverse("admin:integrations_tenantwrites_changelist"))
    assert settings_url(owner.tenant.pk).replace("&", "&amp;") in enablement.content.decode()


# --- field mappings ------------------------------------------------------------------------
def test_a_refused_field_mapping_keeps_the_input_and_lists_the_objects_fields(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    staff_client: Client,
) -> None:
    add = reverse("admin:integrations_fieldmapping_add")
    form = staff_client.get(add, {"tenant": owner.tenant.pk, "object_name": "Lead"})
    offered = [value for value, _, _ in options(form, "sf_field")]
    assert "Description" in offered
    assert "LeadSource" in offered
    assert "IsConverted" not in offered  # read-only in Salesforce

    refused = staff_client.post(
        add,
        {
            "tenant": owner.tenant.pk,
            "object_name": "Lead",
            "attribute": "utm_medium",
            "sf_field": "IsConverted",
            "rule": "only_blank",
        },
    )

    assert refused.status_code == 200
    assert "Lead.IsConverted is read-only in Salesforce" in text(refused)
    assert "added successfully" not in text(refused)
    assert ("utm_medium", "utm_medium", True) in options(refused, "attribute")
    assert ("only_blank", "Only fill blanks", True) in options(refused, "rule")
    assert ("IsConverted", "IsConverted (not a writable field)", True) in options(
        refused, "sf_field"
    )
    assert "Description" in [value for value, _, _ in options(refused, "sf_field")]
    assert not FieldMapping.objects.exists()


def test_field_mapping_form_without_salesforce_is_a_text_input_with_a_note(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    staff_client: Client,
) -> None:
    add = reverse("admin:integrations_fieldmapping_add")
    body = {
        "tenant": owner.tenant.pk,
        "object_name": "Lead",
        "attribute": "utm_source",
        "sf_field": "Description",
        "rule": "always",
    }
    sf_settings.control.fault(error_rate=1.0, error_status=503)
    try:
        form = staff_client.get(add, {"tenant": owner.tenant.pk, "object_name": "Lead"})
        refused = staff_client.post(add, body)
    finally:
        sf_settings.control.clear_faults()

    assert form.status_code == 200
    assert 'type="text" name="sf_field"' in form.content.decode()
    assert "Salesforce could not be reached" in text(form)
    assert refused.status_code == 200
    assert "Salesforce could not be reached" in text(refused)
    assert 'value="Description"' in refused.content.decode()
    assert not FieldMapping.objects.exists()

    saved = staff_client.post(add, body)

    assert saved.status_code == 302
    assert FieldMapping.objects.get().sf_field == "Description"


# --- dry run -------------------------------------------------------------------------------
def seed(org: EmulatedOrg, obj: str, **fields: object) -> str:
    return org.control.seed(records={obj: [fields]})["ids"][obj][0]


def test_dry_run_page_shows_counts_matches_owners_and_changes_in_pages(
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    outsider: Membership,
    staff_client: Client,
) -> None:
    tenant = owner.tenant
    rep = sf_settings.rep_user_id
    CrmUser.objects.create(tenant=tenant, remote_id=rep, name="Rita Rep", email="r@a.example")
    CrmUser.objects.create(
        tenant=tenant, remote_id=connected.installer_remote_id, name="Ian Installer"
    )
    WriteSettings.objects.create(tenant=tenant, default_lead_owner_remote_id=rep)
    seed(sf_settings, "Contact", LastName="Known", Email="known@d.example", OwnerId=rep)
    seed(sf_settings, "Lead", LastName="Phoned", Phone="4155550100", Company="P")
    seed(sf_settings, "Account", Name="Ext Co", SalesMonk_Domain__c="ext.example")
    seed(sf_settings, "Account", Name="Site Co", Website="https://WWW.SiteCo.com/about")
    known = visitor(tenant, email="known@d.example", first="Kim", last="Known2", kinds=())
    visitor(tenant, phone="4155550100", first="Pat", last="Phoned", kinds=())
    visitor(tenant, email="a@ext.example", last="Ext", domain="ext.example", kinds=())
    visitor(tenant, email="b@siteco.com", last="Site", domain="siteco.com", kinds=())
    new = [visitor(tenant, email=f"n{i}@n.example", last=f"New{i:02}", kinds=()) for i in range(30)]
    visitor(outsider.tenant, email="o@globex.example", last="Outsider", kinds=())

    started = staff_client.post(
        reverse("admin:integrations_tenantwrites_changelist"),
        {"action": "dry_run", ACTION_CHECKBOX_NAME: [str(tenant.pk)]},
    )
    page = staff_client.get(started["Location"])

    run = WriteRun.objects.get(dry_run=True)
    assert started["Location"] == reverse("admin:integrations_writerun_change", args=[run.pk])
    read = text(page)
    for count in (
        "Lead · create: 32",
        "Contact · update: 1",
        "Lead · update: 1",
        "Account · update: 2",
    ):
        assert count in read, re.findall(r"\w+ · \w+: \d+", read)
    assert '"after"' not in page.content.decode()  # never the raw plan
    contact = section(page, "Contact_update")
    assert "Kim Known2" in contact
    assert " email " in contact
    assert "Rita Rep record's owner, kept" in contact
    assert "LastName : Known → Known2" in contact
    assert reverse("admin:visitors_visitor_change", args=[known.pk]) in page.content.decode()
    assert f"/contact/details/{known.pk}" in page.content.decode()
    assert " phone " in section(page, "Lead_update")
    accounts = section(page, "Account_update")
    assert "SalesMonk_Domain__c" in accounts
    assert "Website domain" in accounts
    assert "SalesMonk_Domain__c : — → siteco.com" in accounts
    creates = section(page, "Lead_create")
    assert creates.count("none → create") == PAGE_SIZE
    assert "Rita Rep default lead owner" in creates
    assert "OwnerId : — → Rita Rep" in creates
    assert "Outsider" not in read
    assert "Page 1 of 2" in creates

    second = staff_client.get(started["Location"], {"Lead_create": 2})

    assert section(second, "Lead_create").count("none → create") == 32 - PAGE_SIZE
    assert new[-1].last_name in section(second, "Lead_create") + section(page, "Lead_create")


def section(response, param: str) -> str:
    """The text of one action's table and its pager."""
    body = response.content.decode()
    start = body.index(f'id="{param}"')
    end = body.find('<div class="module"', start + 1)
    chunk = body[start : end if end != -1 else len(body)]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", chunk)))


# --- logs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("people", [1, 20])
def test_logs_show_names_and_links_at_a_constant_query_count(
    people: int,
    sf_settings: EmulatedOrg,
    connected: SalesforceConnection,
    owner: Membership,
    outsider: Membership,
    staff_client: Client,
    django_assert_max_num_queries,
) -> None:
    tenant = owner.tenant
    CrmUser.objects.create(
        tenant=tenant, remote_id=connected.installer_remote_id, name="Ian Installer"
    )
    made = [
        visitor(
            tenant,
            email=f"p{i}@corp.example",
            first="Pia",
            last=f"Person{i:02}",
            domain="corp.example",
            company_name="Corp Ltd",
            kinds=("lead", "account"),
        )
        for i in range(people)
    ]
    visitor(outsider.tenant, email="o@globex.example", last="Outsider", kinds=("lead",))

    # The same count for 1 and 20 people: names come in a few queries per page.
    with django_assert_max_num_queries(7):
        intents = staff_client.get(reverse("admin:integrations_failedintent_changelist"))
    assert f"Pia Person{people - 1:02}" in text(intents)
    assert "Corp Ltd" in text(intents)

    enable(tenant)
    write_sync_run(tenant=tenant)
    lead = WriteLog.objects.get(object_name="Lead", key=f"email:{made[0].email}")

    with django_assert_max_num_queries(13):
        log = staff_client.get(reverse("admin:integrations_writelog_changelist"))
    with django_assert_max_num_queries(12):
        created = staff_client.get(reverse("admin:integrations_createdrecord_changelist"))
    with django_assert_max_num_queries(7):
        runs = staff_client.get(reverse("admin:integrations_writerun_changelist"))

    for page in (log, created):
        body = page.content.decode()
        assert f'href="{connected.instance_url}/{lead.remote_id}"' in body
        assert "Pia Person00" in text(page)  # the mirrored Lead's name and the visitor
        assert reverse("admin:visitors_visitor_change", args=[made[0].pk]) in body
        assert "Corp Ltd" in text(page)
        assert "Ian Installer user who connected" in text(page)
    assert f"Lead · create · success: {people}" in text(runs)
    log_url = reverse("admin:integrations_writelog_changelist")
    # An email finds that person's Lead and the Account written for their company.
    found = text(staff_client.get(log_url, {"q": f"p{people - 1}@corp.example"}))
    assert found.count("Lead · create") == 1
    assert f"Pia Person{people - 1:02}" in found
    by_domain = text(staff_client.get(log_url, {"q": "corp.example"}))
    assert (by_domain.count("Lead · create"), by_domain.count("Account · upsert")) == (people, 1)
