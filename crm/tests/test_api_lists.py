"""Lists of the unified API: cursor paging that stays stable while the mirror changes,
filters, expand without N+1 queries, JSON errors for bad input, and the per-key rate limit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings

from crm.factories import (
    AccountFactory,
    ContactFactory,
    EngagementFactory,
    LeadFactory,
    UserFactory,
)
from crm.models import Contact, EngagementContact
from salesmonk.tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _contacts(tenant: Tenant, n: int, *, start: dt.datetime = T0) -> list[Contact]:
    """`n` contacts created a second apart (so created_at orders them)."""
    made = []
    for i in range(n):
        with time_machine.travel(start + dt.timedelta(seconds=i), tick=False):
            made.append(ContactFactory(tenant=tenant))
    return made


def _ids(body: dict[str, Any]) -> list[str]:
    return [row["id"] for row in body["results"]]


def _page(client: Client, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json()


def test_pages_walk_forward_and_back(tenant: Tenant, api_client: Client) -> None:
    made = [str(c.pk) for c in _contacts(tenant, 5)]

    first = _page(api_client, "/api/crm/v1/contacts?page_size=2")
    second = _page(api_client, f"/api/crm/v1/contacts?page_size=2&cursor={first['next']}")
    third = _page(api_client, f"/api/crm/v1/contacts?page_size=2&cursor={second['next']}")
    back = _page(api_client, f"/api/crm/v1/contacts?page_size=2&cursor={third['previous']}")
    back_again = _page(api_client, f"/api/crm/v1/contacts?page_size=2&cursor={back['previous']}")

    assert (_ids(first), _ids(second), _ids(third)) == (made[0:2], made[2:4], made[4:5])
    assert first["previous"] is None
    assert third["next"] is None
    assert _ids(back) == made[2:4]
    assert _ids(back_again) == made[0:2]
    assert back_again["previous"] is None
    assert _ids(_page(api_client, f"/api/crm/v1/contacts?cursor={back_again['next']}")) == made[2:]


def test_paging_is_stable_while_records_change(tenant: Tenant, api_client: Client) -> None:
    """Between pages, records already seen and not yet seen are updated (the sync rewrites
    them), one is marked deleted, and new ones are created: every record that existed when
    paging began is seen exactly once, except the one deleted before its page; the new ones
    come last."""
    made = _contacts(tenant, 9)
    seen: list[str] = []
    cursor = ""
    for step in range(10):
        body = _page(api_client, f"/api/crm/v1/contacts?page_size=2{cursor}")
        seen += _ids(body)
        if step == 0:
            Contact.objects.filter(pk__in=[made[0].pk, made[5].pk]).update(first_name="Changed")
            Contact.objects.filter(pk=made[6].pk).update(remote_was_deleted=True)
            newcomers = _contacts(tenant, 2, start=T0 + dt.timedelta(hours=1))
        if step == 1:
            newcomers += _contacts(tenant, 1, start=T0 - dt.timedelta(hours=1))
        if body["next"] is None:
            break
        cursor = f"&cursor={body['next']}"

    expected = [str(c.pk) for c in made if c.pk != made[6].pk] + [str(c.pk) for c in newcomers[:2]]
    assert seen == expected
    assert len(seen) == len(set(seen))


def test_filters(tenant: Tenant, api_client: Client) -> None:
    old, middle, new = _contacts(tenant, 3)
    Contact.objects.filter(pk=old.pk).update(modified_at=T0 + dt.timedelta(days=2))
    deleted = _contacts(tenant, 1, start=T0 + dt.timedelta(minutes=5))[0]
    Contact.objects.filter(pk=deleted.pk).update(remote_was_deleted=True)

    def ids(query: str) -> list[str]:
        return _ids(_page(api_client, f"/api/crm/v1/contacts?{query}"))

    assert ids("modified_after=2026-03-02T00:00:00Z") == [str(old.pk)]
    assert ids("modified_before=2026-03-02T00:00:00%2B00:00") == [str(middle.pk), str(new.pk)]
    assert ids("created_after=2026-03-01T12:00:00.5Z") == [str(middle.pk), str(new.pk)]
    assert ids("created_after=2026-03-01T13:00:00.5%2B01:00") == [str(middle.pk), str(new.pk)]
    assert ids(f"remote_id={middle.remote_id}") == [str(middle.pk)]
    assert ids("include_deleted_data=true")[-1] == str(deleted.pk)
    assert str(deleted.pk) not in ids("")


RFC3339 = "Value error, use an RFC 3339 date-time with an offset, e.g. 2026-01-31T00:00:00Z"
BAD_INPUT = {
    "cursor=abc": (
        "invalid_cursor",
        "The cursor is not valid; pass `next` or `previous` as given.",
    ),
    "page_size=0": ("invalid_parameter", "page_size: Input should be greater than or equal to 1"),
    "page_size=101": ("invalid_parameter", "page_size: Input should be less than or equal to 100"),
    "page_size=ten": (
        "invalid_parameter",
        "page_size: Input should be a valid integer, unable to parse string as an integer",
    ),
    "modified_after=yesterday": ("invalid_parameter", f"modified_after: {RFC3339}"),
    "modified_after=1700000000": ("invalid_parameter", f"modified_after: {RFC3339}"),
    "modified_before=2026-03-01": ("invalid_parameter", f"modified_before: {RFC3339}"),
    "created_after=2026-03-01T12:00:00": ("invalid_parameter", f"created_after: {RFC3339}"),
    "modifed_after=2026-03-01T12:00:00Z": (
        "unknown_parameter",
        "Unknown query parameter 'modifed_after'; this endpoint takes cursor, page_size, "
        "created_after, modified_after, modified_before, remote_id, include_deleted_data, "
        "include_remote_data, expand.",
    ),
    "created_after=0001-01-01T00:00:00%2B01:00": (
        "invalid_parameter",
        "created_after: not a date-time we can compare with.",
    ),
    "expand=account,boss": (
        "invalid_expand",
        "expand: cannot expand 'boss'; contacts can expand account, owner.",
    ),
    "include_deleted_data=perhaps": (
        "invalid_parameter",
        "include_deleted_data: Input should be a valid boolean, unable to interpret input",
    ),
    "remote_id=%00": (
        "invalid_parameter",
        "remote_id: String should match pattern '^[A-Za-z0-9_-]+$'",
    ),
}


@pytest.mark.parametrize("query", BAD_INPUT)
def test_bad_input_is_a_400_with_a_message(api_client: Client, query: str) -> None:
    code, detail = BAD_INPUT[query]

    response = api_client.get(f"/api/crm/v1/contacts?{query}")

    assert response.status_code == 400
    assert response.json() == {"code": code, "detail": detail}


def test_a_cursor_of_another_object_is_refused(tenant: Tenant, api_client: Client) -> None:
    _contacts(tenant, 2)
    cursor = _page(api_client, "/api/crm/v1/contacts?page_size=1")["next"]

    response = api_client.get(f"/api/crm/v1/leads?cursor={cursor}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_objects_without_links_refuse_expand(api_client: Client) -> None:
    response = api_client.get("/api/crm/v1/stages?expand=owner")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_expand",
        "detail": "expand: cannot expand 'owner'; stages can expand nothing.",
    }


def test_a_bad_id_is_a_400_and_an_unknown_one_a_404(api_client: Client) -> None:
    bad = api_client.get("/api/crm/v1/contacts/not-a-uuid")
    unknown = api_client.get("/api/crm/v1/contacts/00000000-0000-4000-8000-000000000000")

    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_parameter"
    assert unknown.status_code == 404
    assert unknown.json() == {"code": "not_found", "detail": "No such record."}


def test_expand_returns_whole_objects(tenant: Tenant, api_client: Client) -> None:
    contact = ContactFactory(tenant=tenant)

    row = _page(api_client, "/api/crm/v1/contacts?expand=account,owner")["results"][0]
    flat = _page(api_client, "/api/crm/v1/contacts")["results"][0]

    assert row["account"]["id"] == str(contact.account_id)
    assert row["account"]["owner"] == str(contact.account.owner_id)  # one level only
    assert row["owner"]["email"] == contact.owner.email
    assert (flat["account"], flat["owner"]) == (str(contact.account_id), str(contact.owner_id))


def _grow(tenant: Tenant, n: int) -> None:
    owner = UserFactory(tenant=tenant)
    for _ in range(n):
        account = AccountFactory(tenant=tenant, owner=owner)
        ContactFactory(tenant=tenant, account=account, owner=owner)
        lead = LeadFactory(tenant=tenant, owner=owner)
        lead.converted_contact = ContactFactory(tenant=tenant, account=account, owner=owner)
        lead.save()
        engagement = EngagementFactory(tenant=tenant, account=account, owner=owner)
        for contact in Contact.objects.for_tenant(tenant).filter(account=account):
            EngagementContact.objects.create(
                tenant=tenant,
                engagement=engagement,
                contact=contact,
                contact_remote_id=contact.remote_id,
            )


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("contacts", 2),
        ("contacts?expand=account,owner&include_remote_data=true", 2),
        ("leads?expand=owner,converted_contact,converted_account", 2),
        ("engagements", 3),
        ("engagements?expand=owner,engagement_type,account,contacts", 3),
        ("accounts?expand=owner", 2),
    ],
)
def test_a_list_costs_the_same_queries_at_any_size(
    tenant: Tenant,
    outsider: Membership,
    api_client: Client,
    django_assert_num_queries: Any,
    path: str,
    queries: int,
) -> None:
    """The key (1), the page with its expanded links (1), engagement contacts (1)."""
    _grow(outsider.tenant, 2)
    api_client.get("/api/crm/v1/users")  # first use writes last_used_at
    for size in (1, 8):
        _grow(tenant, size)
        with django_assert_num_queries(queries):
            response = api_client.get(f"/api/crm/v1/{path}")
        assert response.status_code == 200


@override_settings(CRM_API_RATE_LIMIT=3, CRM_API_RATE_WINDOW_SECONDS=60)
def test_each_key_is_rate_limited(api_client: Client, outsider_api_client: Client) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, 15, tzinfo=dt.UTC), tick=False):
        statuses = [api_client.get("/api/crm/v1/users").status_code for _ in range(4)]
        limited = api_client.get("/api/crm/v1/users")
        other_key = outsider_api_client.get("/api/crm/v1/users")
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 1, 0, tzinfo=dt.UTC), tick=False):
        next_window = api_client.get("/api/crm/v1/users")

    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert limited["Retry-After"] == "45"
    assert limited.json() == {
        "code": "rate_limited",
        "detail": "This key made more than 3 requests in 60 s; retry in 45 s.",
    }
    assert other_key.status_code == 200
    assert next_window.status_code == 200
