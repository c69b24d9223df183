"""Composite: `@{ref...}` resolution, allOrNone rollback of every kind of write, dependents of a
failed subrequest, and the composite's allOrNone overriding its collections' (as documented)."""

from __future__ import annotations

import pytest

from salesforce_emulator.testing import EmulatedOrg

V = "/services/data/v59.0"
HALTED = "PROCESSING_HALTED"


@pytest.fixture
def sf(sf_org: EmulatedOrg):
    return sf_org.salesforce()


def _composite(sf, subrequests: list[dict], all_or_none: bool) -> list[dict]:
    body = {"allOrNone": all_or_none, "compositeRequest": subrequests}
    return sf.restful("composite", method="POST", json=body)["compositeResponse"]


def test_references_into_query_records_and_record_fields(sf) -> None:
    acct = sf.Account.create({"Name": "Acme", "Website": "acme.com"})["id"]
    out = _composite(
        sf,
        [
            {
                "method": "GET",
                "url": f"{V}/query?q=SELECT+Id,Name+FROM+Account+ORDER+BY+Name",
                "referenceId": "q",
            },
            {
                "method": "GET",
                "url": f"{V}/sobjects/Account/@{{q.records[0].Id}}?fields=Name,Website",
                "referenceId": "acct",
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "contact",
                "body": {
                    "LastName": "C",
                    "AccountId": "@{q.records[0].Id}",
                    "Description": "Works at @{acct.Name} (@{acct.Website}), @{q.totalSize} found",
                },
            },
        ],
        all_or_none=True,
    )
    assert [r["httpStatusCode"] for r in out] == [200, 200, 201]
    contact = sf.Contact.get(out[2]["body"]["id"])
    assert contact["AccountId"] == acct
    assert contact["Description"] == "Works at Acme (acme.com), 1 found"


def test_all_or_none_rolls_back_updates_and_deletes_too(sf, sf_org: EmulatedOrg) -> None:
    keep = sf.Account.create({"Name": "Original"})["id"]
    doomed = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    out = _composite(
        sf,
        [
            {
                "method": "PATCH",
                "url": f"{V}/sobjects/Account/{keep}",
                "referenceId": "upd",
                "body": {"Name": "Changed"},
            },
            {"method": "DELETE", "url": f"{V}/sobjects/Lead/{doomed}", "referenceId": "del"},
            {
                "method": "PATCH",
                "url": f"{V}/sobjects/Account/SalesMonk_Domain__c/new.com",
                "referenceId": "ups",
                "body": {"Name": "Upserted"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Lead",
                "referenceId": "bad",
                "body": {"LastName": "no company"},
            },
        ],
        all_or_none=True,
    )
    assert [r["httpStatusCode"] for r in out] == [400, 400, 400, 400]
    assert [r["body"][0]["errorCode"] for r in out] == [
        HALTED,
        HALTED,
        HALTED,
        "REQUIRED_FIELD_MISSING",
    ]
    assert sf.Account.get(keep)["Name"] == "Original"
    assert sf.Lead.get(doomed)["IsDeleted"] is False
    assert [a["Name"] for a in sf_org.records("Account")] == ["Original"]


def test_without_all_or_none_only_dependents_of_a_failure_are_halted(sf) -> None:
    out = _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "bad",
                "body": {"Name": "x" * 256},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "dependent",
                "body": {"LastName": "C", "AccountId": "@{bad.id}"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "independent",
                "body": {"LastName": "D"},
            },
        ],
        all_or_none=False,
    )
    bad, dependent, independent = out
    assert bad["body"][0]["errorCode"] == "STRING_TOO_LONG"
    assert (dependent["httpStatusCode"], dependent["body"][0]["errorCode"]) == (400, HALTED)
    assert "bad.id" in dependent["body"][0]["message"]
    assert independent["httpStatusCode"] == 201
    assert sf.query("SELECT LastName FROM Contact")["records"][0]["LastName"] == "D"


@pytest.mark.parametrize("inner", [False, True])
def test_composite_all_or_none_overrides_its_collections(sf, inner: bool) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "Good"},
        {"attributes": {"type": "Account"}, "Name": "y" * 256},
    ]
    out = _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/composite/sobjects",
                "referenceId": "accounts",
                "body": {"allOrNone": inner, "records": records},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "contact",
                "body": {"LastName": "C"},
            },
        ],
        all_or_none=True,
    )
    accounts, contact = out
    first, second = accounts["body"]
    assert first["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert second["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert (contact["httpStatusCode"], contact["body"][0]["errorCode"]) == (400, HALTED)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_without_outer_all_or_none_a_collection_keeps_partial_success(sf) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "Good"},
        {"attributes": {"type": "Account"}, "Name": "y" * 256},
    ]
    out = _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/composite/sobjects",
                "referenceId": "accounts",
                "body": {"allOrNone": False, "records": records},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "contact",
                "body": {"LastName": "C", "AccountId": "@{accounts[0].id}"},
            },
        ],
        all_or_none=False,
    )
    accounts, contact = out
    assert [r["success"] for r in accounts["body"]] == [True, False]
    assert contact["httpStatusCode"] == 201
    assert sf.Contact.get(contact["body"]["id"])["AccountId"] == accounts["body"][0]["id"]


def test_get_updated_and_deleted_as_subrequests(sf, sf_org: EmulatedOrg) -> None:
    sf_org.control.clock(set="2030-06-15T12:00:00Z", freeze=True)
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    gone = sf.Lead.create({"LastName": "G", "Company": "C"})["id"]
    sf.Lead.delete(gone)
    sf_org.control.clock(advance_seconds=120)
    window = "start=2030-06-15T11:00:00%2B00:00&end=2030-06-15T13:00:00%2B00:00"
    out = _composite(
        sf,
        [
            {"method": "GET", "url": f"{V}/sobjects/Lead/updated?{window}", "referenceId": "u"},
            {"method": "GET", "url": f"{V}/sobjects/Lead/deleted?{window}", "referenceId": "d"},
        ],
        all_or_none=False,
    )
    updated, deleted = (r["body"] for r in out)
    assert updated == {"ids": [lead], "latestDateCovered": "2030-06-15T12:02:00.000+0000"}
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
