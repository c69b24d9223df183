"""sObject CRUD, describe and DML validation through simple-salesforce."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from salesforce_emulator.ids import to18
from salesforce_emulator.testing import EmulatedOrg, create_org, delete_org


@pytest.fixture
def sf(sf_org: EmulatedOrg):
    return sf_org.salesforce()


def test_create_get_update_delete_shapes(sf, sf_org: EmulatedOrg) -> None:
    created = sf.Lead.create(
        {
            "LastName": "Lovelace",
            "FirstName": "Ada",
            "Company": "Analytical",
            "Email": "ada@example.com",
        }
    )
    lead_id = created["id"]
    assert created == {"id": lead_id, "success": True, "errors": []}
    assert lead_id.startswith("00Q")
    assert to18(lead_id[:15]) == lead_id
    row = sf.Lead.get(lead_id)
    assert row["attributes"] == {
        "type": "Lead",
        "url": f"/services/data/v59.0/sobjects/Lead/{lead_id}",
    }
    assert (row["Name"], row["Status"], row["IsConverted"], row["OwnerId"]) == (
        "Ada Lovelace",
        "Open - Not Contacted",
        False,
        sf_org.user_id,
    )
    assert row["CreatedDate"] == row["LastModifiedDate"] == row["SystemModstamp"]
    assert row["CreatedDate"].endswith(".000+0000")
    assert row["CreatedById"] == sf_org.user_id
    assert row["SalesMonk_Last_Seen__c"] is None
    assert dict(sf.Lead.get(lead_id[:15], params={"fields": "company,Email"})) == {
        "attributes": row["attributes"],
        "Company": "Analytical",
        "Email": "ada@example.com",
    }
    assert sf.Lead.update(lead_id, {"Company": "Engines", "SalesMonk_Total_Sessions__c": 3}) == 204
    assert sf.Lead.get(lead_id)["SalesMonk_Total_Sessions__c"] == 3.0
    assert sf.Lead.delete(lead_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Lead.get(lead_id)
    assert exc.value.content == [
        {"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}
    ]


@pytest.mark.parametrize(
    ("data", "code", "fields"),
    [
        ({"LastName": "X"}, "REQUIRED_FIELD_MISSING", ["Company"]),
        ({"Company": "X"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ({"LastName": "X", "Company": "C" * 256}, "STRING_TOO_LONG", ["Company"]),
        ({"LastName": "X", "Company": "C", "Email": "nope"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
        (
            {"LastName": "X", "Company": "C", "IsConverted": True},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            ["IsConverted"],
        ),
        (
            {"LastName": "X", "Company": "C", "Status": "Bogus"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            ["Status"],
        ),
        ({"LastName": "X", "Company": "C", "OwnerId": "005nope"}, "MALFORMED_ID", ["OwnerId"]),
        ({"LastName": "X", "Company": "C", "Nope__c": 1}, "INVALID_FIELD", []),
    ],
)
def test_validation_errors(sf, data: dict, code: str, fields: list[str]) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create(data)
    [err] = exc.value.content
    assert (err["errorCode"], err["fields"]) == (code, fields)
    assert exc.value.status == 400


def test_required_message_matches_salesforce(sf) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"FirstName": "A"})
    assert exc.value.content == [
        {
            "message": "Required fields are missing: [LastName, Company]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["LastName", "Company"],
        }
    ]


def test_malformed_and_unknown_ids(sf) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.get("00Qnotanid")
    assert exc.value.content[0]["errorCode"] == "MALFORMED_ID"
    with pytest.raises(SalesforceMalformedRequest):
        sf.Lead.get("001D000000IqhSLIAZ")  # an Account id on the Lead resource
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Lead.get("00Q000000000001EAA")
    assert exc.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
    with pytest.raises(SalesforceResourceNotFound):
        sf.Nope__c.get("00Q000000000001EAA")


def test_unique_external_id_is_case_insensitive_and_upsert(sf) -> None:
    assert sf.Account.upsert("SalesMonk_Domain__c/acme.com", {"Name": "Acme"}) == 201
    assert sf.Account.upsert("SalesMonk_Domain__c/ACME.com", {"Name": "Acme Inc"}) == 200
    [acct] = sf.query("SELECT Id, Name, SalesMonk_Domain__c FROM Account")["records"]
    assert (acct["Name"], acct["SalesMonk_Domain__c"]) == ("Acme Inc", "acme.com")
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "Other", "SalesMonk_Domain__c": "Acme.COM"})
    assert exc.value.content == [
        {
            "message": "duplicate value found: SalesMonk_Domain__c "
            f"duplicates value on record with id: {acct['Id']}",
            "errorCode": "DUPLICATE_VALUE",
            "fields": [],
        }
    ]
    raw = sf.Account.upsert("SalesMonk_Domain__c/globex.com", {"Name": "Globex"}, raw_response=True)
    body = raw.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "created": True}
    assert sf.Account.get_by_custom_id("SalesMonk_Domain__c", "globex.com")["Name"] == "Globex"


def test_upsert_on_ambiguous_external_id_is_300(sf, sf_org: EmulatedOrg) -> None:
    sf_org.control.seed(
        records={
            "Account": [
                {"Name": "A", "SalesMonk_Domain__c": "dup.com"},
                {"Name": "B", "SalesMonk_Domain__c": "dup.com"},
            ]
        }
    )
    with pytest.raises(SalesforceMoreThanOneRecord) as exc:
        sf.Account.upsert("SalesMonk_Domain__c/dup.com", {"Name": "C"})
    assert exc.value.status == 300
    assert len(exc.value.content) == 2
    assert exc.value.content[0].startswith("/services/data/v59.0/sobjects/Account/001")


def test_relationship_by_external_id(sf) -> None:
    acct = sf.Account.create({"Name": "Acme", "SalesMonk_Domain__c": "acme.com"})["id"]
    contact = sf.Contact.create({"LastName": "C", "Account": {"SalesMonk_Domain__c": "acme.com"}})
    assert sf.Contact.get(contact["id"])["AccountId"] == acct


def test_opportunity_stage_derivations(sf) -> None:
    opp = sf.Opportunity.create(
        {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2030-01-31"}
    )["id"]
    row = sf.Opportunity.get(opp)
    assert (row["IsClosed"], row["IsWon"], row["Probability"], row["ForecastCategoryName"]) == (
        False,
        False,
        10.0,
        "Pipeline",
    )
    sf.Opportunity.update(opp, {"StageName": "Closed Won"})
    row = sf.Opportunity.get(opp)
    assert (row["IsClosed"], row["IsWon"], row["Probability"], row["ForecastCategoryName"]) == (
        True,
        True,
        100.0,
        "Closed",
    )
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Opportunity.update(opp, {"IsWon": False})
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_last_activity_date_follows_tasks(sf, sf_org: EmulatedOrg) -> None:
    today = sf_org.control.clock()["now"][:10]
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    task = sf.Task.create({"WhoId": lead, "Subject": "Call", "ActivityDate": today})["id"]
    assert sf.Lead.get(lead)["LastActivityDate"] == today
    assert sf.Task.get(task)["Status"] == "Not Started"
    sf.Task.delete(task)
    assert sf.Lead.get(lead)["LastActivityDate"] is None


def test_primary_contact_role_is_unique_per_opportunity(sf) -> None:
    opp = sf.Opportunity.create(
        {"Name": "D", "StageName": "Prospecting", "CloseDate": "2030-01-01"}
    )["id"]
    c1 = sf.Contact.create({"LastName": "One"})["id"]
    c2 = sf.Contact.create({"LastName": "Two"})["id"]
    r1 = sf.OpportunityContactRole.create(
        {"OpportunityId": opp, "ContactId": c1, "IsPrimary": True}
    )
    sf.OpportunityContactRole.create({"OpportunityId": opp, "ContactId": c2, "IsPrimary": True})
    assert sf.OpportunityContactRole.get(r1["id"])["IsPrimary"] is False


def test_duplicate_rule_and_allow_save_header(sf_emulator) -> None:
    org = create_org(sf_emulator.base_url, duplicate_rule=True)
    try:
        sf = org.salesforce()
        contact = sf.Contact.create({"LastName": "C", "Email": "same@x.com"})["id"]
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Lead.create({"LastName": "L", "Company": "X", "Email": "SAME@x.com"})
        [err] = exc.value.content
        assert err["errorCode"] == "DUPLICATES_DETECTED"
        match = err["duplicateResult"]["matchResults"][0]
        assert match["entityType"] == "Contact"
        assert match["matchRecords"][0]["record"]["Id"] == contact
        ok = sf.Lead.create(
            {"LastName": "L", "Company": "X", "Email": "same@x.com"},
            headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
        )
        assert ok["success"] is True
    finally:
        delete_org(sf_emulator.base_url, org.name)


def test_describe_field_metadata(sf) -> None:
    d = sf.Lead.describe()
    assert (d["name"], d["keyPrefix"], d["createable"]) == ("Lead", "00Q", True)
    fields = {f["name"]: f for f in d["fields"]}
    company = fields["Company"]
    assert (company["type"], company["length"], company["nillable"], company["createable"]) == (
        "string",
        255,
        False,
        True,
    )
    assert fields["IsConverted"]["createable"] is False
    assert fields["IsConverted"]["updateable"] is False
    assert [p["value"] for p in fields["Status"]["picklistValues"]][:2] == [
        "Open - Not Contacted",
        "Working - Contacted",
    ]
    assert fields["OwnerId"]["referenceTo"] == ["Group", "User"]
    assert fields["SalesMonk_Last_Seen__c"]["type"] == "datetime"
    assert fields["SalesMonk_Last_Seen__c"]["custom"] is True
    domain = {f["name"]: f for f in sf.Account.describe()["fields"]}["SalesMonk_Domain__c"]
    assert (domain["externalId"], domain["unique"], domain["caseSensitive"]) == (True, True, False)
    g = sf.describe()
    assert g["maxBatchSize"] == 200
    names = {o["name"] for o in g["sobjects"]}
    assert {
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "Task",
        "Event",
        "Note",
        "User",
        "Profile",
        "Group",
        "RecordType",
        "LeadStatus",
        "OpportunityStage",
        "OpportunityContactRole",
    } <= names


def test_org_without_custom_fields_refuses_them(sf_emulator) -> None:
    org = create_org(sf_emulator.base_url, custom_fields=False)
    try:
        sf = org.salesforce()
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Lead.create({"LastName": "L", "Company": "C", "SalesMonk_UTM_Source__c": "x"})
        assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"
        assert "SalesMonk_UTM_Source__c" not in {f["name"] for f in sf.Lead.describe()["fields"]}
    finally:
        delete_org(sf_emulator.base_url, org.name)


def test_admin_check_via_profile(sf, sf_org: EmulatedOrg) -> None:
    q = "SELECT Id, Profile.Name, Profile.PermissionsModifyAllData FROM User WHERE Username = '{}'"
    admin = sf.query(q.format(sf_org.username))["records"][0]["Profile"]
    assert (admin["Name"], admin["PermissionsModifyAllData"]) == ("System Administrator", True)
    rep = sf.query(q.format(sf_org.rep_username))["records"][0]["Profile"]
    assert rep["PermissionsModifyAllData"] is False


def test_leads_owned_by_a_queue(sf, sf_org: EmulatedOrg) -> None:
    queue = sf.query("SELECT Id, Name FROM Group WHERE Type = 'Queue'")["records"][0]["Id"]
    assert queue.startswith("00G")
    lead = sf.Lead.create({"LastName": "Q", "Company": "C", "OwnerId": queue})["id"]
    assert (
        sf.query(f"SELECT Owner.Name FROM Lead WHERE Id = '{lead}'")["records"][0]["Owner"]["Name"]
        == "Inbound Leads"
    )
