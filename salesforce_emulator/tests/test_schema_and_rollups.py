"""SalesMonk custom fields in describe, LastActivityDate roll-ups, admin and queue checks,
and the latency fault, all through simple-salesforce."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from salesforce_emulator.testing import EmulatedOrg

# (type, length, precision, scale) as SalesMonk's managed fields define them
PERSON_FIELDS = {
    "SalesMonk_Created__c": ("boolean", 0, 0, 0),
    "SalesMonk_Contact__c": ("url", 255, 0, 0),
    "SalesMonk_Last_Seen__c": ("datetime", 0, 0, 0),
    "SalesMonk_Total_Sessions__c": ("double", 0, 18, 0),
    "SalesMonk_UTM_Campaign__c": ("string", 255, 0, 0),
    "SalesMonk_UTM_Content__c": ("string", 255, 0, 0),
    "SalesMonk_UTM_Medium__c": ("string", 255, 0, 0),
    "SalesMonk_UTM_Source__c": ("string", 255, 0, 0),
}
ACCOUNT_FIELDS = {
    "SalesMonk_Created__c": ("boolean", 0, 0, 0),
    "SalesMonk_Company__c": ("url", 255, 0, 0),
    "SalesMonk_Domain__c": ("string", 255, 0, 0),
}


@pytest.fixture
def sf(sf_org: EmulatedOrg):
    return sf_org.salesforce()


@pytest.mark.parametrize(
    ("obj", "expected"),
    [("Account", ACCOUNT_FIELDS), ("Contact", PERSON_FIELDS), ("Lead", PERSON_FIELDS)],
)
def test_salesmonk_custom_fields_in_describe(sf, obj: str, expected: dict) -> None:
    fields = {f["name"]: f for f in getattr(sf, obj).describe()["fields"]}
    custom = {name for name, f in fields.items() if f["custom"]}
    assert custom == set(expected)
    for name, (ftype, length, precision, scale) in expected.items():
        f = fields[name]
        assert (f["type"], f["length"], f["precision"], f["scale"]) == (
            ftype,
            length,
            precision,
            scale,
        ), name
        assert (f["createable"], f["updateable"]) == (True, True), name
        assert f["nillable"] is (ftype != "boolean"), name
        assert f["defaultedOnCreate"] is (ftype == "boolean"), name
        is_domain = name == "SalesMonk_Domain__c"
        assert (f["externalId"], f["unique"], f["idLookup"]) == (is_domain,) * 3, name
        assert f["picklistValues"] == [], name
        assert f["referenceTo"] == [], name


def test_salesmonk_fields_round_trip_with_their_types(sf) -> None:
    lead = sf.Lead.create(
        {
            "LastName": "L",
            "Company": "C",
            "SalesMonk_Created__c": True,
            "SalesMonk_Contact__c": "https://app.salesmonk.ai/contact/details/42",
            "SalesMonk_Last_Seen__c": "2030-01-02T03:04:05.000+0000",
            "SalesMonk_Total_Sessions__c": 7,
            "SalesMonk_UTM_Source__c": "newsletter",
        }
    )["id"]
    row = sf.query(
        "SELECT SalesMonk_Created__c, SalesMonk_Last_Seen__c, SalesMonk_Total_Sessions__c "
        f"FROM Lead WHERE Id = '{lead}' AND SalesMonk_Last_Seen__c > 2030-01-01T00:00:00Z"
    )["records"][0]
    assert (
        row["SalesMonk_Created__c"],
        row["SalesMonk_Last_Seen__c"],
        row["SalesMonk_Total_Sessions__c"],
    ) == (True, "2030-01-02T03:04:05.000+0000", 7.0)


def test_last_activity_date_from_tasks_and_events(sf, sf_org: EmulatedOrg) -> None:
    today = date.fromisoformat(sf_org.control.clock()["now"][:10])
    acct = sf.Account.create({"Name": "A"})["id"]
    contact = sf.Contact.create({"LastName": "C", "AccountId": acct})["id"]
    assert sf.Contact.get(contact)["LastActivityDate"] is None
    earlier = (today - timedelta(days=5)).isoformat()
    sf.Task.create({"WhoId": contact, "WhatId": acct, "Subject": "Call", "ActivityDate": earlier})
    assert sf.Contact.get(contact)["LastActivityDate"] == earlier
    assert sf.Account.get(acct)["LastActivityDate"] == earlier
    # a future event does not count; a past one moves the date forward
    future = f"{today + timedelta(days=3)}T10:00:00.000+0000"
    sf.Event.create({"WhoId": contact, "ActivityDateTime": future, "DurationInMinutes": 30})
    assert sf.Contact.get(contact)["LastActivityDate"] == earlier
    yesterday = today - timedelta(days=1)
    event = sf.Event.create(
        {"WhoId": contact, "ActivityDateTime": f"{yesterday}T10:00:00Z", "DurationInMinutes": 15}
    )["id"]
    assert sf.Contact.get(contact)["LastActivityDate"] == yesterday.isoformat()
    rows = sf.query(f"SELECT LastActivityDate FROM Contact WHERE LastActivityDate = {yesterday}")
    assert rows["totalSize"] == 1
    sf.Event.delete(event)
    assert sf.Contact.get(contact)["LastActivityDate"] == earlier


def test_admin_check_and_queue_owner_in_one_query(sf, sf_org: EmulatedOrg) -> None:
    users = sf.query(
        "SELECT Username, Profile.PermissionsModifyAllData FROM User "
        "WHERE Profile.PermissionsModifyAllData = true"
    )["records"]
    assert [u["Username"] for u in users] == [sf_org.username]
    queue = sf.query("SELECT Id FROM Group WHERE Type = 'Queue' AND Name = 'Inbound Leads'")
    queue_id = queue["records"][0]["Id"]
    sf.Lead.create({"LastName": "Q", "Company": "C", "OwnerId": queue_id})
    sf.Lead.create({"LastName": "U", "Company": "C"})
    rows = sf.query("SELECT LastName, OwnerId, Owner.Name FROM Lead ORDER BY LastName")["records"]
    assert [(r["LastName"], r["OwnerId"][:3], r["Owner"]["Name"]) for r in rows] == [
        ("Q", "00G", "Inbound Leads"),
        ("U", "005", "Ada Admin"),
    ]
    assert rows[0]["Owner"]["attributes"]["type"] == "Name"


def test_latency_fault_delays_every_call(sf, sf_org: EmulatedOrg) -> None:
    sf_org.control.fault(latency_ms=150)
    started = time.perf_counter()
    sf.query("SELECT COUNT() FROM Lead")
    assert time.perf_counter() - started >= 0.15
    sf_org.control.clear_faults()
    started = time.perf_counter()
    sf.query("SELECT COUNT() FROM Lead")
    assert time.perf_counter() - started < 0.15


def test_idle_sessions_time_out_on_the_org_clock(sf_org: EmulatedOrg) -> None:
    from simple_salesforce import Salesforce
    from simple_salesforce.exceptions import SalesforceExpiredSession

    sf_org.control.update(session_timeout_seconds=3600)
    sf = sf_org.salesforce()
    direct = Salesforce(
        instance_url=sf_org.instance_url, session_id=sf.session_id, session=sf_org.session()
    )
    assert direct.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
    sf_org.control.clock(advance_seconds=1800)
    assert direct.query("SELECT COUNT() FROM Lead")["totalSize"] == 0  # activity resets idling
    sf_org.control.clock(advance_seconds=3601)
    with pytest.raises(SalesforceExpiredSession) as exc:
        direct.query("SELECT COUNT() FROM Lead")
    assert exc.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
    # a client holding credentials logs in again on INVALID_SESSION_ID and carries on
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
    assert sf_org.counters()["by_kind"]["auth"] == 2
