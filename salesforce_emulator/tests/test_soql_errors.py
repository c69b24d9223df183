"""Errors: codes and Salesforce-style messages, limits, and syntax that must never run."""

from __future__ import annotations

import pytest

from salesforce_emulator.soql import SoqlError, parse
from salesforce_emulator.soql.nodes import StringLit
from salesforce_emulator.tests.test_soql_support import run

CUSTOM_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the "
    "custom field name. Please reference your WSDL or the describe call for the appropriate "
    "names."
)


def fail(soql: str, **kw: object) -> SoqlError:
    with pytest.raises(SoqlError) as exc:
        run(soql, **kw)
    return exc.value


def test_unknown_object() -> None:
    err = fail("SELECT Id FROM Foo")
    assert err.error_code == "INVALID_TYPE"
    assert err.message == (
        "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Foo' is not supported. If you are attempting to use a custom object, "
        "be sure to append the '__c' after the entity name. Please reference your WSDL or the "
        "describe call for the appropriate names."
    )


def test_unknown_field_in_select() -> None:
    err = fail("SELECT Foo FROM Account")
    assert err.error_code == "INVALID_FIELD"
    assert err.message == (
        "\nSELECT Foo FROM Account\n       ^\nERROR at Row:1:Column:8\n"
        f"No such column 'Foo' on entity 'Account'. {CUSTOM_FIELD_HINT}"
    )


@pytest.mark.parametrize(
    ("soql", "name", "entity"),
    [
        ("SELECT Id FROM Account WHERE Foo__c = 1", "Foo__c", "Account"),
        ("SELECT Id FROM Account ORDER BY Bar", "Bar", "Account"),
        ("SELECT Owner.Foo FROM Account", "Foo", "User"),
        ("SELECT Owner FROM Account", "Owner", "Account"),
        ("SELECT Owner.Foo FROM Lead", "Foo", "Name"),
        ("SELECT Id FROM Contact WHERE Account.Owner.Nope = null", "Nope", "User"),
    ],
)
def test_unknown_field_anywhere(soql: str, name: str, entity: str) -> None:
    err = fail(soql)
    assert err.error_code == "INVALID_FIELD"
    assert err.message.endswith(
        f"No such column '{name}' on entity '{entity}'. {CUSTOM_FIELD_HINT}"
    )


def test_unknown_field_reports_row_and_column() -> None:
    err = fail("SELECT Id\nFROM Account\nWHERE Foo = 1")
    assert err.message.startswith("\nWHERE Foo = 1\n      ^\nERROR at Row:3:Column:7\n")


@pytest.mark.parametrize(
    ("soql", "relationship"),
    [
        ("SELECT Foo.Name FROM Account", "Foo"),
        ("SELECT OwnerId.Name FROM Account", "OwnerId"),
        ("SELECT Owner.Manager.Name FROM Lead", "Manager"),  # nothing past a polymorphic parent
    ],
)
def test_bad_relationship(soql: str, relationship: str) -> None:
    err = fail(soql)
    assert err.error_code == "INVALID_FIELD"
    assert err.message.endswith(
        f"Didn't understand relationship '{relationship}' in field path. If you are attempting "
        "to use a custom relationship, be sure to append the '__r' after the custom "
        "relationship name. Please reference your WSDL or the describe call for the "
        "appropriate names."
    )


def test_relationship_depth_is_capped_at_five() -> None:
    five = "Owner.Manager.Manager.Manager.Manager.Name"
    assert run(f"SELECT {five} FROM Account").total_size == 3
    err = fail("SELECT Owner.Manager.Manager.Manager.Manager.Manager.Name FROM Account")
    assert err.error_code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("CreatedDate > 2024-01-01", "'CreatedDate' must be of type dateTime and should not be"),
        ("CreatedDate > '2024-01-01T00:00:00Z'", "'CreatedDate' must be of type dateTime"),
        ("LastActivityDate = 2024-03-12T00:00:00Z", "'LastActivityDate' must be of type date "),
        ("LastActivityDate = '2024-03-12'", "'LastActivityDate' must be of type date "),
        ("Name = 5", "'Name' must be of type string and should be enclosed in quotes"),
        ("Name = true", "'Name' must be of type string and should be enclosed in quotes"),
        ("Name IN ('a', 5)", "'Name' must be of type string and should be enclosed in quotes"),
        ("Name LIKE 5", "'Name' must be of type string and should be enclosed in quotes"),
        ("NumberOfEmployees = '5'", "'NumberOfEmployees' must be of type integer and should not"),
        ("AnnualRevenue > '1'", "'AnnualRevenue' must be of type double and should not"),
        ("Active__c = 'true'", "'Active__c' must be of type boolean and should not be enclosed"),
        ("OwnerId = 5", "'OwnerId' must be of type string and should be enclosed in quotes"),
    ],
)
def test_literal_type_must_match_field_type(condition: str, message: str) -> None:
    err = fail(f"SELECT Id FROM Account WHERE {condition}")
    assert err.error_code == "INVALID_FIELD"
    assert f"\nvalue of filter criterion for field {message}" in err.message


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("NumberOfEmployees LIKE '5%'", "invalid operator on integer field: LIKE"),
        ("Id LIKE '001%'", "invalid operator on id field: LIKE"),
        ("CreatedDate LIKE '2024%'", "invalid operator on dateTime field: LIKE"),
        ("Tags__c LIKE 'Gold%'", "invalid operator on multipicklist field: LIKE"),
        ("Active__c > false", "invalid operator on boolean field: >"),
        ("Name INCLUDES ('a')", "INCLUDES operator is only valid on multi-select picklist fields"),
        ("Id = 'abc'", "invalid ID field: abc"),
        (
            "OwnerId IN ('005000000000001', '005-bad-id-000001')",
            "invalid ID field: 005-bad-id-000001",
        ),
    ],
)
def test_invalid_filter_operator(condition: str, message: str) -> None:
    err = fail(f"SELECT Id FROM Account WHERE {condition}")
    assert err.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert err.message.endswith("\n" + message)


def test_address_fields_cannot_be_filtered() -> None:
    err = fail("SELECT Id FROM Account WHERE BillingAddress = 'x'")
    assert err.error_code == "INVALID_FIELD"
    assert err.message.endswith("field 'BillingAddress' can not be filtered in a query call")


def test_syntax_error_message_shape() -> None:
    err = fail("SELECT Id FROM Account GROUP BY Id")
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message == (
        "\nSELECT Id FROM Account GROUP BY Id\n                       ^\n"
        "ERROR at Row:1:Column:24\nunexpected token: 'GROUP'"
    )
    assert fail("SELECT Id FROM Account WHERE").message.endswith("unexpected token: '<EOF>'")


def test_mixed_and_or_without_parentheses_is_rejected() -> None:
    err = fail("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'")
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message.endswith("ERROR at Row:1:Column:56\nunexpected token: 'OR'")
    err = fail("SELECT Id FROM Account WHERE Name = 'a' OR Name = 'b' AND Name = 'c'")
    assert err.message.endswith("unexpected token: 'AND'")


def test_duplicate_field() -> None:
    err = fail("SELECT Name, Id, name FROM Account")
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message.endswith("\nduplicate field selected: name")
    assert fail("SELECT Owner.Name, owner.NAME FROM Account").error_code == "MALFORMED_QUERY"


def test_offset_is_capped_at_2000() -> None:
    err = fail("SELECT Id FROM Account OFFSET 2001")
    assert err.error_code == "NUMBER_OUTSIDE_VALID_RANGE"
    assert err.message.endswith("\nMaximum SOQL offset allowed is 2000")


def test_statement_length_limit() -> None:
    base = "SELECT Id FROM Account WHERE Name = 'Acme'"
    assert len(run(base + " " * (100_000 - len(base))).rows) == 1
    err = fail(base + " " * (100_001 - len(base)))
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message == "SOQL statements cannot be longer than 100,000 characters"


def test_string_literal_length_limit() -> None:
    assert run(f"SELECT Id FROM Account WHERE Name = '{'x' * 4000}'").rows == []
    err = fail(f"SELECT Id FROM Account WHERE Name = '{'x' * 4001}'")
    assert err.error_code == "MALFORMED_QUERY"
    assert err.message.endswith("\nString literal exceeds 4000 characters")


def test_string_escapes() -> None:
    query = parse(r"SELECT Id FROM Account WHERE Name = 'O\'Brien \"q\" \\ \n\t\r\b\f \u00e9'")
    assert isinstance(query.where.value, StringLit)  # type: ignore[union-attr]
    assert query.where.value.value == 'O\'Brien "q" \\ \n\t\r\b\f é'  # type: ignore[union-attr]


@pytest.mark.parametrize("literal", [r"'a\x'", r"'100\%'", r"'a\_b'", r"'\u12'", "'a\\'"])
def test_invalid_escapes_outside_like(literal: str) -> None:
    assert fail(f"SELECT Id FROM Account WHERE Name = {literal}").error_code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Account GROUP BY Id", "MALFORMED_QUERY"),
        ("SELECT Industry FROM Account GROUP BY Industry HAVING COUNT(Id) > 1", "MALFORMED_QUERY"),
        ("SELECT FIELDS(ALL) FROM Account LIMIT 200", "MALFORMED_QUERY"),
        ("SELECT FIELDS(STANDARD) FROM Account", "MALFORMED_QUERY"),
        ("SELECT TYPEOF Owner WHEN User THEN Name END FROM Lead", "MALFORMED_QUERY"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account xyz", "MALFORMED_QUERY"),
        ("SELECT a.Id FROM Account a", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = 'Acme' garbage", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = 'Acme';", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account LIMIT 5 ORDER BY Name", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account OFFSET 1 LIMIT 5", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WITH SECURITY_ENFORCED", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account FOR UPDATE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account FOR VIEW", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account USING SCOPE mine", "MALFORMED_QUERY"),
        ("SELECT SUM(AnnualRevenue) FROM Account", "MALFORMED_QUERY"),
        ("SELECT MAX(CreatedDate) FROM Account", "MALFORMED_QUERY"),
        ("SELECT COUNT(Id) FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id, COUNT() FROM Account", "MALFORMED_QUERY"),
        ("SELECT COUNT(), Id FROM Account", "MALFORMED_QUERY"),
        ("SELECT FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account, Contact", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account ORDER BY", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account LIMIT -1", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account LIMIT 1.5", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE NumberOfEmployees > 1e3", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE NumberOfEmployees > 1.5e3", "MALFORMED_QUERY"),
        ('SELECT Id FROM Account WHERE Name = "Acme"', "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = :name", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = 'Acme", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name IN ()", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE (Name = 'Acme'", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE CreatedDate = LAST_FORTNIGHT", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE CreatedDate = TODAY:3", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE CreatedDate > 2024-01-01T00:00:00+0000", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE CreatedDate > 2024-01-01T00:00:00", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE CreatedDate > 2024-13-01T00:00:00Z", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE LastActivityDate > 2024-02-30", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name LIKE", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM Account WHERE NumberOfEmployees LIKE '5%'",
            "INVALID_QUERY_FILTER_OPERATOR",
        ),
        ("SELECT Id FROM Account WHERE Id IN (SELECT Id FROM Nope)", "INVALID_TYPE"),
        ("", "MALFORMED_QUERY"),
        ("UPDATE Account SET Name = 'x'", "MALFORMED_QUERY"),
    ],
)
def test_unsupported_syntax_raises_and_never_returns_rows(soql: str, code: str) -> None:
    assert fail(soql).error_code == code
    assert fail(soql, include_deleted=True).error_code == code
