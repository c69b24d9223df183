"""query / queryAll / queryMore: shapes, paging, batch sizes, cursors and SOQL errors."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesforce_emulator.testing import EmulatedOrg


@pytest.fixture
def seeded(sf_org: EmulatedOrg) -> EmulatedOrg:
    sf_org.control.seed(
        records={"Lead": [{"LastName": f"L{i:04d}", "Company": "C"} for i in range(2500)]}
    )
    return sf_org


def test_first_page_is_2000_with_next_records_url(seeded: EmulatedOrg) -> None:
    sf = seeded.salesforce()
    page = sf.query("SELECT Id, LastName FROM Lead ORDER BY LastName")
    assert list(page) == ["totalSize", "done", "nextRecordsUrl", "records"]
    assert (page["totalSize"], page["done"], len(page["records"])) == (2500, False, 2000)
    assert page["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert page["nextRecordsUrl"].endswith("-2000")
    assert page["records"][0]["LastName"] == "L0000"
    last = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert (last["totalSize"], last["done"], len(last["records"])) == (2500, True, 500)
    assert "nextRecordsUrl" not in last
    assert last["records"][0]["LastName"] == "L2000"
    locator = page["nextRecordsUrl"].rsplit("/", 1)[1]
    again = sf.query_more(locator, identifier_is_url=False)
    assert again["records"][0]["LastName"] == "L2000"


def test_batch_size_header_is_honoured_and_clamped(seeded: EmulatedOrg) -> None:
    sf = seeded.salesforce()
    page = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=500"})
    assert len(page["records"]) == 500
    assert page["nextRecordsUrl"].endswith("-500")
    tiny = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=10"})
    assert len(tiny["records"]) == 200
    result = sf.query_all("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=500"})
    assert len(result["records"]) == 2500
    assert len({r["Id"] for r in result["records"]}) == 2500
    assert seeded.counters()["by_kind"] == {"auth": 1, "query": 3, "queryMore": 4}


def test_query_all_sees_recycle_bin(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    keep = sf.Lead.create({"LastName": "Keep", "Company": "C"})["id"]
    gone = sf.Lead.create({"LastName": "Gone", "Company": "C"})["id"]
    sf.Lead.delete(gone)
    assert [r["Id"] for r in sf.query("SELECT Id FROM Lead")["records"]] == [keep]
    rows = sf.query_all("SELECT Id, IsDeleted FROM Lead ORDER BY LastName", include_deleted=True)
    assert [(r["Id"], r["IsDeleted"]) for r in rows["records"]] == [(gone, True), (keep, False)]


def test_count_and_parent_relationships(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    acct = sf.Account.create({"Name": "Acme"})["id"]
    sf.Contact.create({"LastName": "A", "AccountId": acct})
    sf.Contact.create({"LastName": "B"})
    assert sf.query("SELECT COUNT() FROM Contact") == {"totalSize": 2, "done": True, "records": []}
    rows = sf.query("SELECT LastName, Account.Name FROM Contact ORDER BY LastName")["records"]
    assert rows[0]["Account"] == {
        "attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{acct}"},
        "Name": "Acme",
    }
    assert rows[1]["Account"] is None


def test_soql_errors_are_400(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Nope FROM Lead")
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FROM Nope")
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FROM Lead WHERE")
    assert exc.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_unknown_locator_is_invalid_query_locator(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query_more("01gAAAAAAAAAAAA-2000", identifier_is_url=False)
    assert exc.value.content == [
        {"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}
    ]


def test_query_datetime_filter_on_system_modstamp(sf_org: EmulatedOrg) -> None:
    sf_org.control.seed(
        records={
            "Lead": [
                {"LastName": "Old", "Company": "C", "CreatedDate": "2024-01-01T00:00:00Z"},
                {"LastName": "New", "Company": "C", "CreatedDate": "2024-03-01T12:00:00+00:00"},
            ]
        }
    )
    sf = sf_org.salesforce()
    rows = sf.query(
        "SELECT LastName, SystemModstamp FROM Lead WHERE SystemModstamp > 2024-02-01T00:00:00Z"
    )["records"]
    assert [(r["LastName"], r["SystemModstamp"]) for r in rows] == [
        ("New", "2024-03-01T12:00:00.000+0000")
    ]
