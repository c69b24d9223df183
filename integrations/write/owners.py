"""Who owns what SalesMonk creates, and whom an alert goes to: the account owner, else the
contact owner, else the lead owner, else the fallback (the installer, or the tenant's
default lead owner). One function decides, and says which rule did."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

USER_PREFIX = "005"  # Queues (00G) can own leads but never what we create or alert.


@dataclass(frozen=True)
class OwnerDecision:
    owner_id: str
    rule: str  # account_owner, contact_owner, lead_owner, default_lead_owner, installer


def owner_resolve(
    *,
    account_owner_id: str | None = None,
    contact_owner_id: str | None = None,
    lead_owner_id: str | None = None,
    installer_id: str,
    default_owner_id: str | None = None,
    inactive_ids: Container[str] = (),
    fallback_owner_id: str | None = None,
) -> OwnerDecision:
    """The first usable owner in rule order. Queues and inactive users are passed over, so a
    record is never assigned to someone who cannot work it: an inactive installer falls
    back to `fallback_owner_id` (the tenant's default lead owner, for what is owned by the
    installer first), and with no one usable left the owner is left to Salesforce (the
    connected user), rule `connected_user`, owner id blank."""
    for rule, candidate in (
        ("account_owner", account_owner_id),
        ("contact_owner", contact_owner_id),
        ("lead_owner", lead_owner_id),
        ("default_lead_owner", default_owner_id),
        ("installer", installer_id),
        ("default_lead_owner", fallback_owner_id),
    ):
        if candidate and candidate.startswith(USER_PREFIX) and candidate not in inactive_ids:
            return OwnerDecision(candidate, rule)
    return OwnerDecision("", "connected_user")
