"""WHERE semantics: operators, nulls, LIKE, dates, ids, logic and IsDeleted."""

from __future__ import annotations

import pytest

from salesforce_emulator.soql import SoqlError
from salesforce_emulator.tests.test_soql_support import (
    A1,
    A2,
    A3,
    A4,
    C1,
    C2,
    C3,
    L1,
    L2,
    ids,
    run,
)


def where(condition: str, obj: str = "Account", **kw: object) -> list[str]:
    return ids(f"SELECT Id FROM {obj} WHERE {condition}", **kw)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("NumberOfEmployees = 5", [A2]),
        ("NumberOfEmployees != 5", [A1, A3]),
        ("NumberOfEmployees <> 5", [A1, A3]),
        ("NumberOfEmployees < 50", [A2]),
        ("NumberOfEmployees <= 50", [A1, A2]),
        ("NumberOfEmployees > 5", [A1]),
        ("NumberOfEmployees >= 5", [A1, A2]),
        ("NumberOfEmployees = -1", []),
        ("AnnualRevenue > 100.25", [A1]),
        ("AnnualRevenue = 20", [A3]),
        ("NumberOfEmployees IN (5, 50)", [A1, A2]),
        ("NumberOfEmployees NOT IN (5)", [A1, A3]),
        ("Name > 'b'", [A2, A3]),
        ("Name > 'B'", [A2, A3]),
        ("Name <= 'ACME'", [A1]),
    ],
)
def test_comparison_operators(condition: str, expected: list[str]) -> None:
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Industry = null", [A2]),
        ("Industry != null", [A1, A3]),
        ("Industry = 'energy'", [A1]),
        ("Industry != 'Energy'", [A2, A3]),  # null rows match != as in Salesforce
        ("Industry IN ('media', 'ENERGY')", [A1, A3]),
        ("Industry IN ('Energy', null)", [A1, A2]),
        ("Industry NOT IN ('Energy')", [A2, A3]),
        ("Industry < 'Z'", [A1, A3]),  # a null never satisfies an ordering comparison
        ("Industry = ''", [A2]),  # Salesforce stores empty text as null
        ("Active__c = true", [A1]),
        ("Active__c = false", [A2, A3]),
        ("Active__c = null", [A2, A3]),  # documented: `= null` on a boolean means false
        ("Active__c != null", [A1]),
        ("Active__c != TRUE", [A2, A3]),
        ("Parent.Name = null", [A1]),  # a missing parent reads as null
    ],
)
def test_null_semantics_and_case_insensitive_strings(condition: str, expected: list[str]) -> None:
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("'a%'", [A1]),
        ("'ACME'", [A1]),
        ("'Acm_'", [A1]),
        ("'%CO'", [A3]),
        ("'G_mma%'", [A3]),
        ("'Gamma_C'", []),
        ("'Gamma\\_Co'", [A3]),
        ("'Gamma\\_C_'", [A3]),
        ("'%100%'", [A2]),
        ("'beta 100\\%'", [A2]),
        ("'beta 1\\%'", []),
        ("'%'", [A1, A2, A3]),
    ],
)
def test_like_wildcards_and_escapes(pattern: str, expected: list[str]) -> None:
    assert where(f"Name LIKE {pattern}") == expected


def test_like_on_picklist_and_never_on_null() -> None:
    assert where("Industry LIKE 'e%'") == [A1]
    assert where("Industry LIKE '%'") == [A1, A3]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("CreatedDate = TODAY", [A1]),
        ("CreatedDate != TODAY", [A2, A3]),
        ("CreatedDate = THIS_MONTH", [A1, A2]),
        ("CreatedDate = LAST_YEAR", [A3]),
        ("CreatedDate < THIS_YEAR", [A3]),
        ("CreatedDate > LAST_YEAR", [A1, A2]),
        ("CreatedDate = LAST_N_DAYS:7", [A1]),
        ("CreatedDate = LAST_90_DAYS", [A1, A2, A3]),
        ("CreatedDate = NEXT_N_DAYS:3", []),
        ("CreatedDate >= LAST_N_DAYS:12", [A1, A2]),
        ("SystemModstamp = THIS_WEEK", [A1, A2]),
        ("SystemModstamp = LAST_WEEK", []),
        ("LastActivityDate = YESTERDAY", [A1]),
        ("LastActivityDate = LAST_MONTH", [A2]),
        ("LastActivityDate < THIS_WEEK", [A2]),
        ("LastActivityDate <= LAST_WEEK", [A2]),
        ("LastActivityDate >= THIS_WEEK", [A1]),
        ("LastActivityDate > LAST_WEEK", [A1]),
        ("LastActivityDate = 2024-02-29", [A2]),
        ("LastActivityDate < 2024-03-01", [A2]),
        ("LastActivityDate IN (2024-02-29, 2024-03-12)", [A1, A2]),
    ],
)
def test_date_literals_and_ranges(condition: str, expected: list[str]) -> None:
    assert where(condition) == expected  # NOW is Wednesday 2024-03-13 15:30 UTC


def test_date_literal_on_leads_last_n_days_includes_today() -> None:
    assert where("CreatedDate = LAST_N_DAYS:7", "Lead") == [L1, L2]


@pytest.mark.parametrize(
    "literal",
    [
        "2024-03-13T09:00:00Z",
        "2024-03-13T09:00:00.000Z",
        "2024-03-13T10:00:00+01:00",
        "2024-03-13T04:00:00-05:00",
        "2024-03-13T14:30:00+05:30",
    ],
)
def test_datetime_literals_are_converted_to_utc(literal: str) -> None:
    assert where(f"CreatedDate = {literal}") == [A1]


def test_datetime_offset_crosses_midnight() -> None:
    assert where("CreatedDate >= 2024-01-01T00:59:59+01:00") == [A1, A2, A3]
    assert where("CreatedDate > 2024-01-01T00:59:59+01:00") == [A1, A2]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Id = '001000000000001'", [A1]),
        ("Id = '001000000000001AAA'", [A1]),
        ("Id = '001000000000001aaa'", [A1]),
        ("Id IN ('001000000000001', '001000000000002AAA')", [A1, A2]),
        ("Id != '001000000000001'", [A2, A3]),
        ("OwnerId = '005000000000001'", [A1]),
        ("Parent.OwnerId = '005000000000001AAA'", [A2]),
        ("OwnerId = null", [A3]),
    ],
)
def test_id_comparisons_accept_15_and_18_characters(condition: str, expected: list[str]) -> None:
    assert where(condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("NOT Industry = 'Energy'", [A2, A3]),
        ("NOT (Industry = 'Energy' OR Industry = 'Media')", [A2]),
        ("Industry = 'Energy' AND (NumberOfEmployees > 100 OR Name = 'Acme')", [A1]),
        ("(Industry = 'Media' OR Industry = 'Energy') AND NumberOfEmployees = null", [A3]),
        ("Name = 'Acme' OR Name = 'Gamma_Co' OR Name = 'zzz'", [A1, A3]),
        ("Name != 'Acme' AND Name != 'zzz' AND NumberOfEmployees = null", [A3]),
        ("(Name = 'Acme')", [A1]),
        ("((Name = 'Acme') OR (NOT Name LIKE '%a%'))", [A1]),
        ("NOT NumberOfEmployees IN (5, 50)", [A3]),
    ],
)
def test_logic(condition: str, expected: list[str]) -> None:
    assert where(condition) == expected


def test_relationship_filters() -> None:
    assert where("Owner.Name = 'ada lovelace'") == [A1]
    assert where("Owner.Manager.Name = 'Grace Hopper'") == [A1]
    assert where("Account.Owner.Email LIKE 'ada%'", "Contact") == [C1]
    assert where("Owner.Type = 'Queue'", "Lead") == [L2]
    assert where("Owner.Name = 'Inbound Queue'", "Lead") == [L2]
    assert where("Owner.Type = 'User'", "Lead") == [L1]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ("INCLUDES ('gold')", [A1]),
        ("INCLUDES ('Silver', 'Gold;Partner')", [A1, A2]),
        ("INCLUDES ('Gold;Silver')", []),
        ("EXCLUDES ('Gold')", [A2, A3]),
    ],
)
def test_includes_excludes(values: str, expected: list[str]) -> None:
    assert where(f"Tags__c {values}") == expected


def test_semi_join() -> None:
    sub = "(SELECT ContactId FROM OpportunityContactRole WHERE Role = 'Decision Maker')"
    assert where(f"Id IN {sub}", "Contact") == [C1]
    assert where(f"Id NOT IN {sub}", "Contact") == [C2, C3]
    assert where("Id IN (SELECT ContactId FROM OpportunityContactRole)", "Contact") == [C1, C3]


def test_is_deleted_rows_only_with_query_all() -> None:
    assert ids("SELECT Id FROM Account") == [A1, A2, A3]
    assert ids("SELECT Id FROM Account", include_deleted=True) == [A1, A2, A3, A4]
    assert where("IsDeleted = true") == []
    assert where("IsDeleted = true", include_deleted=True) == [A4]
    assert where("IsDeleted = false", include_deleted=True) == [A1, A2, A3]
    assert where("Industry = 'Energy'", include_deleted=True) == [A1, A4]
    assert run("SELECT COUNT() FROM Account", include_deleted=True).total_size == 4


def test_semi_join_requires_id_fields_and_no_nesting() -> None:
    with pytest.raises(SoqlError) as exc:
        where("LastName IN (SELECT ContactId FROM OpportunityContactRole)", "Contact")
    assert exc.value.error_code == "MALFORMED_QUERY"
    nested = (
        "Id IN (SELECT ContactId FROM OpportunityContactRole WHERE ContactId IN "
        "(SELECT Id FROM Contact))"
    )
    with pytest.raises(SoqlError) as exc:
        where(nested, "Contact")
    assert exc.value.error_code == "MALFORMED_QUERY"
