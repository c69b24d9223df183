"""Normalization of the keys we match on, and that stored keys stay within their tenant."""

from __future__ import annotations

import pytest

from crm.models import Account, Contact
from crm.normalize import normalize_domain, normalize_email, normalize_phone
from crm.services import mirror_upsert
from salesmonk.tenants.models import Membership, Tenant


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.Shop.Example.co.uk:8080/path?q", "example.co.uk"),
        ("example.com", "example.com"),
        ("WWW.EXAMPLE.COM", "example.com"),
        ("http://user:secret@www.example.com./", "example.com"),
        ("www.example.com:8443/pricing", "example.com"),
        ("https://app.eu.example.io/login#top", "example.io"),
        ("Bob@Mail.Example.com", "example.com"),
        ("bob.smith@example.co.uk", "example.co.uk"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("https://www.BÜCHER.de/x", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("shop.münchen.de", "xn--mnchen-3ya.de"),
        ("foo.github.io", "foo.github.io"),  # private suffixes count
        ("example.com.au", "example.com.au"),
        ("  example.org  ", "example.org"),
        ("localhost", None),
        ("http://localhost:8000", None),
        ("127.0.0.1", None),
        ("http://10.0.0.1:8080/", None),
        ("http://[::1]/", None),
        ("co.uk", None),
        ("intranet.local", None),
        ("N/A", None),
        ("acme inc", None),
        ("http://", None),
        ("-bad-.example.com", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_domain(value: str | None, expected: str | None) -> None:
    assert normalize_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" Ada.Lovelace@Example.COM ", "ada.lovelace@example.com"),
        ("mailto:Bob@Example.com", "bob@example.com"),
        ("first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"),
        ("no-at-sign.example.com", None),
        ("bob@", None),
        ("@example.com", None),
        ("bob@localhost", None),
        ("two words@example.com", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_email(value: str | None, expected: str | None) -> None:
    assert normalize_email(value) == expected


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("(415) 555-0142", "US", "+14155550142"),
        ("415.555.0142", "US", "+14155550142"),
        ("+1 415 555 0142", "US", "+14155550142"),
        ("415-555-0142 ext. 23", "US", "+14155550142"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+49 (0) 30 1234567", "US", "+49301234567"),
        ("020 7946 0958", "US", None),  # not a possible US number
        ("12", "US", None),
        ("call me", "US", None),
        ("", "US", None),
        (None, "US", None),
    ],
)
def test_normalize_phone(value: str | None, region: str, expected: str | None) -> None:
    assert normalize_phone(value, default_region=region) == expected


def test_keys_are_normalized_on_write_and_kept_per_tenant(
    tenant: Tenant, outsider: Membership
) -> None:
    mirror_upsert(
        tenant=tenant,
        model=Account,
        rows=[{"remote_id": "001000000000001AAA", "website": "HTTPS://WWW.Example.CO.UK/x"}],
    )
    mirror_upsert(
        tenant=tenant,
        model=Contact,
        rows=[
            {
                "remote_id": "003000000000001AAA",
                "email": " Ada@Example.COM",
                "phone": "(415) 555-0142",
            },
            {"remote_id": "003000000000002AAA", "email": "not an email", "phone": "n/a"},
        ],
    )

    assert list(Account.objects.values_list("tenant", "domain")) == [(tenant.pk, "example.co.uk")]
    assert sorted(Contact.objects.values_list("tenant", "remote_id", "email", "phone")) == [
        (tenant.pk, "003000000000001AAA", "ada@example.com", "+14155550142"),
        (tenant.pk, "003000000000002AAA", "", ""),
    ]
    assert not Contact.objects.for_tenant(outsider.tenant).exists()
    assert not Account.objects.for_tenant(outsider.tenant).exists()
