"""ORDER BY, LIMIT/OFFSET, COUNT() and the REST record shape (`project`)."""

from __future__ import annotations

import pytest

from salesforce_emulator.soql import execute, parse
from salesforce_emulator.tests.test_soql_support import (
    A1,
    A2,
    A3,
    C1,
    C2,
    C3,
    L1,
    L2,
    L3,
    NOW,
    Q1,
    SCHEMA,
    SOURCE,
    U1,
    U2,
    ids,
    records,
    run,
)

V = "/services/data/v59.0/sobjects"


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("Name", [A1, A2, A3]),  # case-insensitive: 'Gamma_Co' sorts after 'beta 100%'
        ("Name ASC", [A1, A2, A3]),
        ("name DESC", [A3, A2, A1]),
        ("Industry", [A2, A1, A3]),  # ASC puts nulls first
        ("Industry DESC", [A3, A1, A2]),  # DESC puts nulls last
        ("Industry NULLS LAST", [A1, A3, A2]),
        ("Industry DESC NULLS FIRST", [A2, A3, A1]),
        ("Industry ASC NULLS FIRST", [A2, A1, A3]),
        ("NumberOfEmployees DESC", [A1, A2, A3]),
        ("Owner.Name DESC", [A2, A1, A3]),
        ("Parent.Name DESC", [A3, A2, A1]),
        ("Parent.Name NULLS LAST", [A2, A3, A1]),
        ("CreatedDate", [A3, A2, A1]),
        ("Id DESC", [A3, A2, A1]),
    ],
)
def test_order_by(order: str, expected: list[str]) -> None:
    assert ids(f"SELECT Id FROM Account ORDER BY {order}") == expected


def test_order_by_several_keys_with_mixed_directions() -> None:
    assert ids("SELECT Id FROM Contact ORDER BY OwnerId DESC, LastName") == [C2, C1, C3]
    assert ids("SELECT Id FROM Contact ORDER BY OwnerId, LastName DESC") == [C3, C1, C2]


def test_without_order_by_rows_keep_source_order_and_sorts_are_stable() -> None:
    assert ids("SELECT Id FROM Lead") == [L1, L2, L3]
    assert ids("SELECT Id FROM Lead ORDER BY Status") == [L1, L3, L2]


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("LIMIT 2", [A1, A2]),
        ("LIMIT 2 OFFSET 1", [A2, A3]),
        ("OFFSET 2", [A3]),
        ("LIMIT 0", []),
        ("OFFSET 2000", []),
        ("LIMIT 10", [A1, A2, A3]),
    ],
)
def test_limit_and_offset(tail: str, expected: list[str]) -> None:
    result = run(f"SELECT Id FROM Account ORDER BY Name {tail}")
    assert [r["Id"] for r in result.rows] == expected
    assert result.total_size == len(expected)


def test_count() -> None:
    result = run("SELECT COUNT() FROM Account")
    assert (result.is_count, result.total_size, list(result.rows)) == (True, 3, [])
    assert run("select count() from Lead where Status = 'Open'").total_size == 2
    assert run("SELECT COUNT() FROM Account LIMIT 1").total_size == 1
    assert run("SELECT COUNT() FROM Account WHERE Name = 'nobody'").total_size == 0


def test_projection_uses_canonical_names_in_select_order() -> None:
    rows = records(f"SELECT name, INDUSTRY, id FROM account WHERE Id = '{A1}'")
    assert rows == [
        {
            "attributes": {"type": "Account", "url": f"{V}/Account/{A1}"},
            "Name": "Acme",
            "Industry": "Energy",
            "Id": A1,
        }
    ]
    assert list(rows[0]) == ["attributes", "Name", "Industry", "Id"]
    assert run("SELECT Id FROM Account").object_name == "Account"


def test_projection_follows_api_version() -> None:
    result = execute(
        f"SELECT Name FROM Account WHERE Id = '{A1}'",
        schema=SCHEMA,
        source=SOURCE,
        include_deleted=False,
        now=NOW,
        api_version="60.0",
    )
    assert result.project(result.rows[0])["attributes"]["url"] == (
        f"/services/data/v60.0/sobjects/Account/{A1}"
    )


def test_parent_relationship_fields_merge_into_one_object() -> None:
    rows = records(
        "SELECT Name, Owner.Name, Parent.Name, Owner.Email FROM Account ORDER BY Name LIMIT 2"
    )
    assert rows == [
        {
            "attributes": {"type": "Account", "url": f"{V}/Account/{A1}"},
            "Name": "Acme",
            "Owner": {
                "attributes": {"type": "User", "url": f"{V}/User/{U1}"},
                "Name": "Ada Lovelace",
                "Email": "ada@example.com",
            },
            "Parent": None,
        },
        {
            "attributes": {"type": "Account", "url": f"{V}/Account/{A2}"},
            "Name": "beta 100%",
            "Owner": {
                "attributes": {"type": "User", "url": f"{V}/User/{U2}"},
                "Name": "Grace Hopper",
                "Email": "grace@example.com",
            },
            "Parent": {
                "attributes": {"type": "Account", "url": f"{V}/Account/{A1}"},
                "Name": "Acme",
            },
        },
    ]
    assert list(rows[0]) == ["attributes", "Name", "Owner", "Parent"]


def test_two_level_relationships_and_null_parents() -> None:
    rows = records(
        "SELECT LastName, Account.Owner.Email, Account.Name FROM Contact ORDER BY LastName"
    )
    assert rows[0] == {
        "attributes": {"type": "Contact", "url": f"{V}/Contact/{C1}"},
        "LastName": "Able",
        "Account": {
            "attributes": {"type": "Account", "url": f"{V}/Account/{A1}"},
            "Owner": {
                "attributes": {"type": "User", "url": f"{V}/User/{U1}"},
                "Email": "ada@example.com",
            },
            "Name": "Acme",
        },
    }
    assert rows[2] == {
        "attributes": {"type": "Contact", "url": f"{V}/Contact/{C3}"},
        "LastName": "Cole",
        "Account": None,
    }


def test_null_at_the_second_level() -> None:
    rows = records(f"SELECT Owner.Manager.Name FROM Account WHERE Id = '{A2}'")
    assert rows[0]["Owner"] == {
        "attributes": {"type": "User", "url": f"{V}/User/{U2}"},
        "Manager": None,
    }


def test_polymorphic_owner_user_or_queue() -> None:
    rows = records("SELECT LastName, Owner.Name, Owner.Type, OwnerId FROM Lead")
    assert rows == [
        {
            "attributes": {"type": "Lead", "url": f"{V}/Lead/{L1}"},
            "LastName": "Ng",
            "Owner": {
                "attributes": {"type": "Name", "url": f"{V}/User/{U1}"},
                "Name": "Ada Lovelace",
                "Type": "User",
            },
            "OwnerId": U1,
        },
        {
            "attributes": {"type": "Lead", "url": f"{V}/Lead/{L2}"},
            "LastName": "Oh",
            "Owner": {
                "attributes": {"type": "Name", "url": f"{V}/Group/{Q1}"},
                "Name": "Inbound Queue",
                "Type": "Queue",
            },
            "OwnerId": Q1,
        },
        {
            "attributes": {"type": "Lead", "url": f"{V}/Lead/{L3}"},
            "LastName": "Po",
            "Owner": None,
            "OwnerId": None,
        },
    ]


def test_polymorphic_name_fields_missing_on_the_target_are_null() -> None:
    rows = records("SELECT Owner.Alias, Owner.Email FROM Lead ORDER BY LastName LIMIT 2")
    assert rows[0]["Owner"]["Alias"] == "ada"
    assert rows[1]["Owner"] == {
        "attributes": {"type": "Name", "url": f"{V}/Group/{Q1}"},
        "Alias": None,
        "Email": None,
    }


def test_parse_is_cached_and_execute_accepts_a_parsed_query() -> None:
    text = "SELECT Id FROM Account ORDER BY Name"
    assert parse(text) is parse(text)
    result = execute(parse(text), schema=SCHEMA, source=SOURCE, include_deleted=False, now=NOW)
    assert [r["Id"] for r in result.rows] == [A1, A2, A3]
