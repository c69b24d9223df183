"""Companies (explicit, email domain, IP) and who a visitor is in the CRM mirror."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from crm.factories import AccountFactory, ContactFactory, LeadFactory, OpportunityFactory
from crm.models import OpportunityStatus
from salesmonk.tenants.models import Membership, Tenant
from visitors.models import Company, IpRange, Visitor
from visitors.tests.conftest import Send, page
from visitors.tracking.freemail import company_domain_for_email, is_personal_email_domain
from visitors.tracking.resolvers import IpRangeTableResolver, get_ip_resolver
from visitors.tracking.selectors import visitor_list, visitors_in_crm
from visitors.tracking.services import ip_ranges_load

pytestmark = pytest.mark.django_db


def identify(send: Send, anonymous_id: str = "device-one", **traits: Any) -> Visitor:
    response = send({"type": "identify", **traits}, anonymous_id=anonymous_id)
    assert response.status_code == 202, response.content
    return Visitor.objects.get(devices__anonymous_id=anonymous_id)


@pytest.mark.parametrize(
    ("given", "domain"),
    [
        ("https://www.initech.com/about?x=1", "initech.com"),
        ("http://initech.com:8080", "initech.com"),
        ("WWW.Initech.COM/", "initech.com"),
        ("shop.initech.co.uk", "initech.co.uk"),
        ("https://shop.example.co.uk/path", "example.co.uk"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("https://BÜCHER.de/kaufen", "xn--bcher-kva.de"),
        ("acme.github.io", "acme.github.io"),
    ],
)
def test_explicit_company_domain_is_normalized(send: Send, given: str, domain: str) -> None:
    visitor = identify(send, email="ann@gmail.com", company_domain=given, company="Initech")
    assert visitor.company.domain == domain
    assert visitor.company_source == Company.Source.EXPLICIT


@pytest.mark.parametrize("junk", ["localhost", "192.168.1.10", "co.uk", "not a domain", ""])
def test_company_domain_that_names_no_company_is_ignored(send: Send, junk: str) -> None:
    visitor = identify(send, email="ann@gmail.com", company_domain=junk)
    assert visitor.company is None


@pytest.mark.parametrize(
    "email",
    ["ann@gmail.com", "ann@yahoo.co.uk", "ann@proton.me", "ann@mailinator.com", "a@GMX.de"],
)
def test_free_mail_and_disposable_domains_are_ignored(send: Send, email: str) -> None:
    assert is_personal_email_domain(email)
    visitor = identify(send, email=email)
    assert visitor.company is None
    assert visitor.email == email.lower()
    assert not Company.objects.exists()


def test_work_email_gives_the_company(send: Send) -> None:
    assert company_domain_for_email("bob@eu.initech.co.uk") == "initech.co.uk"
    visitor = identify(send, email="Bob@EU.Initech.co.uk", first_name="Bob", phone="415 555 0142")
    assert visitor.company.domain == "initech.co.uk"
    assert visitor.company_source == Company.Source.EMAIL
    assert (visitor.first_name, visitor.phone) == ("Bob", "+14155550142")


def test_explicit_company_is_not_overridden_by_a_later_email(send: Send) -> None:
    identify(send, email="bob@gmail.com", company="initrode.com")
    visitor = identify(send, email="bob@initech.com")
    assert visitor.company.domain == "initrode.com"
    assert Company.objects.count() == 1


def write_csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "ranges.csv"
    path.write_text(text)
    return str(path)


def test_ip_ranges_load_and_resolve(send: Send, tmp_path: Path, tenant: Tenant) -> None:
    csv_path = write_csv(
        tmp_path,
        "network,domain,name\n198.51.100.0/24,https://www.initech.com,Initech\n"
        "2001:db8::/32,globex.com,Globex\n",
    )
    out = StringIO()
    call_command("load_ip_ranges", csv_path, stdout=out)
    assert out.getvalue() == "Loaded 2 IP ranges.\n"
    assert IpRange.objects.count() == 2
    resolver = IpRangeTableResolver()
    assert resolver.resolve("198.51.100.255") == ("initech.com", "Initech")
    assert resolver.resolve("198.51.101.0") is None
    assert resolver.resolve("2001:db8::1").domain == "globex.com"
    assert resolver.resolve("garbage") is None

    send(page())  # the test client's address is 198.51.100.7
    visitor = Visitor.objects.get()
    assert visitor.company.domain == "initech.com"
    assert visitor.company_source == Company.Source.IP
    # An email domain is better evidence than the network the visitor is on.
    assert identify(send, email="ann@globex.com").company.domain == "globex.com"


def test_ip_answers_are_kept_until_ranges_are_loaded(
    db: None, django_assert_num_queries, django_capture_on_commit_callbacks
) -> None:
    """Devices behind one address ask once; loading ranges forgets the answers, so a new
    range applies at once in the loading process."""
    resolver = get_ip_resolver()
    with django_assert_num_queries(1):
        assert resolver.resolve("203.0.113.9") is None
        assert resolver.resolve("203.0.113.9") is None
    with django_capture_on_commit_callbacks(execute=True):
        ip_ranges_load(source=StringIO("network,domain,name\n203.0.113.0/24,initech.com,Initech\n"))
    with django_assert_num_queries(1):
        assert resolver.resolve("203.0.113.9") == ("initech.com", "Initech")
        assert resolver.resolve("203.0.113.9") == ("initech.com", "Initech")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("network,domain\n10.0.0.0/8,a.com\n10.1.0.0/16,b.com\n", "b.com overlaps a.com"),
        ("network,domain\nnope,a.com\n", "line 2"),
        ("start,end,domain\n10.0.0.9,10.0.0.1,a.com\n", "line 2"),
        ("network,domain\n10.0.0.0/8,localhost\n", "line 2"),
    ],
)
def test_ip_ranges_load_refuses_bad_files_whole(tmp_path: Path, text: str, error: str) -> None:
    IpRange.objects.create(start=b"\0" * 16, end=b"\0" * 16, domain="kept.com")
    with pytest.raises(CommandError, match=error):
        call_command("load_ip_ranges", write_csv(tmp_path, text))
    assert list(IpRange.objects.values_list("domain", flat=True)) == ["kept.com"]


def test_contact_is_matched_before_lead(send: Send, tenant: Tenant) -> None:
    account = AccountFactory(tenant=tenant, domain="initech.com", website="initech.com")
    contact = ContactFactory(tenant=tenant, email="ann@initech.com", account=account)
    LeadFactory(tenant=tenant, email="ann@initech.com")
    open_deal = OpportunityFactory(tenant=tenant, account=account)
    OpportunityFactory(tenant=tenant, account=account, status=OpportunityStatus.WON)
    visitor = identify(send, email="ann@initech.com")
    found = visitors_in_crm(tenant=tenant, visitors=[visitor])[visitor.pk]
    assert found.contact == contact
    assert found.lead is None
    assert found.account == account
    assert found.owner == account.owner  # the account owner comes first
    assert found.open_opportunities == [open_deal]


def test_lead_by_email_then_phone_and_account_by_company_domain(send: Send, tenant: Tenant) -> None:
    lead = LeadFactory(tenant=tenant, email="bo@prospect.com")
    by_phone = LeadFactory(tenant=tenant, email="", phone="+14155550199")
    account = AccountFactory(tenant=tenant, domain="prospect.com")
    v1 = identify(send, "device-0001", email="bo@prospect.com")
    v2 = identify(send, "device-0002", email="cy@gmail.com", phone="(415) 555-0199")
    v3 = identify(send, "device-0003", email="di@nowhere.com")
    found = visitors_in_crm(tenant=tenant, visitors=[v1, v2, v3])
    assert (found[v1.pk].lead, found[v1.pk].account) == (lead, account)
    assert found[v1.pk].owner == account.owner  # the account owner comes first
    assert (found[v2.pk].lead, found[v2.pk].person.matched_on) == (by_phone, "phone")
    assert found[v3.pk].person is None
    assert found[v3.pk].owner is None


def test_visitors_in_crm_query_count_does_not_grow_with_visitors(
    send: Send, tenant: Tenant, django_assert_max_num_queries: Any
) -> None:
    for n in range(12):
        account = AccountFactory(tenant=tenant, domain=f"firm{n}.com")
        ContactFactory(tenant=tenant, email=f"p{n}@firm{n}.com", account=account)
        OpportunityFactory(tenant=tenant, account=account)
        identify(send, f"device-{n:04}", email=f"p{n}@firm{n}.com")
    visitors = list(visitor_list(tenant=tenant))
    with django_assert_max_num_queries(5):
        found = visitors_in_crm(tenant=tenant, visitors=visitors)
        owners = [f.owner.name for f in found.values()]
        deals = [o.stage.name for f in found.values() for o in f.open_opportunities]
    assert (len(owners), len(deals)) == (12, 12)


def test_outsiders_crm_records_never_match(
    send: Send, tenant: Tenant, outsider: Membership
) -> None:
    ContactFactory(tenant=outsider.tenant, email="ann@initech.com")
    AccountFactory(tenant=outsider.tenant, domain="initech.com")
    visitor = identify(send, email="ann@initech.com")
    found = visitors_in_crm(tenant=tenant, visitors=[visitor])[visitor.pk]
    assert (found.person, found.account) == (None, None)
    assert Company.objects.for_tenant(outsider.tenant).count() == 0
