"""The emulator's global state: orgs (by name and Id), users, tokens and auth codes."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from salesforce_emulator.ids import IdFactory
from salesforce_emulator.org import ConnectedApp, Org, OrgSettings, UserCredentials
from salesforce_emulator.persistence import Persistence


@dataclass
class Token:
    token: str
    org: str
    user_id: str
    kind: str  # "access" | "refresh"
    client_id: str | None
    issued_at: float
    last_used: float
    expired: bool = False
    revoked: bool = False
    refresh_token: str | None = None


@dataclass
class AuthCode:
    code: str
    org: str
    user_id: str
    client_id: str
    redirect_uri: str
    issued_at: float


class Emulator:
    def __init__(self, data_path: str | None = None) -> None:
        self.lock = threading.RLock()
        self.persistence = Persistence(data_path) if data_path else None
        self.orgs: dict[str, Org] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, AuthCode] = {}
        self._next_number = 1
        if self.persistence is not None:
            self._load()

    def _load(self) -> None:
        assert self.persistence is not None
        for data in self.persistence.load_orgs():
            settings = OrgSettings.from_json(data)
            org = Org(settings, self.persistence)
            org.ids.observe(settings.org_id)
            org.load_from_disk()
            self.orgs[settings.name.lower()] = org
            self._next_number = max(self._next_number, settings.number + 1)
        for data in self.persistence.load_tokens():
            tok = Token(**data)
            if tok.org.lower() in self.orgs:
                self.tokens[tok.token] = tok

    def close(self) -> None:
        if self.persistence is not None:
            self.persistence.close()

    # --- orgs ----------------------------------------------------------------------------
    def create_org(
        self,
        name: str,
        *,
        custom_fields: bool = True,
        api_allocation: int = 15000,
        duplicate_rule: bool = False,
        users: list[dict[str, Any]] | None = None,
        connected_apps: list[dict[str, Any]] | None = None,
        queue: bool = True,
    ) -> Org:
        with self.lock:
            if name.lower() in self.orgs:
                raise KeyError(name)
            number = self._next_number
            self._next_number += 1
            org_id = IdFactory(number).new("00D")
            settings = OrgSettings(
                name=name,
                number=number,
                org_id=org_id,
                custom_fields=custom_fields,
                api_allocation=api_allocation,
                duplicate_rule=duplicate_rule,
                connected_apps=[ConnectedApp(**a) for a in connected_apps or []],
            )
            org = Org(settings, self.persistence)
            org.ids.observe(org_id)
            self.orgs[name.lower()] = org
        org.install_base_rows()
        if queue:
            org.add_queue()
        for u in users or []:
            org.add_user(
                u["username"],
                u.get("password", "password"),
                first_name=u.get("first_name", ""),
                last_name=u.get("last_name", ""),
                admin=u.get("admin", True),
                security_token=u.get("security_token", ""),
                email=u.get("email"),
            )
        org.save_settings()
        return org

    def get_org(self, name: str) -> Org | None:
        return self.orgs.get(name.lower())

    def delete_org(self, name: str) -> bool:
        with self.lock:
            org = self.orgs.pop(name.lower(), None)
            if org is None:
                return False
            for key in [k for k, t in self.tokens.items() if t.org.lower() == name.lower()]:
                del self.tokens[key]
        if self.persistence is not None:
            self.persistence.delete_org(org.name, org.settings.number)
        return True

    def reset_org(self, org: Org) -> None:
        """Wipe records, counters, faults and cursors; keep settings, users and tokens."""
        with org.lock:
            users = {u: (c, org.store.rows.get(c.user_id)) for u, c in org.users.items()}
            org.store.clear()
            org.cursors.clear()
            org.counters.clear()
            org.api_used = 0
            org.faults.configure({"clear": True})
            org.install_base_rows()
            org.add_queue()
            rows = []
            for creds, row in users.values():
                if row is not None:
                    admin = creds.is_admin
                    profile = org.profile_ids["System Administrator" if admin else "Standard User"]
                    rows.append(("User", dict(row, ProfileId=profile)))
            org.store.bulk_load(rows)

    def find_user(self, username: str) -> tuple[Org, UserCredentials] | None:
        for org in self.orgs.values():
            creds = org.users.get(username.lower())
            if creds is not None:
                return org, creds
        return None

    def orgs_with_app(self, client_id: str) -> list[Org]:
        return [o for o in self.orgs.values() if o.app(client_id)]

    # --- tokens --------------------------------------------------------------------------
    def issue(
        self,
        org: Org,
        user_id: str,
        client_id: str | None,
        *,
        refresh: bool = False,
    ) -> tuple[Token, Token | None]:
        now = time.time()
        used = org.clock.now().timestamp()  # idle time follows the org clock (tests move it)
        refresh_tok = None
        if refresh:
            refresh_tok = Token(
                "5Aep" + secrets.token_urlsafe(48),
                org.name,
                user_id,
                "refresh",
                client_id,
                now,
                now,
            )
            self._save(refresh_tok)
        access = Token(
            f"{org.org_id[:15]}!{secrets.token_urlsafe(60)}",
            org.name,
            user_id,
            "access",
            client_id,
            now,
            used,
            refresh_token=refresh_tok.token if refresh_tok else None,
        )
        self._save(access)
        return access, refresh_tok

    def _save(self, tok: Token) -> None:
        self.tokens[tok.token] = tok
        if self.persistence is not None:
            self.persistence.save_token(tok.token, tok.org, asdict(tok))

    def resolve(self, token: str) -> tuple[Org, Token] | None:
        """The org and token behind a bearer token, or None when unknown/expired/revoked."""
        tok = self.tokens.get(token)
        if tok is None or tok.kind != "access" or tok.expired or tok.revoked:
            return None
        org = self.orgs.get(tok.org.lower())
        if org is None:
            return None
        timeout = org.settings.session_timeout_seconds
        now = org.clock.now().timestamp()
        if timeout and now - tok.last_used > timeout:
            tok.expired = True
            self._save(tok)
            return None
        tok.last_used = now
        return org, tok

    def expire_sessions(self, org: Org) -> int:
        """Expire every live access token of an org; the next login gets a working one."""
        n = 0
        for tok in list(self.tokens.values()):
            if tok.org.lower() == org.name.lower() and tok.kind == "access" and not tok.expired:
                tok.expired = True
                self._save(tok)
                n += 1
        return n

    def revoke(self, token: str) -> bool:
        tok = self.tokens.get(token)
        if tok is None:
            return False
        tok.revoked = True
        self._save(tok)
        if tok.kind == "refresh":
            for other in list(self.tokens.values()):
                if other.refresh_token == tok.token:
                    other.revoked = True
                    self._save(other)
        return True

    def new_code(self, org: Org, user_id: str, client_id: str, redirect_uri: str) -> str:
        code = "aPrx" + secrets.token_urlsafe(40)
        self.codes[code] = AuthCode(code, org.name, user_id, client_id, redirect_uri, time.time())
        return code
