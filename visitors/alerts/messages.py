"""The Slack message of an alert: who is on the site, from which company, what they read,
and whose they are (the owner chain of `crm.owners`, saying which rule chose the owner) —
as `blocks` plus a plain `text` fallback (notifications, old clients).

Every value that comes from a visitor, a page or the CRM goes through `slack.escape` (after
being shortened, so an entity is never cut in half): a name like `<!channel>` stays text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from crm.models import CrmUser
from integrations.slack.client import escape
from visitors.models import AlertKind, AlertRule, Visitor
from visitors.tracking.selectors import VisitorInCrm

ANONYMOUS = "Anonymous visitor"
# Slack member ids (`U…`, `W…` on Enterprise Grid); anything else is not put in a mention.
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")


@dataclass(frozen=True)
class AlertMessage:
    text: str
    blocks: list[dict[str, Any]]


def _short(value: str, limit: int) -> str:
    value = " ".join((value or "").split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _e(value: str, limit: int = 150) -> str:
    return escape(_short(value, limit))


def _link(url: str, label: str) -> str:
    return f"<{escape(url)}|{label}>"


def visitor_url(visitor: Visitor) -> str:
    return f"{settings.SALESMONK_BASE_URL}/contact/details/{visitor.pk}"


def company_url(company_id: object) -> str:
    return f"{settings.SALESMONK_BASE_URL}/accounts/{company_id}"


def person_label(visitor: Visitor) -> str:
    name = f"{visitor.first_name} {visitor.last_name}".strip()
    return name or visitor.email or ANONYMOUS


def owner_mention(owner: CrmUser | None, slack_user_id: str | None) -> str:
    """`<@U…>` when the owner is a member with a Slack id, else their name in bold."""
    if owner is None:
        return ""
    if slack_user_id and SLACK_USER_ID.match(slack_user_id):
        return f"<@{slack_user_id}>"
    return f"*{_e(str(owner), 100)}*"


def owner_line(mention: str, in_crm: VisitorInCrm | None) -> str:
    """The mention and which link of the owner chain chose the owner: "Jo Closer — account
    owner" (the label is ours, so it needs no escaping; the mention is escaped already)."""
    rule = in_crm.owner_rule if in_crm else None
    return f"{mention} — {rule.label}" if rule else mention


def alert_message(
    *,
    rule: AlertRule,
    visitor: Visitor,
    in_crm: VisitorInCrm | None,
    pages: list[dict[str, str]],
    owner_slack_id: str | None,
) -> AlertMessage:
    person = _e(person_label(visitor), 100)
    person_link = _link(visitor_url(visitor), person)
    company = visitor.company
    account = in_crm.account if in_crm else None
    if company is not None:
        company_name = company.name or company.domain
    else:
        company_name = account.name if account is not None else ""
    company_text = _e(company_name, 100) if company_name else ""
    company_link = _link(company_url(company.pk), company_text) if company else company_text
    mention = owner_mention(in_crm.owner if in_crm else None, owner_slack_id)

    arrival = f"*{person_link}*" + (f" from *{company_link}*" if company_text else "")
    if rule.kind == AlertKind.OWNED_ACCOUNT:
        headline = f"{mention}: {arrival} is on the website."
    else:
        segment = _e(rule.segment.name if rule.segment else "", 100)
        headline = f"{arrival} is on the website (segment *{segment}*)."
        if mention:
            headline += f" Owner: {mention}"

    fields = [_person_field(visitor, person_link), _company_field(visitor, account, company_link)]
    if mention:
        fields.append({"type": "mrkdwn", "text": f"*Owner*\n{owner_line(mention, in_crm)}"})
    utm = " · ".join(_e(v, 100) for v in (visitor.utm_source, visitor.utm_campaign) if v)
    if utm:
        fields.append({"type": "mrkdwn", "text": f"*Source · campaign*\n{utm}"})

    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "section", "fields": fields},
    ]
    if pages:
        lines = [_page_line(p) for p in pages]
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Pages this visit*\n" + "\n".join(lines)},
            }
        )
    links = [_link(visitor_url(visitor), "Visitor in SalesMonk")]
    if company:
        links.append(_link(company_url(company.pk), "Company in SalesMonk"))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"Alert: {_e(rule.name, 100)} · " + " · ".join(links)}
            ],
        }
    )

    plain_arrival = person + (f" from {company_text}" if company_text else "")
    text = f"{plain_arrival} is on the website"
    if mention:
        text = f"{mention}: {text}"
    return AlertMessage(text=text, blocks=blocks)


def _person_field(visitor: Visitor, person_link: str) -> dict[str, str]:
    lines = ["*Person*", person_link]
    name = f"{visitor.first_name} {visitor.last_name}".strip()
    if visitor.email and name:
        lines.append(_e(visitor.email, 254))
    return {"type": "mrkdwn", "text": "\n".join(lines)}


def _company_field(visitor: Visitor, account: Any, company_link: str) -> dict[str, str]:
    lines = ["*Company*", company_link or "Unknown"]
    if visitor.company and visitor.company.name:
        lines.append(_e(visitor.company.domain, 100))
    if visitor.company and account is not None and account.name:
        lines.append(f"Salesforce account: {_e(account.name, 100)}")
    return {"type": "mrkdwn", "text": "\n".join(lines)}


def _page_line(page: dict[str, str]) -> str:
    path = _e(page["path"], 120)
    title = page["title"]
    return f"• {_e(title, 80)} — {path}" if title else f"• {path}"


def webhook_test_message(*, webhook_name: str) -> AlertMessage:
    """What "Send test message" posts."""
    text = f"SalesMonk alerts will be posted here ({_e(webhook_name, 80)})."
    return AlertMessage(
        text=text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"✅ {text}"}}]
    )
