"""Upsert's 201/200/204/300/404 answers and record errors on PATCH/DELETE, via simple-salesforce."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from salesforce_emulator.testing import EmulatedOrg

NOT_FOUND = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


@pytest.fixture
def sf(sf_org: EmulatedOrg):
    return sf_org.salesforce()


def test_upsert_answers_201_then_200(sf) -> None:
    path = "sobjects/Account/SalesMonk_Domain__c/acme.com"
    created = sf.restful(path, method="PATCH", json={"Name": "Acme"})
    assert created == {"id": created["id"], "success": True, "errors": [], "created": True}
    updated = sf.restful(path, method="PATCH", json={"Name": "Acme Inc"})
    assert updated == {"id": created["id"], "success": True, "errors": [], "created": False}
    assert sf.Account.get(created["id"])["Name"] == "Acme Inc"


def test_upsert_before_46_answers_204_for_updates(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce(version="45.0")
    raw = sf.Account.upsert("SalesMonk_Domain__c/a.com", {"Name": "A"}, raw_response=True)
    assert raw.status_code == 201
    assert raw.json() == {"id": raw.json()["id"], "success": True, "errors": []}
    assert sf.Account.upsert("SalesMonk_Domain__c/a.com", {"Name": "B"}) == 204


def test_upsert_on_unknown_or_non_external_field_is_404(sf) -> None:
    for field in ("Nope__c", "Name"):
        with pytest.raises(SalesforceResourceNotFound) as exc:
            sf.Account.upsert(f"{field}/x", {"Name": "A"})
        assert exc.value.content[0]["errorCode"] == "NOT_FOUND"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_upsert_update_only(sf) -> None:
    path = "sobjects/Account/SalesMonk_Domain__c/only.com"
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.restful(path, method="PATCH", params={"updateOnly": "true"}, json={"Name": "A"})
    assert exc.value.content == NOT_FOUND
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    sf.restful(path, method="PATCH", json={"Name": "A"})
    again = sf.restful(path, method="PATCH", params={"updateOnly": "true"}, json={"Name": "B"})
    assert again["created"] is False


def test_upsert_with_id_as_external_id(sf) -> None:
    made = sf.restful("sobjects/Account/Id", method="POST", json={"Name": "New"})
    assert (made["success"], made["created"]) == (True, True)
    assert sf.Account.upsert(f"Id/{made['id']}", {"Name": "Renamed"}) == 200
    assert sf.Account.get(made["id"])["Name"] == "Renamed"


def test_upsert_and_get_by_external_id_with_several_matches_is_300(sf, sf_org: EmulatedOrg) -> None:
    sf_org.control.seed(
        records={
            "Account": [
                {"Name": "A", "SalesMonk_Domain__c": "two.com"},
                {"Name": "B", "SalesMonk_Domain__c": "TWO.com"},
            ]
        }
    )
    with pytest.raises(SalesforceMoreThanOneRecord) as exc:
        sf.Account.get_by_custom_id("SalesMonk_Domain__c", "two.com")
    assert exc.value.status == 300
    assert all(u.startswith("/services/data/v59.0/sobjects/Account/001") for u in exc.value.content)


def test_patch_and_delete_of_a_deleted_record_are_entity_is_deleted(sf) -> None:
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    sf.Lead.delete(lead)
    gone = [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}]
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Lead.update(lead, {"Company": "X"})
    assert exc.value.content == gone
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Lead.delete(lead)
    assert exc.value.content == gone


@pytest.mark.parametrize("bad", ["00Qnotanid", "001000000000001AAA", "00Q000000000001"[:14]])
def test_patch_and_delete_with_malformed_ids(sf, bad: str) -> None:
    for call in (lambda: sf.Lead.update(bad, {"Company": "X"}), lambda: sf.Lead.delete(bad)):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            call()
        [err] = exc.value.content
        assert (err["errorCode"], err["fields"]) == ("MALFORMED_ID", ["Id"])


def test_converted_lead_refuses_updates_everywhere(sf, sf_org: EmulatedOrg) -> None:
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    sf_org.control.convert_lead(lead)
    res = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={"records": [{"attributes": {"type": "Lead"}, "id": lead, "Title": "CEO"}]},
    )
    assert res == [
        {
            "id": lead,
            "success": False,
            "errors": [
                {
                    "statusCode": "CANNOT_UPDATE_CONVERTED_LEAD",
                    "message": "cannot reference converted lead",
                    "fields": [],
                }
            ],
        }
    ]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.upsert(f"Id/{lead}", {"Title": "CEO"})
    assert exc.value.content[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_duplicate_rule_allow_save_in_collections_and_composite(sf_emulator) -> None:
    from salesforce_emulator.testing import create_org, delete_org

    org = create_org(sf_emulator.base_url, duplicate_rule=True)
    try:
        sf = org.salesforce()
        sf.Contact.create({"LastName": "C", "Email": "dup@x.com"})
        record = {
            "attributes": {"type": "Lead"},
            "LastName": "L",
            "Company": "X",
            "Email": "dup@x.com",
        }
        [refused] = sf.restful("composite/sobjects", method="POST", json={"records": [record]})
        assert refused["errors"][0]["statusCode"] == "DUPLICATES_DETECTED"
        assert refused["errors"][0]["duplicateResult"]["allowSave"] is True
        [saved] = sf.restful(
            "composite/sobjects",
            method="POST",
            json={"records": [record]},
            headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
        )
        assert saved["success"] is True
        sub = {
            "method": "POST",
            "url": "/services/data/v59.0/sobjects/Lead",
            "body": {k: v for k, v in record.items() if k != "attributes"},
        }
        res = sf.restful(
            "composite",
            method="POST",
            json={
                "compositeRequest": [
                    dict(sub, referenceId="plain"),
                    dict(
                        sub,
                        referenceId="allowed",
                        httpHeaders={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
                    ),
                ]
            },
        )
        plain, allowed = res["compositeResponse"]
        assert (plain["httpStatusCode"], plain["body"][0]["errorCode"]) == (
            400,
            "DUPLICATES_DETECTED",
        )
        assert allowed["httpStatusCode"] == 201
    finally:
        delete_org(sf_emulator.base_url, org.name)
