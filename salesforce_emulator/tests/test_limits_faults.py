"""API usage accounting, request size limits and fault injection."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from salesforce_emulator.testing import EmulatedOrg


def test_limit_info_header_and_counter(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    sf.query("SELECT Id FROM Lead")
    assert sf.api_usage["api-usage"].used == 1
    assert sf.api_usage["api-usage"].total == 15000
    sf.Lead.create({"LastName": "A", "Company": "B"})
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 14997}
    s = sf_org.session()
    r = s.get(
        f"{sf_org.instance_url}/services/data/v59.0/limits/",
        headers={"Authorization": f"Bearer {sf.session_id}"},
    )
    assert r.headers["Sforce-Limit-Info"] == "api-usage=4/15000"
    versions = s.get(f"{sf_org.instance_url}/services/data/")
    assert "Sforce-Limit-Info" not in versions.headers
    assert {
        "label": "Winter '24",
        "url": "/services/data/v59.0",
        "version": "59.0",
    } in versions.json()
    assert sf_org.counters() == {
        "api_usage": 4,
        "api_allocation": 15000,
        "by_kind": {"auth": 1, "query": 1, "sobject": 1, "limits": 2},
    }


def test_exhausted_allocation_is_403(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    sf_org.control.exhaust_api()
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.query("SELECT Id FROM Lead")
    assert exc.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    sf_org.control.api_usage(used=0)
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_fail_nth_call(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    sf_org.control.fault(fail_call={"n": 2, "status": 503})
    sf.query("SELECT Id FROM Lead")
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.query("SELECT Id FROM Lead")
    assert exc.value.status == 503
    assert exc.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    sf.query("SELECT Id FROM Lead")
    sf_org.control.fault(
        fail_call={
            "n": 1,
            "status": 400,
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "message": "unable to obtain exclusive access to this record",
        }
    )
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"LastName": "A", "Company": "B"})
    assert exc.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"


def test_error_rate_is_seeded_and_replayable(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()

    def run() -> list[int]:
        out = []
        for _ in range(30):
            try:
                sf.query("SELECT COUNT() FROM Lead")
                out.append(200)
            except SalesforceGeneralError as exc:
                out.append(exc.status)
        return out

    sf_org.control.fault(error_rate=0.3, error_status=500, seed=7)
    first = run()
    sf_org.control.fault(seed=7)
    assert run() == first
    assert 0 < first.count(500) < 30
    sf_org.control.clear_faults()
    assert run() == [200] * 30


def test_connection_drop(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    sf_org.control.fault(drop_rate=1.0, seed=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.query("SELECT Id FROM Lead")
    sf_org.control.clear_faults()
    assert sf.query("SELECT COUNT() FROM Lead")["done"] is True


def test_uri_and_header_size_limits(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    long_where = " OR ".join(f"LastName = 'n{i:05d}'" for i in range(800))
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.query(f"SELECT Id FROM Lead WHERE {long_where}")
    assert exc.value.status == 414
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.query("SELECT Id FROM Lead", headers={"X-Padding": "x" * 16400})
    assert exc.value.status == 431
    assert (
        sf.query(
            "SELECT Id FROM Lead WHERE " + " OR ".join(f"LastName = 'n{i:05d}'" for i in range(300))
        )["totalSize"]
        == 0
    )
