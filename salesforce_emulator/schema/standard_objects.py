"""Declarative definitions of the standard objects SalesMonk touches.

Types and lengths follow Salesforce's field reference; picklist values are a new org's
defaults. Every object gets the system audit fields from `system_fields()`.
"""

from __future__ import annotations

from dataclasses import replace

from salesforce_emulator.ids import KEY_PREFIXES
from salesforce_emulator.schema.fields import (
    boolean,
    date,
    datetime,
    email,
    integer,
    number,
    phone,
    pick,
    ref,
    required,
    ro,
    system_fields,
    text,
    textarea,
    url,
)
from salesforce_emulator.soql.types import FieldSchema, ObjectSchema

SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
INDUSTRIES = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
)
RATINGS = ("Hot", "Warm", "Cold")
SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")

# (ApiName, probability, IsClosed, IsWon, ForecastCategoryName)
OPPORTUNITY_STAGES: tuple[tuple[str, int, bool, bool, str], ...] = (
    ("Prospecting", 10, False, False, "Pipeline"),
    ("Qualification", 10, False, False, "Pipeline"),
    ("Needs Analysis", 20, False, False, "Pipeline"),
    ("Value Proposition", 50, False, False, "Pipeline"),
    ("Id. Decision Makers", 60, False, False, "Pipeline"),
    ("Perception Analysis", 70, False, False, "Pipeline"),
    ("Proposal/Price Quote", 75, False, False, "Pipeline"),
    ("Negotiation/Review", 90, False, False, "Pipeline"),
    ("Closed Won", 100, True, True, "Closed"),
    ("Closed Lost", 0, True, False, "Omitted"),
)
# (ApiName, IsConverted, IsDefault)
LEAD_STATUSES: tuple[tuple[str, bool, bool], ...] = (
    ("Open - Not Contacted", False, True),
    ("Working - Contacted", False, False),
    ("Closed - Converted", True, False),
    ("Closed - Not Converted", False, False),
)
OCR_ROLES = (
    "Business User",
    "Decision Maker",
    "Economic Buyer",
    "Economic Decision Maker",
    "Evaluator",
    "Executive Sponsor",
    "Influencer",
    "Technical Buyer",
    "Other",
)


def _address(prefix: str) -> list[FieldSchema]:
    return [
        textarea(f"{prefix}Street", 255),
        text(f"{prefix}City", 40),
        text(f"{prefix}State", 80),
        text(f"{prefix}PostalCode", 20),
        text(f"{prefix}Country", 80),
    ]


def _owner(*to: str) -> FieldSchema:
    return replace(
        ref("OwnerId", *(to or ("User",)), label="Owner ID"),
        nillable=False,
        defaulted_on_create=True,
    )


def _name_calc() -> FieldSchema:
    return ro(text("Name", 121, label="Full Name", calculated=False))


def _fields() -> dict[str, list[FieldSchema]]:
    stage_names = tuple(s[0] for s in OPPORTUNITY_STAGES)
    lead_statuses = tuple(s[0] for s in LEAD_STATUSES)
    return {
        "Account": [
            ro(ref("MasterRecordId", "Account", label="Master Record ID")),
            required(text("Name", 255, label="Account Name")),
            pick(
                "Type",
                (
                    "Prospect",
                    "Customer - Direct",
                    "Customer - Channel",
                    "Channel Partner / Reseller",
                    "Installation Partner",
                    "Technology Partner",
                    "Other",
                ),
            ),
            ref("ParentId", "Account", label="Parent Account ID"),
            *_address("Billing"),
            *_address("Shipping"),
            phone("Phone"),
            phone("Fax"),
            url("Website"),
            pick("Industry", INDUSTRIES),
            number("AnnualRevenue", 18, 0, kind="currency"),
            integer("NumberOfEmployees", 8, label="Employees"),
            textarea("Description"),
            pick("Rating", RATINGS),
            pick("AccountSource", SOURCES),
            _owner(),
            ro(date("LastActivityDate")),
        ],
        "Contact": [
            ro(ref("MasterRecordId", "Contact", label="Master Record ID")),
            ref("AccountId", "Account"),
            required(text("LastName", 80)),
            text("FirstName", 40),
            pick("Salutation", SALUTATIONS),
            _name_calc(),
            *_address("Mailing"),
            phone("Phone"),
            phone("MobilePhone"),
            ref("ReportsToId", "Contact", label="Reports To ID"),
            email(),
            text("Title", 128),
            text("Department", 80),
            pick("LeadSource", SOURCES),
            textarea("Description"),
            _owner(),
            boolean("HasOptedOutOfEmail"),
            boolean("DoNotCall"),
            ro(date("LastActivityDate")),
        ],
        "Lead": [
            ro(ref("MasterRecordId", "Lead", label="Master Record ID")),
            required(text("LastName", 80)),
            text("FirstName", 40),
            pick("Salutation", SALUTATIONS),
            _name_calc(),
            text("Title", 128),
            required(text("Company", 255)),
            *_address(""),
            phone("Phone"),
            phone("MobilePhone"),
            email(),
            url("Website"),
            textarea("Description"),
            pick("LeadSource", SOURCES),
            required(pick("Status", lead_statuses, default=lead_statuses[0], restricted=True)),
            pick("Industry", INDUSTRIES),
            pick("Rating", RATINGS),
            number("AnnualRevenue", 18, 0, kind="currency"),
            integer("NumberOfEmployees", 8, label="Employees"),
            _owner("Group", "User"),
            ro(boolean("IsConverted", label="Converted")),
            ro(date("ConvertedDate")),
            ro(ref("ConvertedAccountId", "Account")),
            ro(ref("ConvertedContactId", "Contact")),
            ro(ref("ConvertedOpportunityId", "Opportunity")),
            boolean("IsUnreadByOwner", label="Unread By Owner"),
            boolean("HasOptedOutOfEmail"),
            boolean("DoNotCall"),
            ro(date("LastActivityDate")),
        ],
        "Opportunity": [
            ref("AccountId", "Account"),
            # Present when the org defines opportunity record types (pipelines).
            ref("RecordTypeId", "RecordType", label="Record Type ID"),
            required(text("Name", 120)),
            textarea("Description"),
            required(pick("StageName", stage_names, restricted=True, label="Stage")),
            number("Amount", 18, 2, kind="currency"),
            replace(
                number("Probability", 3, 0, kind="percent", label="Probability (%)"),
                defaulted_on_create=True,
            ),
            required(date("CloseDate")),
            pick(
                "Type",
                (
                    "Existing Customer - Upgrade",
                    "Existing Customer - Replacement",
                    "Existing Customer - Downgrade",
                    "New Customer",
                ),
            ),
            text("NextStep", 255),
            pick("LeadSource", SOURCES),
            ro(boolean("IsClosed", label="Closed")),
            ro(boolean("IsWon", label="Won")),
            required(
                replace(
                    pick(
                        "ForecastCategoryName",
                        ("Omitted", "Pipeline", "Best Case", "Commit", "Closed"),
                        label="Forecast Category",
                    ),
                    defaulted_on_create=True,
                )
            ),
            ref("ContactId", "Contact"),
            _owner(),
            ro(date("LastActivityDate")),
        ],
        "OpportunityStage": [
            ro(text("ApiName", 255)),
            ro(text("MasterLabel", 255)),
            ro(boolean("IsActive", default=True)),
            ro(integer("SortOrder")),
            ro(boolean("IsClosed")),
            ro(boolean("IsWon")),
            ro(pick("ForecastCategory", ("Omitted", "Pipeline", "BestCase", "Forecast", "Closed"))),
            ro(
                pick(
                    "ForecastCategoryName", ("Omitted", "Pipeline", "Best Case", "Commit", "Closed")
                )
            ),
            ro(number("DefaultProbability", 3, 0, kind="percent")),
            ro(text("Description", 255)),
        ],
        "LeadStatus": [
            ro(text("ApiName", 255)),
            ro(text("MasterLabel", 255)),
            ro(integer("SortOrder")),
            ro(boolean("IsDefault")),
            ro(boolean("IsConverted")),
        ],
        "OpportunityContactRole": [
            replace(required(ref("OpportunityId", "Opportunity")), updateable=False),
            required(ref("ContactId", "Contact")),
            pick("Role", OCR_ROLES),
            boolean("IsPrimary", label="Primary"),
        ],
        "User": [
            ro(text("Username", 80)),
            ro(text("LastName", 80)),
            ro(text("FirstName", 40)),
            ro(text("Name", 121, label="Full Name")),
            ro(text("Alias", 8)),
            ro(email()),
            ro(text("Title", 80)),
            ro(text("CompanyName", 80)),
            ro(boolean("IsActive", default=True, label="Active")),
            ro(ref("ProfileId", "Profile")),
            ro(pick("UserType", ("Standard", "PowerPartner", "CsnOnly"))),
            ro(text("TimeZoneSidKey", 40, label="Time Zone")),
        ],
        "Profile": [
            ro(text("Name", 255)),
            ro(pick("UserType", ("Standard", "PowerPartner", "CsnOnly"))),
            ro(boolean("PermissionsModifyAllData", label="Modify All Data")),
            ro(boolean("PermissionsViewAllData", label="View All Data")),
            ro(boolean("PermissionsApiEnabled", label="API Enabled")),
        ],
        "Group": [
            ro(text("Name", 40)),
            ro(text("DeveloperName", 80)),
            ro(pick("Type", ("Regular", "Role", "Queue", "Organization"))),
            ro(email()),
            ro(ref("OwnerId", "User")),
        ],
        "RecordType": [
            ro(text("Name", 80)),
            ro(text("DeveloperName", 80)),
            ro(pick("SobjectType", ("Account", "Contact", "Lead", "Opportunity", "Task", "Event"))),
            ro(boolean("IsActive", default=True)),
            ro(text("Description", 255)),
        ],
        "Task": [
            ref("WhoId", "Contact", "Lead", label="Name ID"),
            ref("WhatId", "Account", "Opportunity", label="Related To ID"),
            text("Subject", 255),
            date("ActivityDate", label="Due Date Only"),
            required(
                pick(
                    "Status",
                    (
                        "Not Started",
                        "In Progress",
                        "Completed",
                        "Waiting on someone else",
                        "Deferred",
                    ),
                    default="Not Started",
                )
            ),
            required(pick("Priority", ("High", "Normal", "Low"), default="Normal")),
            pick("Type", ("Call", "Email", "Meeting", "Other")),
            pick("TaskSubtype", ("Task", "Email", "Call")),
            textarea("Description", label="Comments"),
            integer("CallDurationInSeconds", 8, label="Call Duration"),
            _owner(),
            ro(boolean("IsClosed", label="Closed")),
        ],
        "Event": [
            ref("WhoId", "Contact", "Lead", label="Name ID"),
            ref("WhatId", "Account", "Opportunity", label="Related To ID"),
            text("Subject", 255),
            text("Location", 255),
            boolean("IsAllDayEvent", label="All-Day Event"),
            datetime("ActivityDateTime", label="Due Date Time"),
            date("ActivityDate", label="Due Date Only"),
            integer("DurationInMinutes", 8, label="Duration"),
            datetime("StartDateTime", label="Start Date Time"),
            datetime("EndDateTime", label="End Date Time"),
            pick("Type", ("Call", "Email", "Meeting", "Other")),
            textarea("Description"),
            _owner(),
        ],
        "Note": [
            required(
                ref("ParentId", "Account", "Contact", "Lead", "Opportunity", label="Parent ID")
            ),
            required(text("Title", 80)),
            boolean("IsPrivate", label="Private"),
            textarea("Body", 32000),
            _owner(),
        ],
    }


LABELS = {
    "OpportunityStage": ("Opportunity Stage", "Opportunity Stages"),
    "OpportunityContactRole": ("Opportunity Contact Role", "Opportunity Contact Role"),
    "RecordType": ("Record Type", "Record Types"),
    "LeadStatus": ("Lead Status Value", "Lead Status Values"),
    "Opportunity": ("Opportunity", "Opportunities"),
}
READ_ONLY_OBJECTS = frozenset(
    {"OpportunityStage", "LeadStatus", "User", "Profile", "Group", "RecordType"}
)


def standard_objects() -> dict[str, ObjectSchema]:
    """Fresh ObjectSchema instances (each org gets its own, since custom fields differ)."""
    out: dict[str, ObjectSchema] = {}
    for name, fields in _fields().items():
        label, plural = LABELS.get(name, (name, name + "s"))
        all_fields = system_fields() + fields
        writable = name not in READ_ONLY_OBJECTS
        out[name] = ObjectSchema(
            name=name,
            label=label,
            key_prefix=KEY_PREFIXES[name],
            fields={f.name: f for f in all_fields},
            label_plural=plural,
            createable=writable,
            updateable=writable,
            deletable=writable,
        )
    return out
