"""The mirrored CRM records, in the unified (Merge-style) model."""

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
from crm.models.people import Account, Contact, Lead, User
from crm.models.policy import WritePolicy

__all__ = [
    "Account",
    "ActivityType",
    "ApiKey",
    "Contact",
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
    "User",
    "WritePolicy",
]
