from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from salesmonk.tenants.factories import MembershipFactory
from salesmonk.tenants.models import AuditEvent, Membership, Role

pytestmark = pytest.mark.django_db


def test_team_lists_only_own_members(
    owner_client: Client, owner: Membership, outsider: Membership
) -> None:
    colleague = MembershipFactory(tenant=owner.tenant, user__email="rep@acme.example")
    response = owner_client.get(reverse("team"))
    assert [m.user.email for m in response.context["memberships"]] == [
        "owner@acme.example",
        colleague.user.email,
    ]
    assert b"owner@globex.example" not in response.content


def test_owner_changes_role_with_audit(owner_client: Client, owner: Membership) -> None:
    rep = MembershipFactory(tenant=owner.tenant, user__email="rep@acme.example")
    url = reverse("member_detail", kwargs={"membership_id": rep.pk})

    response = owner_client.post(url, {"role": "admin"})

    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.role == Role.ADMIN
    event = AuditEvent.objects.for_tenant(owner.tenant).get(action="membership.role_changed")
    assert (event.actor, event.target, event.data) == (
        owner.user,
        "rep@acme.example",
        {"from": "member", "to": "admin"},
    )


def test_member_cannot_change_roles(owner: Membership) -> None:
    rep = MembershipFactory(tenant=owner.tenant)
    client = Client()
    client.force_login(rep.user)
    url = reverse("member_detail", kwargs={"membership_id": owner.pk})

    assert client.post(url, {"role": "member"}).status_code == 403
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_admin_cannot_grant_ownership(owner: Membership) -> None:
    admin = MembershipFactory(tenant=owner.tenant, role=Role.ADMIN)
    rep = MembershipFactory(tenant=owner.tenant)
    client = Client()
    client.force_login(admin.user)

    response = client.post(
        reverse("member_detail", kwargs={"membership_id": rep.pk}), {"role": "owner"}, follow=True
    )

    assert "Only an owner can grant or remove the owner role." in response.content.decode()
    rep.refresh_from_db()
    assert rep.role == Role.MEMBER


def test_last_owner_cannot_step_down(owner_client: Client, owner: Membership) -> None:
    url = reverse("member_detail", kwargs={"membership_id": owner.pk})
    response = owner_client.post(url, {"role": "member"}, follow=True)
    assert "A workspace needs at least one owner." in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    assert not AuditEvent.objects.filter(action="membership.role_changed").exists()


def test_switching_workspace(owner: Membership, outsider: Membership) -> None:
    second = MembershipFactory(tenant=outsider.tenant, user=owner.user, role=Role.MEMBER)
    client = Client()
    client.force_login(owner.user)
    assert client.get(reverse("dashboard")).context["current_tenant"] == owner.tenant

    client.post(reverse("switch_tenant"), {"tenant_id": str(second.tenant_id)})
    assert client.get(reverse("dashboard")).context["current_tenant"] == outsider.tenant


def test_cannot_switch_into_a_foreign_workspace(owner_client: Client, outsider: Membership) -> None:
    response = owner_client.post(
        reverse("switch_tenant"), {"tenant_id": str(outsider.tenant_id)}, follow=True
    )
    assert "You are not a member of that workspace." in response.content.decode()
    assert response.context["current_tenant"].name == "Acme Inc"
