"""Members ↔ mirrored Salesforce users: auto-matching by email, manual choices that stick,
Slack ids, the selectors alerts and segments use, and Settings → Members."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from crm import member_links
from crm.factories import UserFactory as CrmUserFactory
from crm.models import MemberLink
from salesmonk.tenants.factories import MembershipFactory
from salesmonk.tenants.models import AuditEvent, Membership, Role

pytestmark = pytest.mark.django_db

PAGE = reverse("settings_members")


def link_of(membership: Membership) -> MemberLink | None:
    return MemberLink.objects.filter(membership=membership).select_related("user").first()


def test_auto_match_by_email_ignores_case_and_prefers_active_users(
    owner: Membership, outsider: Membership
) -> None:
    tenant = owner.tenant
    inactive = CrmUserFactory(tenant=tenant, email="OWNER@acme.example", is_active=False)
    active = CrmUserFactory(tenant=tenant, email="Owner@Acme.Example", is_active=True)
    CrmUserFactory(tenant=tenant, email="owner@acme.example", remote_was_deleted=True)
    # Same email in another tenant's mirror: never ours.
    CrmUserFactory(tenant=outsider.tenant, email="owner@acme.example")
    rep = MembershipFactory(tenant=tenant, user__email="rep@acme.example")
    lonely = MembershipFactory(tenant=tenant, user__email="nobody@acme.example")
    rep_user = CrmUserFactory(tenant=tenant, email="rep@acme.example", is_active=False)

    assert member_links.member_links_auto_match(tenant=tenant) == 2

    assert link_of(owner).user == active
    assert link_of(owner).is_manual is False
    assert link_of(rep).user == rep_user  # inactive, but the only one with that email
    assert link_of(lonely) is None
    assert inactive.member_links.count() == 0
    assert not MemberLink.objects.for_tenant(outsider.tenant).exists()
    # Nothing changed since: a second run writes nothing.
    assert member_links.member_links_auto_match(tenant=tenant) == 0


def test_auto_match_follows_email_changes_but_never_a_manual_choice(owner: Membership) -> None:
    tenant = owner.tenant
    first = CrmUserFactory(tenant=tenant, email="owner@acme.example")
    chosen = CrmUserFactory(tenant=tenant, email="someone@else.example")
    manual = MembershipFactory(tenant=tenant, user__email="manual@acme.example")
    CrmUserFactory(tenant=tenant, email="manual@acme.example")
    member_links.member_settings_update(
        tenant=tenant,
        acting_user=owner.user,
        membership=manual,
        automatic=False,
        crm_user=chosen,
        slack_user_id="",
    )
    member_links.member_links_auto_match(tenant=tenant)
    assert link_of(owner).user == first

    first.email = "moved@acme.example"
    first.save()
    assert member_links.member_links_auto_match(tenant=tenant) == 1
    assert link_of(owner).user is None
    successor = CrmUserFactory(tenant=tenant, email="owner@acme.example")
    assert member_links.member_links_auto_match(tenant=tenant) == 1
    assert link_of(owner).user == successor

    assert link_of(manual).user == chosen
    assert link_of(manual).is_manual is True


def test_manual_not_in_salesforce_sticks_and_automatic_hands_back(owner: Membership) -> None:
    tenant = owner.tenant
    me = CrmUserFactory(tenant=tenant, email="owner@acme.example")
    member_links.member_settings_update(
        tenant=tenant,
        acting_user=owner.user,
        membership=owner,
        automatic=False,
        crm_user=None,
        slack_user_id=" u0123abcd ",
    )
    member_links.member_links_auto_match(tenant=tenant)
    link = link_of(owner)
    assert (link.user, link.is_manual) == (None, True)
    owner.refresh_from_db()
    assert owner.slack_user_id == "U0123ABCD"
    event = AuditEvent.objects.for_tenant(tenant).get(action="member.salesforce_user_set")
    assert event.data == {
        "automatic": False,
        "crm_user_remote_id": None,
        "slack_user_id": "U0123ABCD",
    }

    member_links.member_settings_update(
        tenant=tenant,
        acting_user=owner.user,
        membership=owner,
        automatic=True,
        crm_user=None,
        slack_user_id="U0123ABCD",
    )
    link = link_of(owner)
    assert (link.user, link.is_manual) == (me, False)


@pytest.mark.parametrize("bad", ["C0123ABCD", "U12", "<script>", "U0123 ABCD"])
def test_slack_ids_are_validated(owner: Membership, bad: str) -> None:
    with pytest.raises(ValidationError, match="Slack member ID looks like"):
        member_links.member_settings_update(
            tenant=owner.tenant,
            acting_user=owner.user,
            membership=owner,
            automatic=True,
            crm_user=None,
            slack_user_id=bad,
        )
    assert member_links.slack_user_id_clean("W0123ABCDEF") == "W0123ABCDEF"


def test_users_of_another_tenant_or_inactive_cannot_be_chosen(
    owner: Membership, outsider: Membership
) -> None:
    theirs = CrmUserFactory(tenant=outsider.tenant)
    gone = CrmUserFactory(tenant=owner.tenant, is_active=False)
    for crm_user in (theirs, gone):
        with pytest.raises(ValidationError, match="active Salesforce user of this workspace"):
            member_links.member_settings_update(
                tenant=owner.tenant,
                acting_user=owner.user,
                membership=owner,
                automatic=False,
                crm_user=crm_user,
                slack_user_id="",
            )
    with pytest.raises(ValidationError, match="not in this workspace"):
        member_links.member_settings_update(
            tenant=owner.tenant,
            acting_user=owner.user,
            membership=outsider,
            automatic=True,
            crm_user=None,
            slack_user_id="",
        )
    assert not MemberLink.objects.exists()


def test_selectors_for_alerts_and_segments(
    owner: Membership, outsider: Membership, django_assert_num_queries
) -> None:
    tenant = owner.tenant
    mine = CrmUserFactory(tenant=tenant, email="owner@acme.example")
    rep_user = CrmUserFactory(tenant=tenant, email="rep@acme.example")
    nobody = CrmUserFactory(tenant=tenant, email="unknown@acme.example")
    rep = MembershipFactory(tenant=tenant, user__email="rep@acme.example")
    # A second member chose the rep's user by hand: the manual choice wins the lookup.
    boss = MembershipFactory(tenant=tenant, user__email="boss@acme.example")
    member_links.member_settings_update(
        tenant=tenant,
        acting_user=owner.user,
        membership=boss,
        automatic=False,
        crm_user=rep_user,
        slack_user_id="",
    )
    theirs = CrmUserFactory(tenant=outsider.tenant, email="owner@globex.example")
    member_links.member_links_auto_match(tenant=tenant)
    member_links.member_links_auto_match(tenant=outsider.tenant)

    with django_assert_num_queries(1):
        found = member_links.member_for_crm_users(
            tenant=tenant, user_ids=[mine.pk, rep_user.pk, nobody.pk, theirs.pk]
        )
        assert found[mine.pk].user.email == "owner@acme.example"
    assert found == {mine.pk: owner, rep_user.pk: boss}
    assert member_links.member_for_crm_users(tenant=tenant, user_ids=[]) == {}
    # For Slack mentions only members with a Slack id count: the rep, not the manual boss.
    Membership.objects.filter(pk=rep.pk).update(slack_user_id="U0REP001")
    with_slack = member_links.member_for_crm_users(
        tenant=tenant, user_ids=[mine.pk, rep_user.pk, theirs.pk], with_slack_id=True
    )
    assert with_slack == {rep_user.pk: rep}
    assert with_slack[rep_user.pk].slack_user_id == "U0REP001"

    assert member_links.crm_user_ids_for_member(tenant=tenant, membership=owner) == [mine.pk]
    assert member_links.crm_user_ids_for_member(tenant=tenant, membership=rep) == [rep_user.pk]
    assert member_links.crm_user_ids_for_member(tenant=tenant, membership=outsider) == []
    assert member_links.crm_user_ids_for_member(tenant=outsider.tenant, membership=outsider) == [
        theirs.pk
    ]


def test_members_page_matches_lists_and_counts_queries(
    owner: Membership, owner_client: Client, outsider: Membership, django_assert_num_queries
) -> None:
    tenant = owner.tenant
    CrmUserFactory(tenant=tenant, email="owner@acme.example", name="Olive <script>Owner")
    for i in range(5):
        MembershipFactory(tenant=tenant, user__email=f"m{i}@acme.example")
        CrmUserFactory(tenant=tenant, email=f"m{i}@acme.example", name=f"Member {i}")
    CrmUserFactory(tenant=outsider.tenant, email="owner@globex.example", name="Globex Person")

    # First visit: unmatched members, so the page matches them (check, members, users,
    # insert) before listing.
    response = owner_client.get(PAGE)
    assert response.status_code == 200
    assert MemberLink.objects.for_tenant(tenant).filter(user__isnull=False).count() == 6

    # Everyone matched: session, user, membership, the check, the list, the choices.
    with django_assert_num_queries(6):
        response = owner_client.get(PAGE)
    body = response.content.decode()
    assert body.count("matched by email") == 6
    assert "Olive &lt;script&gt;Owner" in body
    assert "<script>Owner" not in body
    assert "Globex Person" not in body
    assert 'form="member-form-' in body

    # Ten more members cost no more queries.
    for i in range(10):
        MembershipFactory(tenant=tenant, user__email=f"x{i}@acme.example")
        CrmUserFactory(tenant=tenant, email=f"x{i}@acme.example")
    owner_client.get(PAGE)
    with django_assert_num_queries(6):
        owner_client.get(PAGE)


def test_owner_saves_a_manual_choice_and_a_slack_id(
    owner: Membership, owner_client: Client
) -> None:
    tenant = owner.tenant
    rep = MembershipFactory(tenant=tenant, user__email="rep@acme.example")
    chosen = CrmUserFactory(tenant=tenant, email="other@acme.example", name="Other Person")
    prefix = f"m-{rep.pk}"
    response = owner_client.post(
        reverse("settings_member_update", args=[rep.pk]),
        {f"{prefix}-salesforce_user": str(chosen.pk), f"{prefix}-slack_user_id": "U777AAAA"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["Saved rep@acme.example."]
    link = link_of(rep)
    assert (link.user, link.is_manual) == (chosen, True)
    rep.refresh_from_db()
    assert rep.slack_user_id == "U777AAAA"
    assert "Other Person · chosen by hand" in response.content.decode()


def test_bad_slack_id_is_shown_on_the_row(owner: Membership, owner_client: Client) -> None:
    prefix = f"m-{owner.pk}"
    response = owner_client.post(
        reverse("settings_member_update", args=[owner.pk]),
        {f"{prefix}-salesforce_user": "auto", f"{prefix}-slack_user_id": "#general"},
    )
    assert response.status_code == 400
    assert b'data-testid="slack-error"' in response.content
    assert b"A Slack member ID looks like U0123ABCD" in response.content
    owner.refresh_from_db()
    assert owner.slack_user_id == ""


def test_an_unknown_salesforce_user_is_a_form_error(
    owner: Membership, owner_client: Client, outsider: Membership
) -> None:
    theirs = CrmUserFactory(tenant=outsider.tenant)
    prefix = f"m-{owner.pk}"
    response = owner_client.post(
        reverse("settings_member_update", args=[owner.pk]),
        {f"{prefix}-salesforce_user": str(theirs.pk), f"{prefix}-slack_user_id": ""},
    )
    assert response.status_code == 400
    assert b"Select a valid choice." in response.content
    assert not MemberLink.objects.exists()


def test_members_read_the_mapping_but_cannot_change_it(owner: Membership) -> None:
    member = MembershipFactory(tenant=owner.tenant, role=Role.MEMBER, slack_user_id="U0000AAAA")
    client = Client()
    client.force_login(member.user)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert b"<code>U0000AAAA</code>" in page.content
    assert b"<select" not in page.content
    response = client.post(
        reverse("settings_member_update", args=[owner.pk]),
        {f"m-{owner.pk}-salesforce_user": "none", f"m-{owner.pk}-slack_user_id": ""},
    )
    assert response.status_code == 403
    assert not MemberLink.objects.filter(is_manual=True).exists()


def test_outsider_sees_only_its_own_members(
    owner: Membership, outsider_client: Client, outsider: Membership
) -> None:
    body = outsider_client.get(PAGE).content.decode()
    assert "owner@globex.example" in body
    assert "owner@acme.example" not in body
