"""Login flows through simple-salesforce, tokens, expiry and org isolation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceResourceNotFound,
)

from salesforce_emulator.testing import EmulatedOrg, create_org, delete_org, emulator_session


def test_soap_login_gives_instance_and_session(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce()
    assert sf.sf_instance == urlsplit(sf_org.instance_url).hostname
    assert sf.session_id.startswith(sf_org.org_id[:15] + "!")
    assert (
        sf.query("SELECT Id FROM User WHERE Username = '" + sf_org.username + "'")["records"][0][
            "Id"
        ]
        == sf_org.user_id
    )


def test_soap_login_requires_security_token(sf_org: EmulatedOrg) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as exc:
        Salesforce(
            username=sf_org.username,
            password=sf_org.password,
            security_token="WRONG",
            session=sf_org.session(),
        )
    assert exc.value.code == "INVALID_LOGIN"


def test_oauth_password_flow_and_bad_secret(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce("oauth")
    assert sf.query("SELECT COUNT() FROM Lead") == {"totalSize": 0, "done": True, "records": []}
    with pytest.raises(SalesforceAuthenticationFailed) as exc:
        Salesforce(
            username=sf_org.username,
            password=sf_org.password,
            consumer_key=sf_org.client_id,
            consumer_secret="nope",
            session=sf_org.session(),
        )
    assert exc.value.code == "invalid_client"


def test_token_answer_shape(sf_org: EmulatedOrg) -> None:
    r = sf_org.session().post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": sf_org.client_id,
            "client_secret": sf_org.client_secret,
            "username": sf_org.username,
            "password": sf_org.password + sf_org.security_token,
        },
    )
    body = r.json()
    assert r.status_code == 200
    assert set(body) == {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    }
    assert body["instance_url"] == sf_org.instance_url
    assert body["id"] == f"https://login.salesforce.com/id/{sf_org.org_id}/{sf_org.user_id}"
    bad = sf_org.session().post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": sf_org.client_id,
            "client_secret": sf_org.client_secret,
            "username": sf_org.username,
            "password": "x",
        },
    )
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": "invalid_grant", "error_description": "authentication failure"},
    )


def test_web_server_flow_consent_code_refresh_userinfo_revoke(sf_org: EmulatedOrg) -> None:
    s = sf_org.session()
    s.mount("http://", requests.adapters.HTTPAdapter())
    authorize = "https://login.salesforce.com/services/oauth2/authorize"
    params = {
        "response_type": "code",
        "client_id": sf_org.client_id,
        "redirect_uri": sf_org.redirect_uri,
        "state": "xyz",
    }
    page = s.get(authorize, params=params)
    assert page.status_code == 200
    assert sf_org.username in page.text
    assert "Allow" in page.text
    assert "Deny" in page.text
    denied = s.post(
        authorize,
        data={**params, "username": sf_org.username, "action": "deny"},
        allow_redirects=False,
    )
    q = parse_qs(urlsplit(denied.headers["Location"]).query)
    assert (q["error"], q["state"]) == (["access_denied"], ["xyz"])
    allowed = s.post(
        authorize,
        data={**params, "username": sf_org.username, "action": "allow"},
        allow_redirects=False,
    )
    location = allowed.headers["Location"]
    assert location.startswith(sf_org.redirect_uri + "?")
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = s.post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": sf_org.client_id,
            "client_secret": sf_org.client_secret,
            "redirect_uri": sf_org.redirect_uri,
        },
    ).json()
    assert token["refresh_token"]
    assert token["instance_url"] == sf_org.instance_url
    reused = s.post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": sf_org.client_id,
            "client_secret": sf_org.client_secret,
            "redirect_uri": sf_org.redirect_uri,
        },
    )
    assert reused.json()["error"] == "invalid_grant"
    refreshed = s.post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": sf_org.client_id,
            "client_secret": sf_org.client_secret,
        },
    ).json()
    info = s.get(
        "https://login.salesforce.com/services/oauth2/userinfo",
        headers={"Authorization": "Bearer " + refreshed["access_token"]},
    ).json()
    assert (info["user_id"], info["organization_id"], info["preferred_username"]) == (
        sf_org.user_id,
        sf_org.org_id,
        sf_org.username,
    )
    sf = Salesforce(
        instance_url=sf_org.instance_url,
        session_id=refreshed["access_token"],
        session=sf_org.session(),
    )
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    assert (
        s.post(
            "https://login.salesforce.com/services/oauth2/revoke",
            data={"token": token["refresh_token"]},
        ).status_code
        == 200
    )
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT COUNT() FROM Account")


def test_authorize_rejects_unknown_redirect_uri(sf_org: EmulatedOrg) -> None:
    r = sf_org.session().get(
        "https://login.salesforce.com/services/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": sf_org.client_id,
            "redirect_uri": "https://evil.example/cb",
        },
    )
    assert r.status_code == 400
    assert "redirect_uri_mismatch" in r.text


def test_expired_session_mid_query_all_relogs_in_once(sf_org: EmulatedOrg) -> None:
    sf_org.control.seed(
        records={"Lead": [{"LastName": f"L{i}", "Company": "C"} for i in range(450)]}
    )
    sf = sf_org.salesforce()
    first_token = sf.session_id
    first = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"})
    assert sf_org.control.expire_sessions() == {"expired": 1}
    rest = sf.query_more(
        first["nextRecordsUrl"],
        identifier_is_url=True,
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    assert len(rest["records"]) == 200
    assert sf.session_id != first_token
    assert sf_org.counters()["by_kind"]["auth"] == 2
    assert len(sf.query_all("SELECT Id FROM Lead")["records"]) == 450


def test_expired_session_with_sftype_call_is_one_shot(sf_org: EmulatedOrg) -> None:
    sf = sf_org.salesforce("oauth")
    sf_org.control.expire_sessions()
    assert sf.Lead.create({"LastName": "A", "Company": "B"})["success"] is True


def test_direct_session_surfaces_expiry(sf_org: EmulatedOrg) -> None:
    token = sf_org.salesforce().session_id
    sf = Salesforce(instance_url=sf_org.instance_url, session_id=token, session=sf_org.session())
    sf_org.control.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as exc:
        sf.query("SELECT Id FROM Lead")
    assert exc.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_two_orgs_never_see_each_other(sf_emulator, sf_org: EmulatedOrg) -> None:
    other = create_org(sf_emulator.base_url)
    try:
        sf_a, sf_b = sf_org.salesforce(), other.salesforce()
        lead_id = sf_a.Lead.create({"LastName": "Only", "Company": "A"})["id"]
        assert sf_b.query("SELECT Id FROM Lead")["totalSize"] == 0
        with pytest.raises(SalesforceResourceNotFound) as exc:
            sf_b.Lead.get(lead_id)
        assert exc.value.status == 404
        r = emulator_session(sf_emulator.base_url).get(
            f"{other.instance_url}/services/data/v59.0/sobjects/Lead/{lead_id}",
            headers={"Authorization": "Bearer " + sf_b.session_id},
        )
        assert r.status_code == 404
        assert sf_a.query("SELECT Id FROM Lead")["totalSize"] == 1
        assert other.org_id != sf_org.org_id
    finally:
        delete_org(sf_emulator.base_url, other.name)
