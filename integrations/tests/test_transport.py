"""The one Salesforce session factory: routing to the emulator by settings alone, and the cap
on re-authentication. simple-salesforce runs unchanged, over real HTTP."""

from __future__ import annotations

import pytest
import requests
from django.test import override_settings
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceResourceNotFound

from integrations.salesforce.transport import (
    EmulatorRoutingAdapter,
    SessionRejected,
    build_session,
    is_salesforce_host,
)
from salesforce_emulator.server import RunningEmulator
from salesforce_emulator.testing import EmulatedOrg, create_org, delete_org


@pytest.fixture
def outsider_org(sf_emulator: RunningEmulator):
    org = create_org(sf_emulator.base_url)
    yield org
    delete_org(sf_emulator.base_url, org.name)


def login(org: EmulatedOrg, session: requests.Session) -> Salesforce:
    return Salesforce(
        username=org.username,
        password=org.password,
        consumer_key=org.client_id,
        consumer_secret=org.client_secret,
        session=session,
    )


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("login.salesforce.com", True),
        ("acme.my.salesforce.com", True),
        ("ACME.lightning.force.com.", True),
        ("salesforce.com.evil.example", False),
        ("hooks.slack.com", False),
    ],
)
def test_salesforce_hosts(host: str, expected: bool) -> None:
    assert is_salesforce_host(host) is expected


def test_settings_alone_route_simple_salesforce_to_the_emulator(
    sf_emulator: RunningEmulator, sf_org: EmulatedOrg, outsider_org: EmulatedOrg
) -> None:
    with override_settings(SALESFORCE_EMULATOR_URL=sf_emulator.base_url):
        session = build_session()
    sf_org.control.create("Account", {"Name": "Initech", "Website": "initech.example"})
    outsider_org.control.create("Account", {"Name": "Globex", "Website": "globex.example"})

    sf = login(sf_org, session)
    result = sf.query("SELECT Name, Website FROM Account WHERE Name != null")

    assert sf.sf_instance == sf_org.instance_url.removeprefix("https://")
    assert [r["Name"] for r in result["records"]] == ["Initech"]
    assert sf.api_usage["api-usage"].used >= 1


def test_soap_login_through_the_same_session(
    sf_emulator: RunningEmulator, sf_org: EmulatedOrg
) -> None:
    sf = Salesforce(
        username=sf_org.username,
        password=sf_org.password,
        security_token=sf_org.security_token,
        session=build_session(emulator_url=sf_emulator.base_url),
    )
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_without_emulator_setting_no_routing_happens() -> None:
    with override_settings(SALESFORCE_EMULATOR_URL=""):
        session = build_session()
    assert not any(isinstance(a, EmulatorRoutingAdapter) for a in session.adapters.values())


def test_bad_emulator_url_is_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        build_session(emulator_url="127.0.0.1:8484")


def test_one_expired_session_is_refreshed_transparently(
    sf_emulator: RunningEmulator, sf_org: EmulatedOrg
) -> None:
    sf = login(sf_org, build_session(emulator_url=sf_emulator.base_url))
    old_session = sf.session_id
    sf_org.control.expire_sessions()

    assert sf.Lead.describe()["name"] == "Lead"
    assert sf.session_id != old_session


def test_a_session_that_never_clears_stops_instead_of_recursing(
    sf_emulator: RunningEmulator, sf_org: EmulatedOrg
) -> None:
    sf = login(sf_org, build_session(emulator_url=sf_emulator.base_url))
    sf_org.control.fault(
        fail_call={"n": 1, "status": 401, "errorCode": "INVALID_SESSION_ID", "times": 1000}
    )

    # sObject calls are the ones simple-salesforce would otherwise retry without end.
    with pytest.raises(SessionRejected, match="rejected the session 4 times in a row"):
        sf.Lead.get("00Q000000000000EAA")

    sf_org.control.clear_faults()
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get("00Q000000000000EAA")
