"""One emulated org: its settings, schema, records, clock, users and per-org counters."""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from salesforce_emulator.clock import Clock
from salesforce_emulator.cursors import CursorStore
from salesforce_emulator.faults import FaultState
from salesforce_emulator.ids import KEY_PREFIXES, IdFactory
from salesforce_emulator.persistence import Persistence
from salesforce_emulator.schema import OrgSchema
from salesforce_emulator.schema.standard_objects import LEAD_STATUSES, OPPORTUNITY_STAGES
from salesforce_emulator.store import OrgStore


@dataclass
class ConnectedApp:
    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)

    def allows(self, redirect_uri: str) -> bool:
        """Exact match, or prefix match for entries written as `http://host:port/...`."""
        for allowed in self.redirect_uris:
            if allowed.endswith("..."):
                if redirect_uri.startswith(allowed[:-3]):
                    return True
            elif redirect_uri == allowed:
                return True
        return False


@dataclass
class UserCredentials:
    username: str
    user_id: str
    password: str
    security_token: str
    is_admin: bool


@dataclass
class OrgSettings:
    name: str
    number: int
    org_id: str
    custom_fields: bool = True
    api_allocation: int = 15000
    duplicate_rule: bool = False
    session_timeout_seconds: int | None = None
    connected_apps: list[ConnectedApp] = field(default_factory=list)
    clock: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9-]+", "-", self.name.lower()).strip("-") or "org"

    @property
    def instance_url(self) -> str:
        return f"https://{self.slug}.my.salesforce.com"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrgSettings:
        data = dict(data)
        data["connected_apps"] = [ConnectedApp(**a) for a in data.get("connected_apps", [])]
        return cls(**data)


class Org:
    def __init__(self, settings: OrgSettings, persistence: Persistence | None = None) -> None:
        self.settings = settings
        self.persistence = persistence
        self.lock = threading.RLock()
        self.schema = OrgSchema(custom_fields=settings.custom_fields)
        self.store = OrgStore(persistence, settings.number)
        self.clock = Clock.from_json(settings.clock) if settings.clock else Clock()
        self.ids = IdFactory(settings.number)
        self.users: dict[str, UserCredentials] = {}
        self.api_used = 0
        self.counters: Counter[str] = Counter()
        self.faults = FaultState()
        self.cursors = CursorStore()
        self.profile_ids: dict[str, str] = {}
        self.queue_id: str | None = None

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def org_id(self) -> str:
        return self.settings.org_id

    def save_settings(self) -> None:
        self.settings.clock = self.clock.to_json()
        if self.persistence is not None:
            self.persistence.save_org(self.name, self.settings.to_json())

    # --- identity ------------------------------------------------------------------------
    def default_user_id(self) -> str:
        for creds in self.users.values():
            if creds.is_admin:
                return creds.user_id
        return next(iter(self.users.values())).user_id if self.users else self.system_user_id

    @property
    def system_user_id(self) -> str:
        return self.org_id[:3].replace("00D", "005") + self.org_id[3:]

    def app(self, client_id: str) -> ConnectedApp | None:
        for a in self.settings.connected_apps:
            if a.client_id == client_id:
                return a
        return None

    # --- base rows -----------------------------------------------------------------------
    def base_row(self, obj: str, values: dict[str, Any], rid: str | None = None) -> dict[str, Any]:
        now = self.clock.stamp()
        creator = (self.users and self.default_user_id()) or self.system_user_id
        row = dict.fromkeys(self.schema.objects[obj].fields)
        for f in self.schema.objects[obj].fields.values():
            if f.type == "boolean":
                row[f.name] = bool(f.default_value)
        row.update(
            Id=rid or self.ids.new(KEY_PREFIXES[obj]),
            IsDeleted=False,
            CreatedDate=now,
            CreatedById=creator,
            LastModifiedDate=now,
            LastModifiedById=creator,
            SystemModstamp=now,
        )
        row.update(values)
        return row

    def install_base_rows(self) -> None:
        """Profiles, a queue, opportunity stages and lead statuses every new org has."""
        rows: list[tuple[str, dict[str, Any]]] = []
        for name, admin in (("System Administrator", True), ("Standard User", False)):
            r = self.base_row(
                "Profile",
                {
                    "Name": name,
                    "UserType": "Standard",
                    "PermissionsModifyAllData": admin,
                    "PermissionsViewAllData": admin,
                    "PermissionsApiEnabled": True,
                },
            )
            self.profile_ids[name] = r["Id"]
            rows.append(("Profile", r))
        for i, (api, prob, closed, won, fc) in enumerate(OPPORTUNITY_STAGES, 1):
            fcat = {"Best Case": "BestCase", "Commit": "Forecast"}.get(fc, fc)
            rows.append(
                (
                    "OpportunityStage",
                    self.base_row(
                        "OpportunityStage",
                        {
                            "ApiName": api,
                            "MasterLabel": api,
                            "IsActive": True,
                            "SortOrder": i,
                            "IsClosed": closed,
                            "IsWon": won,
                            "DefaultProbability": float(prob),
                            "ForecastCategory": fcat,
                            "ForecastCategoryName": fc,
                        },
                    ),
                )
            )
        for i, (api, converted, default) in enumerate(LEAD_STATUSES, 1):
            rows.append(
                (
                    "LeadStatus",
                    self.base_row(
                        "LeadStatus",
                        {
                            "ApiName": api,
                            "MasterLabel": api,
                            "SortOrder": i,
                            "IsDefault": default,
                            "IsConverted": converted,
                        },
                    ),
                )
            )
        self.store.bulk_load(rows)

    def add_queue(self, name: str = "Inbound Leads") -> str:
        row = self.base_row(
            "Group", {"Name": name, "DeveloperName": name.replace(" ", "_"), "Type": "Queue"}
        )
        self.store.bulk_load([("Group", row)])
        self.queue_id = row["Id"]
        return row["Id"]

    def add_user(
        self,
        username: str,
        password: str,
        *,
        first_name: str = "",
        last_name: str = "",
        admin: bool = True,
        security_token: str = "",
        email: str | None = None,
    ) -> UserCredentials:
        profile = self.profile_ids["System Administrator" if admin else "Standard User"]
        last = last_name or username.split("@")[0].title()
        name = f"{first_name} {last}".strip()
        row = self.base_row(
            "User",
            {
                "Username": username,
                "FirstName": first_name or None,
                "LastName": last,
                "Name": name,
                "Alias": (first_name[:1] + last)[:8].lower(),
                "Email": email or username,
                "IsActive": True,
                "ProfileId": profile,
                "UserType": "Standard",
                "TimeZoneSidKey": "GMT",
                "CompanyName": self.name,
            },
        )
        self.store.bulk_load([("User", row)])
        creds = UserCredentials(username, row["Id"], password, security_token, admin)
        self.users[username.lower()] = creds
        if self.persistence is not None:
            self.persistence.save_user(username.lower(), self.name, asdict(creds))
        return creds

    def load_from_disk(self) -> None:
        assert self.persistence is not None
        rows = self.persistence.load_rows(self.settings.number)
        self.store.bulk_load(rows, persist=False)
        for obj, row in rows:
            self.ids.observe(row["Id"])
            if obj == "Profile":
                self.profile_ids[row["Name"]] = row["Id"]
            elif obj == "Group" and row.get("Type") == "Queue" and self.queue_id is None:
                self.queue_id = row["Id"]
        for data in self.persistence.load_users(self.name):
            creds = UserCredentials(**data)
            self.users[creds.username.lower()] = creds

    def counters_snapshot(self) -> dict[str, Any]:
        return {
            "api_usage": self.api_used,
            "api_allocation": self.settings.api_allocation,
            "by_kind": dict(self.counters),
        }
