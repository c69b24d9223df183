"""sObject Collections and Composite through `sf.restful`."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesforce_emulator.testing import EmulatedOrg

ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the "
    "request was using AllOrNone header",
    "fields": [],
}


@pytest.fixture
def sf(sf_org: EmulatedOrg):
    return sf_org.salesforce()


def _lead(i: int) -> dict:
    return {"attributes": {"type": "Lead"}, "LastName": f"L{i}", "Company": "C"}


def test_collection_create_partial_success(sf) -> None:
    res = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [_lead(1), {"attributes": {"type": "Lead"}, "LastName": "x"}],
        },
    )
    assert res[0] == {"id": res[0]["id"], "success": True, "errors": []}
    assert res[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [Company]",
                "fields": ["Company"],
            }
        ],
    }


def test_collection_all_or_none_rolls_back(sf, sf_org: EmulatedOrg) -> None:
    res = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": True,
            "records": [_lead(1), {"attributes": {"type": "Lead"}, "LastName": "x"}],
        },
    )
    assert res[0] == {"success": False, "errors": [ROLLED_BACK]}
    assert res[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf_org.records("Lead") == []


def test_collection_limit_is_200(sf) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.restful(
            "composite/sobjects", method="POST", json={"records": [_lead(i) for i in range(201)]}
        )
    assert exc.value.content == [
        {
            "message": "record limit reached. cannot submit more than 200 records into this call",
            "errorCode": "EXCEEDED_ID_LIMIT",
        }
    ]
    ok = sf.restful(
        "composite/sobjects", method="POST", json={"records": [_lead(i) for i in range(200)]}
    )
    assert len(ok) == 200
    assert all(r["success"] for r in ok)


def test_collection_update_retrieve_upsert_delete(sf, sf_org: EmulatedOrg) -> None:
    ids = [
        r["id"]
        for r in sf.restful(
            "composite/sobjects", method="POST", json={"records": [_lead(1), _lead(2)]}
        )
    ]
    upd = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "id": ids[0], "Company": "New"},
                {"attributes": {"type": "Lead"}, "id": ids[1], "Email": "bad"},
            ]
        },
    )
    assert upd[0] == {"id": ids[0], "success": True, "errors": []}
    assert upd[1]["id"] == ids[1]
    assert upd[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    got = sf.restful(
        "composite/sobjects/Lead",
        params={"ids": ",".join([*ids, "00Q000000000001EAA"]), "fields": "Id,Company"},
    )
    assert [g and g["Company"] for g in got] == ["New", "C", None]
    ups = sf.restful(
        "composite/sobjects/Account/SalesMonk_Domain__c",
        method="PATCH",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "SalesMonk_Domain__c": "a.com", "Name": "A"}
            ],
        },
    )
    assert ups == [{"id": ups[0]["id"], "success": True, "errors": [], "created": True}]
    dele = sf.restful(
        "composite/sobjects",
        method="DELETE",
        params={"ids": ids[0] + ",00Q000000000001EAA", "allOrNone": "false"},
    )
    assert dele[0] == {"id": ids[0], "success": True, "errors": []}
    assert dele[1]["success"] is False
    assert [r["IsDeleted"] for r in sf_org.records("Lead")] == [True, False]


def test_composite_references_and_shape(sf) -> None:
    res = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": False,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "refAccount",
                    "body": {"Name": "Acme"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Contact",
                    "referenceId": "refContact",
                    "body": {"LastName": "C", "AccountId": "@{refAccount.id}"},
                },
                {
                    "method": "GET",
                    "url": "/services/data/v59.0/sobjects/Contact/@{refContact.id}"
                    "?fields=AccountId",
                    "referenceId": "getContact",
                },
                {
                    "method": "GET",
                    "url": "/services/data/v59.0/query/?q=SELECT+Id+FROM+Account",
                    "referenceId": "q",
                },
            ],
        },
    )
    first, _, get, query = res["compositeResponse"]
    acct = first["body"]["id"]
    assert first == {
        "body": {"id": acct, "success": True, "errors": []},
        "httpHeaders": {"Location": f"/services/data/v59.0/sobjects/Account/{acct}"},
        "httpStatusCode": 201,
        "referenceId": "refAccount",
    }
    assert get["body"]["AccountId"] == acct
    assert get["httpStatusCode"] == 200
    assert query["body"]["totalSize"] == 1


def test_composite_all_or_none_rollback(sf, sf_org: EmulatedOrg) -> None:
    res = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "a",
                    "body": {"Name": "Acme"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Lead",
                    "referenceId": "bad",
                    "body": {"LastName": "x"},
                },
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "c",
                    "body": {"Name": "Never"},
                },
            ],
        },
    )
    halted = [
        {
            "errorCode": "PROCESSING_HALTED",
            "message": "The transaction was rolled back "
            "since another operation in the same transaction failed.",
        }
    ]
    a, bad, c = res["compositeResponse"]
    assert (a["httpStatusCode"], a["body"]) == (400, halted)
    assert bad["httpStatusCode"] == 400
    assert bad["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert (c["httpStatusCode"], c["body"], c["referenceId"]) == (400, halted, "c")
    assert sf_org.records("Account") == []
    assert sf_org.counters()["by_kind"]["composite"] == 1
    assert sf_org.control.api_usage()["used"] == 1


def test_composite_limits(sf) -> None:
    sub = {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "r"}
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(
            "composite",
            method="POST",
            json={
                "compositeRequest": [
                    dict(
                        sub,
                        referenceId=f"r{i}",
                        url="/services/data/v59.0/sobjects/Account/describe",
                    )
                    for i in range(26)
                ]
            },
        )
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful(
            "composite",
            method="POST",
            json={
                "compositeRequest": [
                    {
                        "method": "GET",
                        "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Lead",
                        "referenceId": f"q{i}",
                    }
                    for i in range(6)
                ]
            },
        )
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": [sub]})


def test_collection_update_naming_a_record_twice_fails_those_records(
    sf, sf_org: EmulatedOrg
) -> None:
    ids = [
        r["id"]
        for r in sf.restful(
            "composite/sobjects", method="POST", json={"records": [_lead(1), _lead(2)]}
        )
    ]
    upd = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Lead"}, "id": ids[0], "Company": "First"},
                {"attributes": {"type": "Lead"}, "id": ids[1], "Company": "Other"},
                {"attributes": {"type": "Lead"}, "id": ids[0][:15], "Company": "Second"},
            ],
        },
    )
    assert upd[1] == {"id": ids[1], "success": True, "errors": []}
    for res, rid in ((upd[0], ids[0]), (upd[2], ids[0][:15])):
        assert res["success"] is False
        assert res["errors"] == [
            {"statusCode": "INVALID_FIELD", "message": f"Duplicate id in list: {rid}", "fields": []}
        ]
    assert {r["Id"]: r["Company"] for r in sf_org.records("Lead")} == {
        ids[0]: "C",
        ids[1]: "Other",
    }
