"""The mirrored CRM records, in the unified (Merge-style) model.

The mirrored Salesforce user is `CrmUser` wherever it is imported: `User` alone reads as the
person who logs in (`salesmonk.tenants.models.User`), and code that needs both was aliasing
it. The model class keeps its name `User` (model `crm.User`), so its table, content type,
permissions, admin URLs and the migrations that point at it stay as they are.
"""

from crm.models.activities import (
    ActivityType,
    Direction,
    Engagement,
    EngagementContact,
    EngagementType,
    Note,
    Task,
    TaskStatus,
)
from crm.models.api_keys import ApiKey
from crm.models.base import MirrorModel
from crm.models.deals import Opportunity, OpportunityStatus, Stage
from crm.models.members import MemberLink
from crm.models.people import Account, Contact, Lead
from crm.models.people import User as CrmUser
from crm.models.policy import WritePolicy

__all__ = [
    "Account",
    "ActivityType",
    "ApiKey",
    "Contact",
    "CrmUser",
    "Direction",
    "Engagement",
    "EngagementContact",
    "EngagementType",
    "Lead",
    "MemberLink",
    "MirrorModel",
    "Note",
    "Opportunity",
    "OpportunityStatus",
    "Stage",
    "Task",
    "TaskStatus",
    "WritePolicy",
]
