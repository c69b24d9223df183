"""Our answers have exactly the keys and value types of the examples in Salesforce's REST API
Developer Guide, resource by resource, read through simple-salesforce over HTTP.

Sources (REST API Developer Guide): Query (resources_query / dome_query), sObject Collections
create (resources_composite_sobjects_collections_create), Composite response body
(responses_composite), sObject Get Updated / Get Deleted (dome_get_updated,
dome_get_deleted), Limits (resources_limits / dome_limits), Upsert (dome_upsert), Versions,
Status Codes and Error Responses (errorcodes).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from salesforce_emulator.testing import EmulatedOrg

ID18 = re.compile(r"^[0-9A-Za-z]{18}$")
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$")
MINUTE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000\+0000$")
ATTRIBUTES = {"type": str, "url": str}
SAVE_OK = {"id": str, "success": bool, "errors": list}
ERROR_ITEM = {"statusCode": str, "message": str, "fields": list}
REST_ERROR = {"message": str, "errorCode": str, "fields": list}


def assert_shape(value: Any, spec: Any, where: str = "body") -> None:
    """`spec` is a type, a dict of key -> spec (exactly those keys) or a one-item list."""
    if isinstance(spec, dict):
        assert isinstance(value, dict), f"{where}: {value!r} is not an object"
        assert set(value) == set(spec), f"{where}: keys {sorted(value)} != {sorted(spec)}"
        for key, sub in spec.items():
            assert_shape(value[key], sub, f"{where}.{key}")
    elif isinstance(spec, list):
        assert isinstance(value, list), f"{where}: {value!r} is not an array"
        for i, item in enumerate(value):
            assert_shape(item, spec[0], f"{where}[{i}]")
    else:
        assert isinstance(value, spec), f"{where}: {value!r} is not {spec.__name__}"
        if spec is int:
            assert not isinstance(value, bool), f"{where}: {value!r} is a bool"


@pytest.fixture
def sf(sf_org: EmulatedOrg):
    return sf_org.salesforce()


def test_query_pages(sf, sf_org: EmulatedOrg) -> None:
    sf_org.control.seed(records={"Contact": [{"LastName": f"C{i}"} for i in range(250)]})
    first = sf.query(
        "SELECT Id, Name FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"}
    )
    record = {"attributes": ATTRIBUTES, "Id": str, "Name": str}
    page = {"totalSize": int, "done": bool, "nextRecordsUrl": str, "records": [record]}
    assert_shape(first, page)
    assert list(first) == ["totalSize", "done", "nextRecordsUrl", "records"]
    assert re.fullmatch(r"/services/data/v59\.0/query/01g[0-9A-Za-z]+-200", first["nextRecordsUrl"])
    attrs = first["records"][0]["attributes"]
    assert attrs == {
        "type": "Contact",
        "url": f"/services/data/v59.0/sobjects/Contact/{first['records'][0]['Id']}",
    }
    last = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert_shape(last, {"totalSize": int, "done": bool, "records": [record]})
    assert (last["totalSize"], last["done"]) == (250, True)
    count = sf.query("SELECT COUNT() FROM Contact")
    assert_shape(count, {"totalSize": int, "done": bool, "records": list})
    assert (count["totalSize"], count["records"]) == (250, [])


def test_sobject_create_and_upsert(sf) -> None:
    created = sf.Account.create({"Name": "Acme"})
    assert_shape(created, SAVE_OK)
    assert ID18.match(created["id"])
    upserted = sf.restful(
        "sobjects/Account/SalesMonk_Domain__c/acme.com", method="PATCH", json={"Name": "A"}
    )
    assert_shape(upserted, SAVE_OK | {"created": bool})


def test_collections_create(sf) -> None:
    res = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Good"},
                {"attributes": {"type": "Contact"}, "Email": "not-an-email", "LastName": "X"},
            ],
        },
    )
    ok, failed = res
    assert_shape(ok, SAVE_OK)
    # a record that was not created has no id at all
    assert_shape(failed, {"success": bool, "errors": [ERROR_ITEM]})
    assert failed["errors"][0]["fields"] == ["Email"]


def test_composite_response(sf) -> None:
    res = sf.restful(
        "composite",
        method="POST",
        json={
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
                    "body": {"LastName": "C", "Email": "Not a real email address"},
                },
            ]
        },
    )
    sub = {"body": object, "httpHeaders": dict, "httpStatusCode": int, "referenceId": str}
    assert_shape(res, {"compositeResponse": [sub]})
    created, failed = res["compositeResponse"]
    assert_shape(created["body"], SAVE_OK)
    assert created["httpHeaders"] == {
        "Location": f"/services/data/v59.0/sobjects/Account/{created['body']['id']}"
    }
    assert_shape(failed["body"], [REST_ERROR])
    assert (failed["httpHeaders"], failed["httpStatusCode"]) == ({}, 400)
    assert failed["body"][0]["errorCode"] == "INVALID_EMAIL_ADDRESS"


def test_get_updated_and_get_deleted(sf, sf_org: EmulatedOrg) -> None:
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    gone = sf.Lead.create({"LastName": "G", "Company": "C"})["id"]
    sf.Lead.delete(gone)
    sf_org.control.clock(advance_seconds=120)
    now = datetime.now(UTC) + timedelta(minutes=3)
    updated = sf.Lead.updated(now - timedelta(days=1), now)
    assert_shape(updated, {"ids": [str], "latestDateCovered": str})
    assert updated["ids"] == [lead]
    assert MINUTE.match(updated["latestDateCovered"])
    deleted = sf.Lead.deleted(now - timedelta(days=1), now)
    assert_shape(
        deleted,
        {
            "deletedRecords": [{"id": str, "deletedDate": str}],
            "earliestDateAvailable": str,
            "latestDateCovered": str,
        },
    )
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert DATETIME.match(deleted["deletedRecords"][0]["deletedDate"])
    assert MINUTE.match(deleted["earliestDateAvailable"])
    assert MINUTE.match(deleted["latestDateCovered"])


DOCUMENTED_LIMITS = {
    "ConcurrentAsyncGetReportInstances",
    "ConcurrentSyncReportRuns",
    "DailyApiRequests",
    "DailyAsyncApexExecutions",
    "DataStorageMB",
    "FileStorageMB",
    "SingleEmail",
}


@pytest.mark.parametrize(
    ("version", "bulk"), [("59.0", "DailyBulkApiBatches"), ("45.0", "DailyBulkApiRequests")]
)
def test_limits(sf_org: EmulatedOrg, version: str, bulk: str) -> None:
    sf = sf_org.salesforce(version=version)
    limits = sf.limits()
    assert DOCUMENTED_LIMITS | {bulk} <= set(limits)
    for name, value in limits.items():
        assert_shape(value, {"Max": int, "Remaining": int}, name)
        assert 0 <= value["Remaining"] <= value["Max"]
    used = sf_org.control.api_usage()["used"]
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - used}
    assert ("DailyBulkV2QueryJobs" in limits) is (version == "59.0")


def test_error_responses_and_versions(sf, sf_org: EmulatedOrg) -> None:
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"LastName": "L"})
    assert_shape(exc.value.content, [REST_ERROR])
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT FROM Lead")
    assert_shape(exc.value.content, [{"message": str, "errorCode": str}])
    versions = sf_org.session().get(f"{sf_org.instance_url}/services/data/").json()
    assert_shape(versions, [{"label": str, "url": str, "version": str}])
