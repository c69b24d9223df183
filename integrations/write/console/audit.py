"""Read-only admin of what the write-back did: runs (a dry run as a page to read), the write
log and the records SalesMonk created — each row with names and links (visitor, company,
the Salesforce record by its mirrored name, its owner), a constant number of queries per
page, and columns short enough for a laptop screen."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from integrations.write.console.dry_run import dry_run_groups
from integrations.write.console.names import Names, names_load, person_and_company, truncated
from integrations.write.models import CreatedRecord, WriteLog, WriteRun

TENANT_FILTER = ("tenant", admin.RelatedOnlyFieldListFilter)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def when(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def counts_text(counts: dict[str, int]) -> str:
    """{"Lead.create": 140} → "Lead · create: 140": the writes first, largest first, then
    the intent bookkeeping."""
    items = sorted(counts.items(), key=lambda kv: ("." not in kv[0], -kv[1], kv[0]))
    return ", ".join(f"{k.replace('.', ' · ')}: {n}" for k, n in items)


@admin.register(WriteRun)
class WriteRunAdmin(ReadOnly):
    list_display = ["started", "tenant", "kind", "status", "summary", "api_calls", "took"]
    list_display_links = ["started"]
    list_filter = ["status", "dry_run", TENANT_FILTER, ("started_at", admin.DateFieldListFilter)]
    list_select_related = ["tenant"]
    search_fields = ["tenant__name", "tenant__slug", "error"]
    fields = [
        "tenant",
        "dry_run",
        "status",
        "started_at",
        "finished_at",
        "api_calls",
        "summary",
        "log",
    ]
    readonly_fields = ["summary", "log", "error_text"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.fields, "error_text"] if obj is not None and obj.error else self.fields

    @admin.display(description="Started", ordering="started_at")
    def started(self, obj: WriteRun) -> str:
        return when(obj.started_at)

    @admin.display(description="Kind", ordering="dry_run")
    def kind(self, obj: WriteRun) -> str:
        return "dry run" if obj.dry_run else "write"

    @admin.display(description="What")
    def summary(self, obj: WriteRun) -> SafeString:
        text = counts_text(obj.counts or {}) or (obj.error and f"error: {obj.error}") or "nothing"
        return truncated(text, 70)

    @admin.display(description="Write log")
    def log(self, obj: WriteRun) -> SafeString:
        url = reverse("admin:integrations_writelog_changelist")
        return format_html('<a href="{}?run__id__exact={}">the writes of this run</a>', url, obj.pk)

    @admin.display(description="Error")
    def error_text(self, obj: WriteRun) -> str:
        return obj.error

    @admin.display(description="Took")
    def took(self, obj: WriteRun) -> str:
        if not obj.finished_at:
            return ""
        return f"{(obj.finished_at - obj.started_at).total_seconds():.1f} s"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """A dry run is a page of tables, never its raw JSON; other runs link their log."""
        run = self.get_object(request, unquote(object_id))
        if run is None or not run.dry_run:
            return super().change_view(request, object_id, form_url, extra_context)
        if not self.has_view_or_change_permission(request, run):
            raise PermissionDenied
        groups = dry_run_groups(run=run, params=request.GET)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Dry run of {run.tenant}",
            "run": run,
            "groups": groups,
            "opts": self.model._meta,
            "original": run,
        }
        return TemplateResponse(request, "admin/integrations/writerun/dry_run.html", context)


class NamedRows(ReadOnly):
    """Loads the names of a page's Salesforce records and owners in one go."""

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        cl = super().get_changelist_instance(request)
        cl.result_list = rows = list(cl.result_list)
        names = names_load(
            records=[(r.tenant_id, r.object_name, r.remote_id) for r in rows],
            users=[(r.tenant_id, (r.fields_after or {}).get("OwnerId") or "") for r in rows],
        )
        for row in rows:
            row.names = names
        return cl

    @staticmethod
    def _names(obj: WriteLog) -> Names:
        return getattr(obj, "names", None) or names_load(
            records=[(obj.tenant_id, obj.object_name, obj.remote_id)],
            users=[(obj.tenant_id, (obj.fields_after or {}).get("OwnerId") or "")],
        )

    @admin.display(description="When", ordering="created_at")
    def when(self, obj: WriteLog) -> str:
        return when(obj.created_at)

    @admin.display(description="Write", ordering="object_name")
    def write(self, obj: WriteLog) -> str:
        return f"{obj.object_name} · {obj.operation}"

    @admin.display(description="Salesforce record")
    def salesforce(self, obj: WriteLog) -> SafeString:
        after = obj.fields_after or {}
        name = after.get("Name") or " ".join(
            str(after[k]) for k in ("FirstName", "LastName") if after.get(k)
        )
        name = name or after.get("Subject") or after.get("Title") or ""
        return self._names(obj).salesforce_link(obj.tenant_id, obj.remote_id, name)

    @admin.display(description="For")
    def for_whom(self, obj: WriteLog) -> SafeString:
        visitor = obj.intent.visitor if obj.intent is not None else None
        return person_and_company(visitor, visitor.company if visitor else None)

    @admin.display(description="Owner")
    def owner(self, obj: WriteLog) -> SafeString:
        names = self._names(obj)
        owner_id = (obj.fields_after or {}).get("OwnerId") or names.record_owner(
            obj.tenant_id, obj.remote_id
        )
        if obj.object_name not in ("Account", "Contact", "Lead"):
            return format_html("{}", "")
        return names.owner(obj.tenant_id, owner_id, obj.owner_rule)


@admin.register(WriteLog)
class WriteLogAdmin(NamedRows):
    list_display = ["when", "tenant", "write", "salesforce", "for_whom", "owner", "outcome"]
    list_display_links = ["when"]
    list_filter = [
        "result",
        "object_name",
        "operation",
        TENANT_FILTER,
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["tenant", "intent__visitor__company"]
    search_fields = [
        "key",
        "remote_id",
        "intent__visitor__email",
        "intent__visitor__company__domain",
    ]
    search_help_text = "Email, domain or Salesforce id."
    list_per_page = 50
    readonly_fields = ["salesforce", "for_whom", "owner", "error"]
    fields = [
        "tenant",
        "run",
        "object_name",
        "operation",
        "salesforce",
        "for_whom",
        "owner",
        "key",
        "result",
        "error",
        "fields_before",
        "fields_after",
        "api_call",
        "created_at",
    ]

    @admin.display(description="Result", ordering="result")
    def outcome(self, obj: WriteLog) -> SafeString:
        if not obj.error:
            return format_html("{}", obj.get_result_display())
        url = reverse("admin:integrations_writelog_change", args=[obj.pk])
        return format_html(
            '{}<br><a href="{}" class="quiet">{}</a>',
            obj.get_result_display(),
            url,
            truncated(obj.error, 50),
        )


@admin.register(CreatedRecord)
class CreatedRecordAdmin(NamedRows):
    list_display = ["when", "tenant", "object_name", "salesforce", "for_whom", "owner", "history"]
    list_display_links = ["when"]
    list_filter = ["object_name", TENANT_FILTER, ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["tenant", "intent__visitor__company"]
    search_fields = [
        "key",
        "remote_id",
        "intent__visitor__email",
        "intent__visitor__company__domain",
    ]
    search_help_text = "Email, domain or Salesforce id."
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreatedRecord]:
        return (
            super()
            .get_queryset(request)
            .filter(
                object_name__in=["Account", "Lead"],
                operation__in=["create", "upsert"],
                result__in=["success", "reconciled"],
            )
            .exclude(remote_id="")
        )

    @admin.display(description="Write log")
    def history(self, obj: CreatedRecord) -> SafeString:
        url = reverse("admin:integrations_writelog_changelist")
        return format_html('<a href="{}?q={}">all writes</a>', url, obj.remote_id)
