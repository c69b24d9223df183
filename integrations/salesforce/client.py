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
from typing import Any, Literal, NoReturn, TypeVar
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import F
from django.utils import timezone
from simple_salesforce import Salesforce
from simple_salesforce import exceptions as sf_exc

from integrations.models import ApiUsageDay, ConnectionStatus, SalesforceConnection
from integrations.salesforce.transport import SessionRejected, build_session
from salesmonk.retry import backoff_seconds

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


class TenantBudgetExhausted(ApiBudgetExhausted):
    """Our own daily budget for the tenant is spent (not the org's): resume at UTC midnight."""


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
    """What getUpdated/getDeleted said about one object. `error` is set instead when
    Salesforce refused the window (e.g. its delete log was purged past our start): the
    caller then reads the object in full rather than trusting a gap."""

    updated_ids: list[str]
    deleted_ids: list[str]
    covered_until: dt.datetime | None
    deleted_since: dt.datetime | None = None
    error: str = ""


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
        self.session = build_session()
        self.session.hooks["response"].append(self._count_call)
        self.sf = self._salesforce(connection.instance_url, connection.access_token)

    def _salesforce(self, instance_url: str, access_token: str) -> Salesforce:
        return Salesforce(
            instance_url=instance_url,
            session_id=access_token,
            session=self.session,
            version=settings.SALESFORCE_API_VERSION,
        )

    # --- accounting ----------------------------------------------------------------------
    def _limit(self) -> int:
        """Calls allowed per UTC day for this purpose: reads stop short of the share kept
        for writes."""
        conn = self.connection
        budget = conn.api_daily_budget
        if self.purpose == "read":
            budget -= budget * conn.read_reserve_percent // 100
        return budget

    def _reserve(self, calls: int = 1) -> None:
        """Take `calls` from today's budget before making them, in one conditional UPDATE,
        so concurrent clients of a tenant (reads and writes, overlapping runs) share it."""
        if (
            self.usage.org_limit
            and self.usage.org_used is not None
            and self.usage.org_used + calls > self.usage.org_limit
        ):
            raise ApiBudgetExhausted("The Salesforce org's daily API allocation is spent.")
        tenant, day, limit = self.connection.tenant, timezone.now().date(), self._limit()
        reads = calls if self.purpose == "read" else 0
        taken = ApiUsageDay.objects.filter(tenant=tenant, day=day, calls__lte=limit - calls).update(
            calls=F("calls") + calls, read_calls=F("read_calls") + reads
        )
        if not taken and calls <= limit:
            _, created = ApiUsageDay.objects.get_or_create(
                tenant=tenant, day=day, defaults={"calls": calls, "read_calls": reads}
            )
            taken = created or ApiUsageDay.objects.filter(
                tenant=tenant, day=day, calls__lte=limit - calls
            ).update(calls=F("calls") + calls, read_calls=F("read_calls") + reads)
        if not taken:
            raise TenantBudgetExhausted(
                f"Today's Salesforce API budget for {self.purpose}s is spent "
                f"({self.connection.api_daily_budget} calls a day)."
            )

    def _count_call(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Response hook: count REST answers and remember what the org says of its whole
        allocation. Never raises: a bookkeeping failure must not lose Salesforce's answer."""
        if "/services/data/" not in urlsplit(response.url).path:
            return
        self.usage.calls += 1
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if not match:
            return
        self.usage.org_used, self.usage.org_limit = int(match.group(1)), int(match.group(2))
        try:
            ApiUsageDay.objects.filter(
                tenant=self.connection.tenant, day=timezone.now().date()
            ).update(org_used=self.usage.org_used, org_limit=self.usage.org_limit)
        except DatabaseError:
            log.warning("Could not record the org's API usage", exc_info=True)

    # --- the call wrapper ----------------------------------------------------------------
    def _call(self, fn: Callable[[], T], *, calls: int = 1, retry: bool = True) -> T:
        """Run one simple-salesforce call with budget, refresh and retry rules applied."""
        attempt, refreshed = 0, False
        while True:
            self._reserve(calls)
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
                delay = backoff_seconds(attempt, first=settings.SALESFORCE_RETRY_BACKOFF_SECONDS)
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
        """Get a new access token with the refresh token, once, without holding a database
        transaction over the HTTP call: the new tokens are saved only if nobody changed the
        row meanwhile (another worker's fresher token is then reused), a rotated refresh
        token is kept, and a connection disconnected meanwhile stays disconnected."""
        conn = self._connected_row()
        if conn.access_token and conn.access_token != self.sf.session_id:
            self._use(conn.instance_url, conn.access_token)  # another worker refreshed
            return
        if not conn.refresh_token:
            self._fail_auth("The session expired and this connection has no refresh token.")
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
            latest = self._connected_row()
            if latest.access_token != conn.access_token:  # a rotation raced us: theirs works
                self._use(latest.instance_url, latest.access_token)
                return
            detail = body.get("error_description") or body.get("error") or response.text[:200]
            self._fail_auth(f"Token refresh refused: {detail}")
        previous = conn.access_token_encrypted
        conn.access_token = body["access_token"]
        if body.get("refresh_token"):
            conn.refresh_token = body["refresh_token"]
        conn.instance_url = body.get("instance_url") or conn.instance_url
        saved = SalesforceConnection.objects.filter(
            pk=conn.pk, status=ConnectionStatus.CONNECTED, access_token_encrypted=previous
        ).update(
            access_token_encrypted=conn.access_token_encrypted,
            refresh_token_encrypted=conn.refresh_token_encrypted,
            instance_url=conn.instance_url,
            modified_at=timezone.now(),
        )
        if not saved:
            conn = self._connected_row()
        self._use(conn.instance_url, conn.access_token)

    def _connected_row(self) -> SalesforceConnection:
        conn = SalesforceConnection.objects.filter(pk=self.connection.pk).first()
        if conn is None or conn.status != ConnectionStatus.CONNECTED:
            raise SalesforceAuthError("Salesforce is no longer connected for this workspace.")
        return conn

    def _fail_auth(self, message: str) -> NoReturn:
        self._mark_needs_reauth(message)
        raise SalesforceAuthError(f"Salesforce session expired: {message}")

    def _use(self, instance_url: str, access_token: str) -> None:
        self.connection.instance_url = instance_url
        self.connection.access_token = access_token
        if urlsplit(instance_url).netloc == self.sf.sf_instance:
            self.sf.session_id = access_token
            self.sf._generate_headers()
        else:
            self.sf = self._salesforce(instance_url, access_token)

    def _mark_needs_reauth(self, message: str) -> None:
        """Only a connected connection turns into "needs reconnecting" (a disconnected one
        stays disconnected)."""
        self.connection.status = ConnectionStatus.NEEDS_REAUTH
        SalesforceConnection.objects.filter(
            pk=self.connection.pk, status=ConnectionStatus.CONNECTED
        ).update(
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

    def query_more(self, next_records_url: str) -> dict[str, Any]:
        """The next page of a query answered inside a composite call."""
        return self._call(lambda: self.sf.query_more(next_records_url, identifier_is_url=True))

    def query_all(self, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        return [
            row for page in self.query_pages(soql, include_deleted=include_deleted) for row in page
        ]

    def composite(
        self, subrequests: list[dict[str, Any]], *, all_or_none: bool = False, retry: bool = False
    ) -> list[dict[str, Any]]:
        """One API call for up to 25 subrequests; returns their results in order. Retried
        on 5xx only when asked (read-only subrequests): a lost answer may hide a write."""
        if len(subrequests) > COMPOSITE_SIZE:
            raise ValueError(f"A composite request holds at most {COMPOSITE_SIZE} subrequests.")
        body = {"allOrNone": all_or_none, "compositeRequest": subrequests}
        result = self._call(
            lambda: self.sf.restful("composite", method="POST", json=body), retry=retry
        )
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

    def collection_upsert(
        self, object_name: str, external_id_field: str, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Create-or-update up to 200 records by an external id in one call. Idempotent by
        construction, so it is safe to retry even when an answer was lost."""
        if len(records) > COLLECTION_SIZE:
            raise ValueError(f"A collection holds at most {COLLECTION_SIZE} records.")
        body = {"allOrNone": False, "records": records}
        path = f"composite/sobjects/{object_name}/{external_id_field}"
        return self._call(lambda: self.sf.restful(path, method="PATCH", json=body))

    def describe_many(self, object_names: list[str]) -> dict[str, dict[str, Any]]:
        """Describes of several objects: cached ones for free, the rest in one composite."""
        out: dict[str, dict[str, Any]] = {}
        missing = []
        for name in object_names:
            cached = cache.get(self._describe_key(name))
            if cached is None:
                missing.append(name)
            else:
                out[name] = cached
        if missing:
            base = f"/services/data/v{settings.SALESFORCE_API_VERSION}/sobjects"
            subrequests = [
                {"method": "GET", "url": f"{base}/{name}/describe", "referenceId": f"d_{name}"}
                for name in missing
            ]
            for name, sub in zip(missing, self.composite(subrequests, retry=True), strict=True):
                if sub["httpStatusCode"] >= 300:
                    raise SalesforceRequestError(
                        _error_message(sub.get("body")), code=_error_code(sub.get("body"))
                    )
                out[name] = sub["body"]
                cache.set(self._describe_key(name), sub["body"], DESCRIBE_TTL_SECONDS)
        return out

    def describe(self, object_name: str) -> dict[str, Any]:
        """sObject describe, cached per org for an hour (fields rarely change)."""
        cached = cache.get(key := self._describe_key(object_name))
        if cached is None:
            cached = self._call(lambda: getattr(self.sf, object_name).describe())
            cache.set(key, cached, DESCRIBE_TTL_SECONDS)
        return cached

    def _describe_key(self, object_name: str) -> str:
        conn = self.connection
        version = settings.SALESFORCE_API_VERSION
        return f"sf-describe:{conn.pk}:{conn.org_id}:{version}:{object_name}"

    def forget_describe(self, object_name: str) -> None:
        """After Salesforce refused a field we took from describe (it was deleted)."""
        cache.delete(self._describe_key(object_name))

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
        results = {r["referenceId"]: r for r in self.composite(subrequests, retry=True)}
        out: dict[str, Changes] = {}
        for name in starts:
            updated, deleted = results[f"updated_{name}"], results[f"deleted_{name}"]
            failed = next((sub for sub in (updated, deleted) if sub["httpStatusCode"] >= 300), None)
            if failed is not None:
                message = f"{_error_code(failed.get('body'))}: {_error_message(failed.get('body'))}"
                out[name] = Changes([], [], None, error=message)
                continue
            earliest = deleted["body"].get("earliestDateAvailable")
            out[name] = Changes(
                updated_ids=updated["body"]["ids"],
                deleted_ids=[r["id"] for r in deleted["body"]["deletedRecords"]],
                covered_until=min(
                    _parse_sf_datetime(updated["body"]["latestDateCovered"]),
                    _parse_sf_datetime(deleted["body"]["latestDateCovered"]),
                ),
                deleted_since=_parse_sf_datetime(earliest) if earliest else None,
            )
        return out

    def limits(self) -> dict[str, Any]:
        return self._call(lambda: self.sf.limits())
