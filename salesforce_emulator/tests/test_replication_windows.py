"""getUpdated / getDeleted windows and `Sforce-Query-Options: batchSize` edge values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesforce_emulator.rest import sobjects
from salesforce_emulator.testing import EmulatedOrg

NOW = datetime(2030, 6, 15, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
def frozen(sf_org: EmulatedOrg) -> EmulatedOrg:
    sf_org.control.clock(set=NOW.isoformat(), freeze=True)
    return sf_org


def _error(call) -> dict:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        call()
    [err] = exc.value.content
    return err


def test_updated_window_is_30_days(frozen: EmulatedOrg) -> None:
    sf = frozen.salesforce()
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    err = _error(lambda: sf.Lead.updated(NOW - timedelta(days=30, minutes=2), NOW))
    assert err["errorCode"] == "INVALID_REPLICATION_DATE"
    # a change is reported once the minute it happened in is over
    early = sf.Lead.updated(NOW - timedelta(days=29), NOW + timedelta(minutes=5))
    assert early == {"ids": [], "latestDateCovered": "2030-06-15T12:00:00.000+0000"}
    frozen.control.clock(advance_seconds=120)
    ok = sf.Lead.updated(NOW - timedelta(days=29), NOW + timedelta(minutes=5))
    assert ok == {"ids": [lead], "latestDateCovered": "2030-06-15T12:02:00.000+0000"}


def test_deleted_window_is_15_days(frozen: EmulatedOrg) -> None:
    sf = frozen.salesforce()
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    sf.Lead.delete(lead)
    frozen.control.clock(advance_seconds=60)
    err = _error(lambda: sf.Lead.deleted(NOW - timedelta(days=16), NOW))
    assert err["errorCode"] == "INVALID_REPLICATION_DATE"
    got = sf.Lead.deleted(NOW - timedelta(days=14), NOW + timedelta(minutes=5))
    assert got == {
        "deletedRecords": [{"id": lead, "deletedDate": "2030-06-15T12:00:30.000+0000"}],
        "earliestDateAvailable": "2030-05-31T12:01:00.000+0000",
        "latestDateCovered": "2030-06-15T12:01:00.000+0000",
    }
    # deleted rows are not "updated"
    assert sf.Lead.updated(NOW - timedelta(days=1), NOW + timedelta(minutes=5))["ids"] == []


def test_window_bounds_floor_to_the_minute_and_end_caps_at_now(frozen: EmulatedOrg) -> None:
    sf = frozen.salesforce()
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]  # stamped 12:00:30
    frozen.control.clock(advance_seconds=600)
    # start 12:00:59 floors to 12:00, so the 12:00:30 change is inside the window
    got = sf.Lead.updated(NOW.replace(second=59), NOW + timedelta(days=3))
    assert got == {"ids": [lead], "latestDateCovered": "2030-06-15T12:10:00.000+0000"}
    # end 12:00:59 floors to 12:00: the change is after the window
    assert sf.Lead.updated(NOW - timedelta(hours=1), NOW.replace(second=59))["ids"] == []


def test_start_after_end_is_refused(frozen: EmulatedOrg) -> None:
    sf = frozen.salesforce()
    err = _error(lambda: sf.Lead.updated(NOW, NOW - timedelta(hours=1)))
    assert err["errorCode"] == "INVALID_REPLICATION_DATE"
    err = _error(lambda: sf.Lead.deleted(NOW, NOW - timedelta(hours=1)))
    assert err["errorCode"] == "INVALID_REPLICATION_DATE"


def test_start_in_the_same_minute_as_end_is_refused(frozen: EmulatedOrg) -> None:
    """Seconds are ignored, and the start must be before the end (Salesforce's rule)."""
    sf = frozen.salesforce()
    for call in (sf.Lead.updated, sf.Lead.deleted):
        err = _error(lambda call=call: call(NOW.replace(second=5), NOW.replace(second=50)))
        assert err["errorCode"] == "INVALID_REPLICATION_DATE"
        assert err["message"] == "start date must precede end date"


def test_more_than_the_id_limit_is_exceeded_id_limit(
    frozen: EmulatedOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    sf = frozen.salesforce()
    for i in range(3):
        sf.Lead.create({"LastName": f"L{i}", "Company": "C"})
    frozen.control.clock(advance_seconds=60)
    monkeypatch.setattr(sobjects, "MAX_REPLICATION_IDS", 2)
    err = _error(lambda: sf.Lead.updated(NOW - timedelta(hours=1), NOW + timedelta(hours=1)))
    assert err["errorCode"] == "EXCEEDED_ID_LIMIT"


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("batchSize=199", 200),
        ("batchSize=200", 200),
        ("batchSize=201", 201),
        ("batchSize = 1000", 1000),
        ("batchSize=2000", 2000),
        ("batchSize=2001", 2000),
        ("batchSize=0", 200),
        ("batchSize=-5", 200),
        ("batchSize=lots", 2000),
        ("", 2000),
    ],
)
def test_batch_size_edges(sf_org: EmulatedOrg, header: str, size: int) -> None:
    sf_org.control.seed(records={"Lead": [{"LastName": "L", "Company": "C"}] * 2100})
    sf = sf_org.salesforce()
    headers = {"Sforce-Query-Options": header} if header else {}
    page = sf.query("SELECT Id FROM Lead", headers=headers)
    assert (len(page["records"]), page["totalSize"], page["done"]) == (size, 2100, False)
    assert page["nextRecordsUrl"].endswith(f"-{size}")
    following = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True, headers=headers)
    assert len(following["records"]) == min(size, 2100 - size)
    every = sf.query_all("SELECT Id FROM Lead", headers=headers)["records"]
    assert len({r["Id"] for r in every}) == 2100
