"""Ids (prefixes, checksum, 15→18) and the schema registry behind describe."""

from __future__ import annotations

import pytest

from salesforce_emulator.ids import IdFactory, checksum, to18
from salesforce_emulator.schema import OrgSchema


def test_checksum_matches_salesforce_examples() -> None:
    assert to18("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert checksum("00Q000000000001") == "EAA"


def test_to18_accepts_both_forms_and_rejects_bad_checksums() -> None:
    assert to18("001D000000IqhSLIAZ") == "001D000000IqhSLIAZ"
    assert to18("001D000000IqhSLiaz") == "001D000000IqhSLIAZ"
    assert to18("001D000000IqhSLAAA") is None
    assert to18("001-not-an-id!!") is None
    assert to18("short") is None


def test_factory_ids_carry_prefix_org_code_and_valid_checksum() -> None:
    a, b = IdFactory(1), IdFactory(2)
    lead = a.new("00Q")
    assert lead[:3] == "00Q"
    assert len(lead) == 18
    assert to18(lead[:15]) == lead
    assert a.new("00Q") != lead
    assert b.new("00Q")[3:5] != lead[3:5]
    resumed = IdFactory(1)
    resumed.observe(lead)
    assert resumed.new("001")[6:15] > lead[6:15]


@pytest.mark.parametrize(
    ("obj", "prefix"),
    [
        ("Account", "001"),
        ("Contact", "003"),
        ("Lead", "00Q"),
        ("Opportunity", "006"),
        ("User", "005"),
        ("Task", "00T"),
        ("Event", "00U"),
        ("Note", "002"),
        ("Group", "00G"),
        ("OpportunityContactRole", "00K"),
        ("RecordType", "012"),
        ("Profile", "00e"),
    ],
)
def test_key_prefixes(obj: str, prefix: str) -> None:
    assert OrgSchema(custom_fields=False).object_schema(obj.lower()).key_prefix == prefix


def test_custom_fields_are_optional_per_org() -> None:
    with_fields = OrgSchema(custom_fields=True)
    without = OrgSchema(custom_fields=False)
    domain = with_fields.object_schema("Account").field("salesmonk_domain__c")
    assert (domain.external_id, domain.unique, domain.custom) == (True, True, True)
    assert without.object_schema("Account").field("SalesMonk_Domain__c") is None
    sessions = with_fields.object_schema("Lead").field("SalesMonk_Total_Sessions__c")
    assert (sessions.type, sessions.precision, sessions.scale) == ("double", 18, 0)
