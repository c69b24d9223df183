"""Normalization of the keys we match on: company domains, email addresses, phone numbers.

Pure functions, shared by the CRM mirror (when records are stored) and by visitor tracking
(when visitors are identified), so both sides of every match go through the same code.
Each returns None for a value that cannot identify anything, so callers never store or
match on garbage.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

import idna
import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from publicsuffixlist import PublicSuffixList

# No "localhost" allowance: an address without a real domain identifies nobody.
_validate_email = EmailValidator(allowlist=[])
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


@lru_cache(maxsize=1)
def _public_suffixes() -> PublicSuffixList:
    # The list bundled with the pinned package: no download, no cache files, ever.
    # `accept_unknown=False` turns hosts under made-up TLDs (`.local`, `.internal`,
    # `localhost`) into None instead of pretending they are companies.
    return PublicSuffixList(accept_unknown=False)


def _host_from(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    if "://" not in text:
        if "@" in text and "/" not in text:
            text = text.rsplit("@", 1)[1]  # an email address: its domain
        text = "//" + text  # let urlsplit find the host in "www.example.com:8080/path"
    try:
        host = urlsplit(text).hostname  # drops credentials and port, lower-cases ASCII
    except ValueError:  # e.g. an unbalanced "[" in the netloc
        return None
    if not host:
        return None
    return host.rstrip(".") or None


def _ascii_host(host: str) -> str | None:
    """Punycode (IDNA 2008 with UTS #46 mapping, as browsers do) for non-ASCII hosts."""
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    host = host.lower()
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        return None
    return host


def normalize_domain(value: str | None) -> str | None:
    """The registrable domain of a website, URL, host or email address, or None.

    `https://www.Shop.Example.co.uk:8080/path?q` -> `example.co.uk`; `Bob@Mail.Example.com`
    -> `example.com`; `bücher.de` -> `xn--bcher-kva.de`. Private suffixes of the public
    suffix list count (`acme.github.io` stays `acme.github.io`), so customers of one hosting
    platform are never merged into one company. IP addresses, `localhost`, bare public
    suffixes and garbage give None.
    """
    if not isinstance(value, str):
        return None
    host = _host_from(value)
    if host is None:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    ascii_host = _ascii_host(host)
    if ascii_host is None:
        return None
    return _public_suffixes().privatesuffix(ascii_host)


def normalize_email(value: str | None) -> str | None:
    """Stripped and lower-cased email address, or None when it is not a valid address."""
    if not isinstance(value, str):
        return None
    email = value.strip()
    if email[:7].lower() == "mailto:":
        email = email[7:].strip()
    email = email.lower()
    if not email:
        return None
    try:
        _validate_email(email)
    except ValidationError:
        return None
    return email


def normalize_phone(value: str | None, default_region: str = "US") -> str | None:
    """The number in E.164 (`+14155550142`), or None.

    Numbers without a country code are read in `default_region`. We accept every number
    whose length is possible for its country rather than only those the bundled metadata
    knows as assigned: both sides of a match use this same function, and numbers in newly
    opened ranges must not stop matching until the library is upgraded. Extensions are
    dropped. There is no digits-only fallback: a string phonenumbers cannot read would
    only produce keys that never match anything.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
