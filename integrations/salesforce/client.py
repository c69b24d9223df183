"""The one Salesforce client. No other module imports simple-salesforce.

It owns what every caller needs and none should repeat: the OAuth access token and its
refresh (once per failure, never in a loop), API-usage accounting from every response's
`Sforce-Limit-Info` header, the tenant's daily budget (reads stop short of a reserve kept for
writes), retries with backoff on 5xx and network errors, typed errors (retryable or not),
and the batching primitives the sync engines are built from: paged queries, composite
requests, sObject collections and a describe cache.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from simple_salesforce import Salesforce
from simple_salesforce import exceptions as sf_exc

from integrations.models import ApiUsageDay, ConnectionStatus, SalesforceConnection
from integrations.salesforce.transport import SessionRejected, build_session

log = logging.getLogger(__name__)

T = TypeVar("T")
Purpose = Literal["read", "write"]

PAGE_SIZE = 2000
COLLECTION_SIZE = 200
COMPOSITE_SIZE = 25
MAX_ATTEMPTS = 4
DESCRIBE_TTL_SECONDS = 3600
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


class SalesforceError(Exception):
    """A Salesforce call failed. `retryable` says whether trying later may succeed."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class SalesforceUnavailable(SalesforceError):
    """5xx, timeouts, dropped connections: still failing after our retries."""

    retryable = True


class SalesforceAuthError(SalesforceError):
    """The org no longer accepts our tokens: the customer must reconnect."""


class ApiBudgetExhausted(SalesforceError):
    """The tenant's daily budget (or the org's own allocation) is spent: resume tomorrow."""

    retryable = True


class SalesforceRequestError(SalesforceError):
    """Salesforce refused the request itself (bad query, bad field...): retrying won't help."""


def _error_code(content: Any) -> str | None:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0].get("errorCode")
    return None


def _error_message(content: Any) -> str:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("message", content))
    return str(content)


@dataclass(frozen=True)
class Changes:
    updated_ids: list[str]
    deleted_ids: list[str]
    covered_until: dt.datetime


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _parse_sf_datetime(value: str) -> dt.datetime:
    """Salesforce writes `2024-01-31T10:00:00.000+0000`; Python wants `+00:00`."""
    return dt.datetime.fromisoformat(re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value))


@dataclass
class Usage:
    calls: int = 0
    org_used: int | None = None
    org_limit: int | None = None


class SalesforceClient:
    """Talks to one tenant's org on behalf of one sync run (reads or writes)."""

    def __init__(
        self,
        connection: SalesforceConnection,
        *,
        purpose: Purpose = "read",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if connection.status == ConnectionStatus.DISCONNECTED or not connection.access_token:
            raise SalesforceAuthError("Salesforce is not connected for this workspace.")
        self.connection = connection
        self.purpose = purpose
        self._sleep = sleep
        self.usage = Usage()
        self.last_total_size = 0  # totalSize of the latest query, for progress reports
        self._usage_day = timezone.now().date()
        self._allowance = self._remaining_allowance()
        self.session = build_session()
        self.session.hooks["response"].append(self._count_call)
        self.sf = Salesforce(
            instance_url=connection.instance_url,
            session_id=connection.access_token,
            session=self.session,
            version=settings.SALESFORCE_API_VERSION,
        )

    # --- accounting ----------------------------------------------------------------------
    def _remaining_allowance(self) -> int:
        """Calls this client may still make today: the budget less what was used, less the
        share kept for writes when we only read."""
        conn = self.connection
        used = (
            ApiUsageDay.objects.for_tenant(conn.tenant)
            .filter(day=self._usage_day)
            .values_list("calls", flat=True)
            .first()
            or 0
        )
        budget = conn.api_daily_budget
        if self.purpose == "read":
            budget -= budget * conn.read_reserve_percent // 100
        return budget - used

    def _count_call(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Response hook: every REST answer is one API call against the org's allocation."""
        if "/services/data/" not in urlsplit(response.url).path:
            return
        self.usage.calls += 1
        self._allowance -= 1
        org_used = org_limit = None
        if match := _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", "")):
            org_used, org_limit = int(match.group(1)), int(match.group(2))
            self.usage.org_used, self.usage.org_limit = org_used, org_limit
        # Recorded at once, outside any caller's transaction, so a crash loses no count.
        updated = ApiUsageDay.objects.filter(
            tenant=self.connection.tenant, day=self._usage_day
        ).update(
            calls=F("calls") + 1,
            read_calls=F("read_calls") + (1 if self.purpose == "read" else 0),
            org_used=org_used,
            org_limit=org_limit,
        )
        if not updated:
            with transaction.atomic():
                row, created = ApiUsageDay.objects.select_for_update().get_or_create(
                    tenant=self.connection.tenant,
                    day=self._usage_day,
                    defaults={
                        "calls": 1,
                        "read_calls": 1 if self.purpose == "read" else 0,
                        "org_used": org_used,
                        "org_limit": org_limit,
                    },
                )
                if not created:
                    ApiUsageDay.objects.filter(pk=row.pk).update(
                        calls=F("calls") + 1,
                        read_calls=F("read_calls") + (1 if self.purpose == "read" else 0),
                    )

    def _check_budget(self, calls: int = 1) -> None:
        if self._allowance < calls:
            raise ApiBudgetExhausted(
                f"Today's Salesforce API budget for {self.purpose}s is spent "
                f"({self.connection.api_daily_budget} calls a day)."
            )
        if (
            self.usage.org_limit
            and self.usage.org_used is not None
            and self.usage.org_used + calls > self.usage.org_limit
        ):
            raise ApiBudgetExhausted("The Salesforce org's daily API allocation is spent.")

    # --- the call wrapper ----------------------------------------------------------------
    def _call(self, fn: Callable[[], T], *, calls: int = 1, retry: bool = True) -> T:
        """Run one simple-salesforce call with budget, refresh and retry rules applied."""
        attempt, refreshed = 0, False
        while True:
            self._check_budget(calls)
            try:
                return fn()
            except (sf_exc.SalesforceExpiredSession, SessionRejected) as exc:
                if refreshed:
                    self._mark_needs_reauth(str(exc))
                    raise SalesforceAuthError(
                        "Salesforce rejected a freshly refreshed session.", status=401
                    ) from exc
                self._refresh_access_token()
                refreshed = True
            except sf_exc.SalesforceRefusedRequest as exc:
                code = _error_code(exc.content)
                if code == "REQUEST_LIMIT_EXCEEDED":
                    raise ApiBudgetExhausted(
                        _error_message(exc.content), status=403, code=code
                    ) from exc
                raise SalesforceRequestError(
                    _error_message(exc.content), status=403, code=code
                ) from exc
            except (
                sf_exc.SalesforceGeneralError,
                requests.ConnectionError,
                requests.Timeout,
            ) as exc:
                status = getattr(exc, "status", None)
                if status is not None and status < 500:
                    raise SalesforceRequestError(
                        _error_message(exc.content), status=status, code=_error_code(exc.content)
                    ) from exc
                attempt += 1
                if not retry or attempt >= MAX_ATTEMPTS:
                    raise SalesforceUnavailable(
                        f"Salesforce unavailable after {attempt} attempts: {exc}", status=status
                    ) from exc
                delay = settings.SALESFORCE_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1)
                log.warning("Salesforce call failed (%s); retrying in %.1fs", exc, delay)
                self._sleep(delay)
            except sf_exc.SalesforceError as exc:  # 300, 400, 404: the request itself is wrong
                raise SalesforceRequestError(
                    _error_message(exc.content),
                    status=exc.status,
                    code=_error_code(exc.content),
                ) from exc

    # --- tokens --------------------------------------------------------------------------
    def _refresh_access_token(self) -> None:
        conn = self.connection
        if not conn.refresh_token:
            self._mark_needs_reauth("The session expired and this connection has no refresh token.")
            raise SalesforceAuthError("Salesforce session expired; reconnect Salesforce.")
        response = self.session.post(
            f"{conn.login_url.rstrip('/')}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": conn.refresh_token,
                "client_id": settings.SALESFORCE_CLIENT_ID,
                "client_secret": settings.SALESFORCE_CLIENT_SECRET,
            },
        )
        body = response.json() if "json" in response.headers.get("Content-Type", "") else {}
        if response.status_code != 200 or "access_token" not in body:
            detail = body.get("error_description") or body.get("error") or response.text[:200]
            self._mark_needs_reauth(f"Token refresh refused: {detail}")
            raise SalesforceAuthError(f"Salesforce refused to refresh the session: {detail}")
        conn.access_token = body["access_token"]
        if body.get("instance_url"):
            conn.instance_url = body["instance_url"]
        SalesforceConnection.objects.filter(pk=conn.pk).update(
            access_token_encrypted=conn.access_token_encrypted, instance_url=conn.instance_url
        )
        self.sf.session_id = body["access_token"]
        self.sf._generate_headers()

    def _mark_needs_reauth(self, message: str) -> None:
        self.connection.status = ConnectionStatus.NEEDS_REAUTH
        SalesforceConnection.objects.filter(pk=self.connection.pk).update(
            status=ConnectionStatus.NEEDS_REAUTH, last_error=message, last_error_at=timezone.now()
        )

    # --- primitives ----------------------------------------------------------------------
    def query_pages(
        self, soql: str, *, include_deleted: bool = False, page_size: int = PAGE_SIZE
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the records of a SOQL query page by page (one API call per page)."""
        headers = {"Sforce-Query-Options": f"batchSize={page_size}"}
        page = self._call(
            lambda: self.sf.query(soql, include_deleted=include_deleted, headers=headers)
        )
        self.last_total_size = int(page.get("totalSize", 0))
        while True:
            yield page["records"]
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return
            url = page["nextRecordsUrl"]
            page = self._call(
                lambda url=url: self.sf.query_more(url, identifier_is_url=True, headers=headers)
            )

    def query_all(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        return [
            row for page in self.query_pages(soql, include_deleted=include_deleted) for row in page
        ]

    def composite(
        self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """One API call for up to 25 subrequests; returns their results in order."""
        if len(subrequests) > COMPOSITE_SIZE:
            raise ValueError(f"A composite request holds at most {COMPOSITE_SIZE} subrequests.")
        body = {"allOrNone": all_or_none, "compositeRequest": subrequests}
        result = self._call(lambda: self.sf.restful("composite", method="POST", json=body))
        return result["compositeResponse"]

    def collection(
        self,
        method: Literal["POST", "PATCH"],
        records: list[dict[str, Any]],
        *,
        all_or_none: bool = False,
    ) -> list[dict[str, Any]]:
        """Create (POST) or update (PATCH) up to 200 records in one call; per-record results."""
        if len(records) > COLLECTION_SIZE:
            raise ValueError(f"A collection holds at most {COLLECTION_SIZE} records.")
        body = {"allOrNone": all_or_none, "records": records}
        # Writes are not retried blindly: a lost answer may hide a committed create.
        return self._call(
            lambda: self.sf.restful("composite/sobjects", method=method, json=body),
            retry=method == "PATCH",
        )

    def describe(self, object_name: str) -> dict[str, Any]:
        """sObject describe, cached per org for an hour (fields rarely change)."""
        key = f"sf-describe:{self.connection.org_id}:{object_name}"
        cached = cache.get(key)
        if cached is None:
            cached = self._call(lambda: getattr(self.sf, object_name).describe())
            cache.set(key, cached, DESCRIBE_TTL_SECONDS)
        return cached

    def field_names(self, object_name: str) -> set[str]:
        return {f["name"] for f in self.describe(object_name)["fields"]}

    def changed_since(self, starts: dict[str, dt.datetime], end: dt.datetime) -> dict[str, Changes]:
        """getUpdated and getDeleted for up to 12 objects in one composite call, each from its
        own start: "did anything change?" for a whole org at the price of one API call."""
        base = f"/services/data/v{settings.SALESFORCE_API_VERSION}/sobjects"
        until = _iso(end)
        subrequests = [
            {
                "method": "GET",
                "url": f"{base}/{name}/{kind}/?{urlencode({'start': _iso(start), 'end': until})}",
                "referenceId": f"{kind}_{name}",
            }
            for name, start in starts.items()
            for kind in ("updated", "deleted")
        ]
        results = {r["referenceId"]: r for r in self.composite(subrequests)}
        out: dict[str, Changes] = {}
        for name in starts:
            updated, deleted = results[f"updated_{name}"], results[f"deleted_{name}"]
            for sub in (updated, deleted):
                if sub["httpStatusCode"] >= 300:
                    body = sub.get("body")
                    raise SalesforceRequestError(
                        f"{name}: {_error_message(body)}",
                        status=sub["httpStatusCode"],
                        code=_error_code(body),
                    )
            out[name] = Changes(
                updated_ids=updated["body"]["ids"],
                deleted_ids=[r["id"] for r in deleted["body"]["deletedRecords"]],
                covered_until=min(
                    _parse_sf_datetime(updated["body"]["latestDateCovered"]),
                    _parse_sf_datetime(deleted["body"]["latestDateCovered"]),
                ),
            )
        return out

    def limits(self) -> dict[str, Any]:
        return self._call(lambda: self.sf.limits())
