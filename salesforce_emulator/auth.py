"""Login endpoints: SOAP login, OAuth 2.0 token (password, refresh_token, authorization_code),
the web-server-flow consent page, userinfo, identity URL and revoke.

Orgs are found by username or client_id, never by Host: every request reaches the emulator as
`http://127.0.0.1:PORT/...` whatever `*.salesforce.com` host the client aimed at.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import time
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from salesforce_emulator.org import Org, UserCredentials
from salesforce_emulator.state import Emulator

_JSON = "application/json;charset=UTF-8"


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type=_JSON)


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return _json({"error": error, "error_description": description}, status)


def _soap_fault(code: str, message: str) -> Response:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {html.escape(message)}</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{html.escape(message)}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"""  # noqa: E501
    return Response(body, status=500, content_type="text/xml;charset=UTF-8")


def _xml_value(text: str, tag: str) -> str | None:
    m = re.search(rf"<(?:\w+:)?{tag}>(.*?)</(?:\w+:)?{tag}>", text, re.S)
    return html.unescape(m.group(1)) if m else None


def _password_ok(creds: UserCredentials, given: str, *, token_required: bool) -> bool:
    with_token = creds.password + creds.security_token
    if hmac.compare_digest(given, with_token):
        return True
    return not token_required and hmac.compare_digest(given, creds.password)


def identity_url(org: Org, user_id: str) -> str:
    return f"https://login.salesforce.com/id/{org.org_id}/{user_id}"


def soap_login(emu: Emulator, request: Request, version: str) -> Response:
    text = request.get_data(as_text=True)
    username = _xml_value(text, "username") or ""
    password = _xml_value(text, "password") or ""
    found = emu.find_user(username)
    message = "Invalid username, password, security token; or user locked out."
    if found is None or not _password_ok(found[1], password, token_required=True):
        return _soap_fault("INVALID_LOGIN", message)
    org, creds = found
    org.counters["auth"] += 1
    access, _ = emu.issue(org, creds.user_id, None)
    user = org.store.rows[creds.user_id]
    server = f"{org.settings.instance_url}/services/Soap/u/{version}/{org.org_id[:15]}"
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result><metadataServerUrl>{org.settings.instance_url}/services/Soap/m/{version}/{org.org_id[:15]}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox><serverUrl>{server}</serverUrl><sessionId>{access.token}</sessionId><userId>{creds.user_id}</userId><userInfo><organizationId>{org.org_id}</organizationId><organizationName>{html.escape(org.name)}</organizationName><userEmail>{html.escape(user.get("Email") or "")}</userEmail><userFullName>{html.escape(user.get("Name") or "")}</userFullName><userId>{creds.user_id}</userId><userName>{html.escape(creds.username)}</userName></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"""  # noqa: E501
    return Response(body, status=200, content_type="text/xml;charset=UTF-8")


def _token_body(
    emu: Emulator, org: Org, user_id: str, client_id: str | None, *, refresh: bool
) -> dict[str, Any]:
    access, refresh_tok = emu.issue(org, user_id, client_id, refresh=refresh)
    issued = str(int(access.issued_at * 1000))
    ident = identity_url(org, user_id)
    sig = base64.b64encode(
        hmac.new(access.token.encode(), (ident + issued).encode(), hashlib.sha256).digest()
    ).decode()
    body: dict[str, Any] = {
        "access_token": access.token,
        "instance_url": org.settings.instance_url,
        "id": ident,
        "token_type": "Bearer",
        "issued_at": issued,
        "signature": sig,
    }
    if refresh_tok is not None:
        body["refresh_token"] = refresh_tok.token
        body["scope"] = "refresh_token api id"
    return body


# Long on purpose: one branch per OAuth grant type, with the errors Salesforce documents.
def oauth_token(emu: Emulator, request: Request) -> Response:  # noqa: C901
    form = request.form
    grant = form.get("grant_type", "")
    client_id = form.get("client_id", "")
    client_secret = form.get("client_secret", "")
    if grant == "password":
        found = emu.find_user(form.get("username", ""))
        if found is None:
            return _oauth_error("invalid_grant", "authentication failure")
        org, creds = found
        app = org.app(client_id)
        if app is None:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if app.client_secret != client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        if not _password_ok(creds, form.get("password", ""), token_required=False):
            return _oauth_error("invalid_grant", "authentication failure")
        org.counters["auth"] += 1
        return _json(_token_body(emu, org, creds.user_id, client_id, refresh=False))
    if grant == "refresh_token":
        tok = emu.tokens.get(form.get("refresh_token", ""))
        if tok is None or tok.kind != "refresh" or tok.revoked:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        org = emu.get_org(tok.org)
        if org is None:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        app = org.app(client_id)
        if app is None or tok.client_id != client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if client_secret and app.client_secret != client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        org.counters["auth"] += 1
        body = _token_body(emu, org, tok.user_id, client_id, refresh=False)
        access = emu.tokens[body["access_token"]]
        access.refresh_token = tok.token
        emu._save(access)
        return _json(body)
    if grant == "authorization_code":
        code = emu.codes.pop(form.get("code", ""), None)
        if code is None or time.time() - code.issued_at > 15 * 60:
            return _oauth_error("invalid_grant", "invalid authorization code")
        org = emu.get_org(code.org)
        app = org.app(client_id) if org else None
        if org is None or app is None or code.client_id != client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if app.client_secret != client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        if form.get("redirect_uri", "") != code.redirect_uri:
            return _oauth_error("redirect_uri_mismatch", "redirect_uri must match configuration")
        org.counters["auth"] += 1
        return _json(_token_body(emu, org, code.user_id, client_id, refresh=True))
    return _oauth_error("unsupported_grant_type", "grant type not supported")


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Allow Access?</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:4rem auto;color:#222}}
.card{{border:1px solid #ccc;border-radius:8px;padding:1.5rem}}
button{{padding:.5rem 1.2rem;margin-right:.5rem}}
</style></head><body><div class="card"><h1>Allow Access?</h1>
<p><strong>{app}</strong> is asking to access your Salesforce data (org <strong>{org}</strong>).</p>
<form method="post">
<label>Logged in as <input name="username" value="{username}" size="32"></label>
{hidden}
<p><button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="deny">Deny</button></p>
</form><p><small>Salesforce org emulator</small></p></div></body></html>"""


def _redirect(url: str, params: dict[str, str]) -> Response:
    sep = "&" if "?" in url else "?"
    return Response(status=302, headers={"Location": url + sep + urlencode(params)})


def authorize(emu: Emulator, request: Request) -> Response:
    args = request.values
    client_id = args.get("client_id", "")
    redirect_uri = args.get("redirect_uri", "")
    state = args.get("state")
    orgs = emu.orgs_with_app(client_id)
    if not orgs:
        return Response("error=invalid_client_id: client identifier invalid", status=400)
    username = args.get("username") or args.get("login_hint") or ""
    found = emu.find_user(username) if username else None
    if found is None and len(orgs) == 1 and not username:
        org = orgs[0]
        user_id = org.default_user_id()
        username = next((c.username for c in org.users.values() if c.user_id == user_id), "")
        found = emu.find_user(username) if username else None
    if found is not None and found[0].app(client_id) is None:
        found = None
    app = (found[0] if found else orgs[0]).app(client_id)
    assert app is not None
    if not app.allows(redirect_uri):
        return Response(
            "error=redirect_uri_mismatch: redirect_uri must match configuration", status=400
        )
    if request.method == "GET":
        keep = {k: v for k, v in args.items() if k not in ("username", "action")}
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in keep.items()
        )
        org_name = found[0].name if found else "?"
        page = _PAGE.format(
            app=html.escape(client_id),
            org=html.escape(org_name),
            username=html.escape(username),
            hidden=hidden,
        )
        return Response(page, content_type="text/html; charset=utf-8")
    extra = {"state": state} if state is not None else {}
    if request.form.get("action") != "allow":
        return _redirect(
            redirect_uri,
            {
                "error": "access_denied",
                "error_description": "end-user denied authorization",
                **extra,
            },
        )
    if found is None:
        return Response("Unknown user for this connected app", status=400)
    org, creds = found
    code = emu.new_code(org, creds.user_id, client_id, redirect_uri)
    return _redirect(redirect_uri, {"code": code, **extra})


def _bearer(request: Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _identity(org: Org, user_id: str) -> dict[str, Any]:
    user = org.store.rows[user_id]
    return {
        "sub": identity_url(org, user_id),
        "user_id": user_id,
        "organization_id": org.org_id,
        "preferred_username": user.get("Username"),
        "nickname": user.get("Alias"),
        "name": user.get("Name"),
        "email": user.get("Email"),
        "email_verified": True,
        "given_name": user.get("FirstName"),
        "family_name": user.get("LastName"),
        "zoneinfo": user.get("TimeZoneSidKey"),
        "active": bool(user.get("IsActive")),
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "urls": {
            "rest": f"{org.settings.instance_url}/services/data/v{{version}}/",
            "sobjects": f"{org.settings.instance_url}/services/data/v{{version}}/sobjects/",
            "query": f"{org.settings.instance_url}/services/data/v{{version}}/query/",
            "profile": f"{org.settings.instance_url}/{user_id}",
        },
        "is_app_installed": True,
        "updated_at": user.get("LastModifiedDate"),
    }


def userinfo(emu: Emulator, request: Request) -> Response:
    resolved = emu.resolve(_bearer(request))
    if resolved is None:
        return Response("Bad_OAuth_Token", status=403, content_type="text/plain")
    org, tok = resolved
    org.counters["auth"] += 1
    return _json(_identity(org, tok.user_id))


def identity(emu: Emulator, request: Request, org_id: str, user_id: str) -> Response:
    resolved = emu.resolve(_bearer(request) or request.args.get("oauth_token", ""))
    if resolved is None:
        return Response("Bad_OAuth_Token", status=403, content_type="text/plain")
    org, tok = resolved
    if org.org_id[:15] != org_id[:15] or tok.user_id[:15] != user_id[:15]:
        return Response("Bad_Id", status=403, content_type="text/plain")
    body = _identity(org, tok.user_id)
    body["id"] = body.pop("sub")
    body["username"] = body["preferred_username"]
    body["display_name"] = body["name"]
    return _json(body)


def revoke(emu: Emulator, request: Request) -> Response:
    token = request.values.get("token", "")
    if not emu.revoke(token):
        return _oauth_error("unsupported_token_type", "this token type is not supported")
    return Response(status=200)
