"""A small org shared by the SOQL tests: schema, rows and a `run` helper (no tests here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from salesforce_emulator.soql import QueryResult, execute
from salesforce_emulator.soql.memory import DictSchema, ListSource, sfid
from salesforce_emulator.soql.types import FieldSchema, ObjectSchema

NOW = datetime(2024, 3, 13, 15, 30, tzinfo=UTC)  # a Wednesday


def f(name: str, type_: str = "string", **kw: Any) -> FieldSchema:
    return FieldSchema(name=name, label=name, type=type_, **kw)


def ref(name: str, to: tuple[str, ...], rel: str) -> FieldSchema:
    return FieldSchema(
        name=name, label=name, type="reference", reference_to=to, relationship_name=rel
    )


def obj(name: str, prefix: str, *fields: FieldSchema) -> ObjectSchema:
    base = [f("Id", "id"), f("IsDeleted", "boolean")]
    return ObjectSchema(
        name=name, label=name, key_prefix=prefix, fields={x.name: x for x in [*base, *fields]}
    )


SCHEMA = DictSchema(
    [
        obj(
            "User", "005", f("Name"), f("FirstName"), f("LastName"), f("Email", "email"),
            f("Alias"), f("IsActive", "boolean"), ref("ManagerId", ("User",), "Manager"),
        ),
        obj("Group", "00G", f("Name"), f("Type", "picklist"), f("Email", "email")),
        obj(
            "Account", "001", f("Name"), f("Industry", "picklist"),
            f("NumberOfEmployees", "int"), f("AnnualRevenue", "currency"),
            ref("OwnerId", ("User",), "Owner"), ref("ParentId", ("Account",), "Parent"),
            f("CreatedDate", "datetime"), f("SystemModstamp", "datetime"),
            f("LastActivityDate", "date"), f("Active__c", "boolean"),
            f("Tags__c", "multipicklist"), f("Website", "url"), f("BillingAddress", "address"),
        ),
        obj(
            "Contact", "003", f("FirstName"), f("LastName"), f("Email", "email"),
            ref("AccountId", ("Account",), "Account"), ref("OwnerId", ("User",), "Owner"),
        ),
        obj(
            "Lead", "00Q", f("LastName"), f("Company"), f("Email", "email"),
            f("Status", "picklist"), ref("OwnerId", ("User", "Group"), "Owner"),
            f("CreatedDate", "datetime"),
        ),
        obj(
            "OpportunityContactRole", "00K", ref("ContactId", ("Contact",), "Contact"),
            f("Role", "picklist"),
        ),
    ]
)  # fmt: skip

U1, U2 = sfid("005", 1), sfid("005", 2)
Q1 = sfid("00G", 1)
A1, A2, A3, A4 = (sfid("001", i) for i in range(1, 5))
C1, C2, C3 = (sfid("003", i) for i in range(1, 4))
L1, L2, L3 = (sfid("00Q", i) for i in range(1, 4))


def make_source() -> ListSource:
    src = ListSource()
    src.add(
        "User",
        {
            "Id": U1,
            "Name": "Ada Lovelace",
            "FirstName": "Ada",
            "LastName": "Lovelace",
            "Email": "ada@example.com",
            "Alias": "ada",
            "IsActive": True,
            "ManagerId": U2,
        },
    )
    src.add(
        "User",
        {
            "Id": U2,
            "Name": "Grace Hopper",
            "FirstName": "Grace",
            "LastName": "Hopper",
            "Email": "grace@example.com",
            "Alias": "grace",
            "IsActive": True,
            "ManagerId": None,
        },
    )
    src.add("Group", {"Id": Q1, "Name": "Inbound Queue", "Type": "Queue", "Email": None})
    src.add(
        "Account",
        {
            "Id": A1,
            "Name": "Acme",
            "Industry": "Energy",
            "NumberOfEmployees": 50,
            "AnnualRevenue": 1000.5,
            "OwnerId": U1,
            "ParentId": None,
            "CreatedDate": "2024-03-13T09:00:00.000+0000",
            "SystemModstamp": "2024-03-13T10:00:00.000+0000",
            "LastActivityDate": "2024-03-12",
            "Active__c": True,
            "Tags__c": "Gold;Partner",
            "Website": "acme.example",
        },
    )
    src.add(
        "Account",
        {
            "Id": A2,
            "Name": "beta 100%",
            "Industry": None,
            "NumberOfEmployees": 5,
            "AnnualRevenue": None,
            "OwnerId": U2,
            "ParentId": A1,
            "CreatedDate": "2024-03-01T00:00:00.000+0000",
            "SystemModstamp": "2024-03-10T08:00:00.000+0000",
            "LastActivityDate": "2024-02-29",
            "Active__c": False,
            "Tags__c": "Silver",
            "Website": None,
        },
    )
    src.add(
        "Account",
        {
            "Id": A3,
            "Name": "Gamma_Co",
            "Industry": "Media",
            "NumberOfEmployees": None,
            "AnnualRevenue": 20,
            "OwnerId": None,
            "ParentId": A2,
            "CreatedDate": "2023-12-31T23:59:59.000+0000",
            "SystemModstamp": "2024-01-05T00:00:00.000+0000",
            "LastActivityDate": None,
            "Active__c": None,
            "Tags__c": None,
            "Website": None,
        },
    )
    src.add(
        "Account",
        {
            "Id": A4,
            "Name": "Deleted Inc",
            "Industry": "Energy",
            "NumberOfEmployees": 7,
            "OwnerId": U1,
            "IsDeleted": True,
            "CreatedDate": "2024-03-02T00:00:00.000+0000",
            "SystemModstamp": "2024-03-12T00:00:00.000+0000",
        },
    )
    src.add(
        "Contact",
        {
            "Id": C1,
            "FirstName": "Al",
            "LastName": "Able",
            "Email": "al@acme.example",
            "AccountId": A1,
            "OwnerId": U1,
        },
    )
    src.add(
        "Contact",
        {
            "Id": C2,
            "FirstName": None,
            "LastName": "Baker",
            "Email": None,
            "AccountId": A2,
            "OwnerId": U2,
        },
    )
    src.add(
        "Contact",
        {
            "Id": C3,
            "FirstName": "Cy",
            "LastName": "Cole",
            "Email": "cy@x.example",
            "AccountId": None,
            "OwnerId": U1,
        },
    )
    src.add(
        "Lead",
        {
            "Id": L1,
            "LastName": "Ng",
            "Company": "Ngco",
            "Email": "ng@ngco.example",
            "Status": "Open",
            "OwnerId": U1,
            "CreatedDate": "2024-03-13T00:00:00.000+0000",
        },
    )
    src.add(
        "Lead",
        {
            "Id": L2,
            "LastName": "Oh",
            "Company": "Ohco",
            "Email": None,
            "Status": "Working",
            "OwnerId": Q1,
            "CreatedDate": "2024-03-06T12:00:00.000+0000",
        },
    )
    src.add(
        "Lead",
        {
            "Id": L3,
            "LastName": "Po",
            "Company": "Poco",
            "Email": None,
            "Status": "Open",
            "OwnerId": None,
            "CreatedDate": "2024-02-01T12:00:00.000+0000",
        },
    )
    src.add(
        "OpportunityContactRole", {"Id": sfid("00K", 1), "ContactId": C1, "Role": "Decision Maker"}
    )
    src.add("OpportunityContactRole", {"Id": sfid("00K", 2), "ContactId": C3, "Role": "Other"})
    return src  # fmt: skip


SOURCE = make_source()


def run(soql: str, *, include_deleted: bool = False, now: datetime = NOW) -> QueryResult:
    return execute(soql, schema=SCHEMA, source=SOURCE, include_deleted=include_deleted, now=now)


def ids(soql: str, **kw: Any) -> list[str]:
    """Ids of the matched rows, in result order."""
    return [row["Id"] for row in run(soql, **kw).rows]


def records(soql: str, **kw: Any) -> list[dict[str, Any]]:
    result = run(soql, **kw)
    return [result.project(row) for row in result.rows]
