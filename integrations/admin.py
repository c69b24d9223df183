"""Support staff's view of Salesforce connections and syncs (read-only; tokens never shown)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_q.tasks import async_task

from integrations.models import ApiUsageDay, SalesforceConnection, SyncRun, SyncState
from integrations.schedules import READ_SYNC_TASK


class ReadOnlyAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SalesforceConnection)
class SalesforceConnectionAdmin(ReadOnlyAdmin):
    list_display = [
        "tenant",
        "status",
        "org_id",
        "installer_username",
        "api_calls_today",
        "api_daily_budget",
        "last_sync_at",
        "last_error_at",
    ]
    list_filter = ["status"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__name", "tenant__slug", "org_id", "installer_username"]
    exclude = [
        "access_token_encrypted",
        "refresh_token_encrypted",
        "salesmonk_fields_missing",
        "describe_checked_at",
    ]
    readonly_fields = ["salesmonk_fields"]
    actions = ["sync_now"]

    @admin.display(description="SalesMonk custom fields missing (skipped on writes)")
    def salesmonk_fields(self, obj: SalesforceConnection) -> str:
        """Stored by the background describe refresh: this page never calls Salesforce."""
        missing = obj.salesmonk_fields_missing
        if missing is None:
            return "not checked yet"
        checked = f" (checked {obj.describe_checked_at:%Y-%m-%d %H:%M} UTC)"
        if not missing:
            return f"none{checked}"
        return "; ".join(f"{o}: {', '.join(names)}" for o, names in missing.items()) + checked

    @admin.display(description="API calls today")
    def api_calls_today(self, obj: SalesforceConnection) -> int:
        day = timezone.now().date()
        usage = ApiUsageDay.objects.for_tenant(obj.tenant).filter(day=day).first()
        return usage.calls if usage else 0

    @admin.action(description="Sync now (incremental)")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[SalesforceConnection]) -> None:
        queued = 0
        for conn in queryset.filter(status="connected"):
            async_task(READ_SYNC_TASK, str(conn.tenant_id))
            queued += 1
        messages.success(request, f"Queued {queued} sync(s); skipped {queryset.count() - queued}.")


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "tenant", "kind", "status", "api_calls", "finished_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__name", "error"]
    date_hierarchy = "started_at"


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin):
    list_display = [
        "tenant",
        "object_name",
        "watermark",
        "changes_checked_until",
        "last_full_sync_at",
    ]
    list_filter = ["object_name"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__name"]


@admin.register(ApiUsageDay)
class ApiUsageDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "tenant", "calls", "read_calls", "org_used", "org_limit"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__name"]
    date_hierarchy = "day"


from integrations.write import admin as _write_admin  # noqa: E402, F401  (registers its admins)
