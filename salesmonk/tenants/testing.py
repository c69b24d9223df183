"""Test helpers for tenant isolation, shared by every app's tests.

Each app declares, in `<app>/tests/cross_tenant.py`, how to build one object of another
tenant for each of its URLs that names an object (`@cross_tenant_case("url_name")`).
`salesmonk/tenants/tests/test_isolation.py` then checks every declared case with
`assert_tenant_isolated`, and fails if any object URL of ours has no declared case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from salesmonk.tenants.models import Tenant

LOCAL_APPS = ("salesmonk", "crm", "visitors", "integrations")

KwargsFactory = Callable[[Tenant], dict[str, Any]]


@dataclass(frozen=True)
class CrossTenantCase:
    url_name: str
    make_kwargs: KwargsFactory
    methods: tuple[str, ...]


CASES: dict[str, CrossTenantCase] = {}


def cross_tenant_case(
    url_name: str, *, methods: Iterable[str] = ("get", "post")
) -> Callable[[KwargsFactory], KwargsFactory]:
    """Register how to build URL kwargs naming an object owned by the given tenant."""

    def register(make_kwargs: KwargsFactory) -> KwargsFactory:
        CASES[url_name] = CrossTenantCase(url_name, make_kwargs, tuple(methods))
        return make_kwargs

    return register


def assert_tenant_isolated(client: Client, urls: Iterable[str], *, methods: Iterable[str]) -> None:
    """Every URL must answer 404 to a member of another tenant, for every method: the object
    is neither shown nor changed, and its existence is not revealed (no 403)."""
    failures = []
    for url in urls:
        for method in methods:
            response = getattr(client, method)(url)
            if response.status_code != 404:
                failures.append(f"{method.upper()} {url} -> {response.status_code}")
    assert not failures, "Cross-tenant access not refused:\n" + "\n".join(failures)


def check_case(client: Client, case: CrossTenantCase, *, other_tenant: Tenant) -> None:
    url = reverse(case.url_name, kwargs=case.make_kwargs(other_tenant))
    assert_tenant_isolated(client, [url], methods=case.methods)


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{p.namespace}:" if p.namespace else ""
            yield from _walk(p.url_patterns, prefix + ns)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name, p


def object_url_names() -> set[str]:
    """Names of our own URLs that take arguments (and so may name a tenant's object). The
    admin is for SalesMonk staff, who see every tenant by design: its URLs are left out."""
    names = set()
    for name, pattern in _walk(get_resolver().url_patterns):
        if name.startswith("admin:"):
            continue
        module = getattr(pattern.callback, "__module__", "")
        if module.split(".")[0] in LOCAL_APPS and pattern.pattern.regex.groups:
            names.add(name)
    return names
