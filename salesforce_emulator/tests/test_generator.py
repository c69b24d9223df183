"""The data generator: exact per-object counts, determinism and realism of what it seeds."""

from __future__ import annotations

import argparse
from collections import Counter

import pytest
import requests

from salesforce_emulator.__main__ import parse_counts
from salesforce_emulator.schema.standard_objects import OPPORTUNITY_STAGES
from salesforce_emulator.testing import EmulatedOrg, create_org, delete_org

COUNTS = {
    "User": 12,
    "Account": 150,
    "Contact": 300,
    "Lead": 400,
    "Opportunity": 200,
    "Task": 80,
    "Event": 40,
    "Note": 30,
}


@pytest.fixture
def seeded(sf_org: EmulatedOrg) -> tuple[EmulatedOrg, dict]:
    return sf_org, sf_org.control.seed(counts=COUNTS, seed=11)["generated"]


def test_counts_are_exact_per_object(seeded) -> None:
    org, generated = seeded
    assert {k: generated[k] for k in COUNTS} == COUNTS
    sf = org.salesforce()
    for obj, n in COUNTS.items():
        if obj != "User":
            assert sf.query(f"SELECT COUNT() FROM {obj}")["totalSize"] == n
    # the org's own admin and rep come on top of the generated users
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == COUNTS["User"] + 2
    roles = generated["OpportunityContactRole"]
    assert 0 < roles <= COUNTS["Opportunity"]
    assert generated["total"] == sum(COUNTS.values()) + roles


def test_counts_are_deterministic_per_seed(sf_emulator) -> None:
    a, b = create_org(sf_emulator.base_url), create_org(sf_emulator.base_url)
    small = {"Account": 20, "Contact": 30, "Lead": 25, "Opportunity": 10, "Task": 5}
    try:
        a.control.seed(counts=small, seed=3)
        b.control.seed(counts=small, seed=3)
        for obj in ("Account", "Contact", "Lead", "Opportunity", "Task"):
            strip = ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "AccountId")
            rows_a = [{k: v for k, v in r.items() if k not in strip} for r in a.records(obj)]
            rows_b = [{k: v for k, v in r.items() if k not in strip} for r in b.records(obj)]
            assert [r.get("Name") for r in rows_a] == [r.get("Name") for r in rows_b]
            assert len(rows_a) == small[obj]
        assert b.records("Event") == []
    finally:
        delete_org(sf_emulator.base_url, a.name)
        delete_org(sf_emulator.base_url, b.name)


def test_counted_org_looks_like_a_real_one(seeded) -> None:
    org, _ = seeded
    accounts = org.records("Account")
    contacts = org.records("Contact")
    leads = org.records("Lead")
    opps = org.records("Opportunity")
    account_ids = {a["Id"] for a in accounts}
    per_account = Counter(c["AccountId"] for c in contacts)
    assert set(per_account) <= account_ids
    assert max(per_account.values()) >= 5 * (len(contacts) / len(accounts)) / 2  # skewed
    # messy real-world data: several website spellings, repeated company names
    assert len({a["Website"].split(":")[0].lower() for a in accounts if "://" in a["Website"]}) == 2
    assert any("://" not in a["Website"] for a in accounts)
    assert len({a["Name"] for a in accounts}) < len(accounts)
    # leads: some queue-owned, some sharing a contact's email, some converted into a contact
    queue_owned = [lead for lead in leads if lead["OwnerId"].startswith("00G")]
    assert 0 < len(queue_owned) < len(leads) / 3
    contact_emails = {c["Email"] for c in contacts}
    assert any(lead["Email"] in contact_emails for lead in leads)
    converted = [lead for lead in leads if lead["IsConverted"]]
    assert converted
    by_id = {c["Id"]: c for c in contacts}
    for lead in converted:
        assert lead["Status"] == "Closed - Converted"
        assert by_id[lead["ConvertedContactId"]]["AccountId"] == lead["ConvertedAccountId"]
    # opportunities across every stage, flags derived from the stage
    stages = {s[0]: s for s in OPPORTUNITY_STAGES}
    assert {o["StageName"] for o in opps} == set(stages)
    for o in opps:
        assert (o["IsClosed"], o["IsWon"]) == stages[o["StageName"]][2:4]
    # several owners, and LastActivityDate rolled up from past activities only
    assert len({a["OwnerId"] for a in accounts}) > 5
    today = org.control.clock()["now"][:10]
    dated = [r for r in contacts + leads + accounts if r["LastActivityDate"]]
    assert dated
    assert all(r["LastActivityDate"] <= today for r in dated)


def test_counted_org_answers_salesmonk_queries(seeded) -> None:
    org, _ = seeded
    sf = org.salesforce()
    rows = sf.query_all("SELECT Id, Owner.Name FROM Lead WHERE IsConverted = false")["records"]
    names = {r["Owner"]["Name"] for r in rows}
    assert "Inbound Leads" in names
    assert len(names) > 3
    notes = sf.query("SELECT ParentId FROM Note")["records"]
    assert {n["ParentId"][:3] for n in notes} <= {"001", "003", "00Q", "006"}


def test_default_size_mode_is_unchanged(sf_org: EmulatedOrg) -> None:
    generated = sf_org.control.seed(size=10, seed=1)["generated"]
    assert (generated["Account"], generated["User"]) == (10, 5)
    assert generated["Contact"] >= 10


@pytest.mark.parametrize(
    "counts",
    [{"Widget": 1}, {"Account": -1}, {"Note": 5}, {"Account": "many"}],
)
def test_bad_counts_are_400(sf_org: EmulatedOrg, counts: dict) -> None:
    r = requests.post(
        f"{sf_org.control.base}/seed", json={"generator": {"counts": counts}}, timeout=10
    )
    assert r.status_code == 400
    assert "error" in r.json()


def test_cli_counts_option() -> None:
    assert parse_counts("Account=20000, Contact=40000,User=200") == {
        "Account": 20000,
        "Contact": 40000,
        "User": 200,
    }
    with pytest.raises(argparse.ArgumentTypeError):
        parse_counts("Widget=3")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_counts("Account")
