"""Query order reuse: cached sorted rows must never hide a write."""

from __future__ import annotations

from datetime import UTC, datetime

from salesforce_emulator.control import seed_raw
from salesforce_emulator.soql import execute
from salesforce_emulator.state import Emulator

QUERY = "SELECT LastName FROM Lead WHERE IsConverted = false ORDER BY LastName DESC, Id"


def names(org) -> list[str]:
    result = execute(
        QUERY,
        schema=org.schema,
        source=org.store,
        include_deleted=False,
        now=datetime.now(UTC),
    )
    return [row["LastName"] for row in result.rows]


def test_cached_order_follows_every_write() -> None:
    emu = Emulator(None)
    org = emu.create_org("cache", custom_fields=False, users=[])
    ids = seed_raw(
        org, {"Lead": [{"LastName": n, "Company": "X"} for n in ("beta", "Alpha", "gamma")]}
    )["Lead"]

    assert names(org) == ["gamma", "beta", "Alpha"]
    assert names(org) == ["gamma", "beta", "Alpha"]  # served from the cached order

    row = dict(org.store.get(ids[1]))
    row["LastName"] = "zeta"
    org.store.put("Lead", row)
    assert names(org) == ["zeta", "gamma", "beta"]

    seed_raw(org, {"Lead": [{"LastName": "delta", "Company": "X"}]})
    assert names(org) == ["zeta", "gamma", "delta", "beta"]

    org.store.clear()
    assert names(org) == []
    emu.close()


def test_parent_ordering_is_never_cached() -> None:
    emu = Emulator(None)
    org = emu.create_org("parents", custom_fields=False, users=[])
    accounts = seed_raw(org, {"Account": [{"Name": "b"}, {"Name": "a"}]})["Account"]
    seed_raw(
        org,
        {
            "Contact": [
                {"LastName": "x", "AccountId": accounts[0]},
                {"LastName": "y", "AccountId": accounts[1]},
            ]
        },
    )
    query = "SELECT LastName FROM Contact ORDER BY Account.Name"
    run = lambda: [  # noqa: E731
        r["LastName"]
        for r in execute(
            query, schema=org.schema, source=org.store, include_deleted=False, now=datetime.now(UTC)
        ).rows
    ]
    assert run() == ["y", "x"]
    row = dict(org.store.get(accounts[1]))
    row["Name"] = "c"
    org.store.put("Account", row)  # only the parent changed
    assert run() == ["x", "y"]
    emu.close()
