"""IP address → company, pluggable.

`settings.VISITORS_IP_RESOLVER` names a class with `resolve(ip) -> CompanyGuess | None`
(a commercial IP-intelligence service would go here). The default reads the `IpRange`
table that `manage.py load_ip_ranges` fills from a CSV file.

Every new device asks for its address's company inside the ingest writer's transaction,
so answers (found or not) are kept per process for `CACHE_SECONDS`: a company network's
visitors, and every later device behind the same address, cost no query. Loading ranges
clears the loading process's answers; other processes see the new ranges within
`CACHE_SECONDS`.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import NamedTuple, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from salesmonk.ttl_cache import TtlCache
from visitors.models import IpRange

DEFAULT_RESOLVER = "visitors.tracking.resolvers.IpRangeTableResolver"
CACHE_SECONDS = 300.0
_CACHE_MAX = 20_000
_answers: TtlCache[str, CompanyGuess | None] = TtlCache(seconds=CACHE_SECONDS, max_size=_CACHE_MAX)


class CompanyGuess(NamedTuple):
    domain: str
    name: str


class IpCompanyResolver(Protocol):
    def resolve(self, ip: str) -> CompanyGuess | None: ...


def ip_key(ip: str) -> bytes:
    """16 bytes that order IPv4 (mapped into IPv6) and IPv6 addresses together."""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv4Address):
        address = ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed)
    return address.packed


class IpRangeTableResolver:
    """The range with the greatest start at or below the address, if it also ends above it
    (ranges do not overlap: the loader refuses overlaps)."""

    def resolve(self, ip: str) -> CompanyGuess | None:
        try:
            key = ip_key(ip)
        except ValueError:
            return None
        row = (
            IpRange.objects.filter(start__lte=key)
            .order_by("-start")
            .values("end", "domain", "name")[:1]
        )
        found = next(iter(row), None)
        if found is None or bytes(found["end"]) < key:
            return None
        return CompanyGuess(found["domain"], found["name"])


class _Cached:
    """The configured resolver's answers, kept for `CACHE_SECONDS` (bounded: emptied
    when full, which under any real traffic only means a few more lookups)."""

    def __init__(self, resolver: IpCompanyResolver) -> None:
        self._resolver = resolver

    def resolve(self, ip: str) -> CompanyGuess | None:
        return _answers.get_or_set(ip, lambda: self._resolver.resolve(ip))


def ip_answers_forget() -> None:
    """Drop this process's kept answers (after loading ranges, and between tests)."""
    _answers.clear()


@lru_cache(maxsize=1)
def get_ip_resolver() -> IpCompanyResolver:
    path = getattr(settings, "VISITORS_IP_RESOLVER", DEFAULT_RESOLVER)
    return _Cached(import_string(path)())
