"""Support staff's write-back tools: enable/disable writes per tenant (with a confirmation
page), write settings and field maps, dry runs, the write log, SalesMonk-created records
with links into Salesforce, and failed intents with a retry action. Thin: every change goes
through a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from crm.models import WritePolicy
from integrations.models import SalesforceConnection
from integrations.salesforce.client import SalesforceClient, SalesforceError
from integrations.tasks import write_sync_soon
from integrations.write.engine import WriteSkipped, write_dry_run
from integrations.write.fieldmaps import (
    ATTRIBUTES,
    FieldMappingError,
    field_mapping_delete,
    field_mapping_save,
)
from integrations.write.models import (
    SF_OBJECTS,
    CreatedRecord,
    FailedIntent,
    FieldMapping,
    SyncRule,
    TenantWrites,
    WriteLog,
    WriteRun,
    WriteSettings,
)
from integrations.write.policy import (
    FLAG_LABELS,
    WRITE_FLAGS,
    write_settings_update,
    writes_disable,
    writes_enable,
    writes_enable_preview,
)
from integrations.write.source import intents_retry


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EnableForm(forms.Form):
    flags = forms.MultipleChoiceField(
        choices=[(f, FLAG_LABELS[f]) for f in WRITE_FLAGS], widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="What the customer agreed to."
    )


def backfill_words(preview: dict[str, int]) -> str:
    """{"people": 185, "companies": 78} -> "185 people and 78 companies"."""
    words = [f"{n:,} {what}" for what, n in preview.items() if n]
    if not words:
        return "nothing already seen"
    return ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]


def _policy(tenant: Any) -> WritePolicy | None:
    try:
        return tenant.write_policy
    except WritePolicy.DoesNotExist:
        return None


@admin.register(TenantWrites)
class TenantWritesAdmin(_ReadOnly):
    list_display = ["name", "slug", "enabled_writes", "approved_by", "approved_at"]
    list_select_related = ["write_policy", "write_policy__approved_by"]
    search_fields = ["name", "slug"]
    actions = ["enable_writes", "disable_writes", "dry_run"]

    @admin.display(description="Enabled writes")
    def enabled_writes(self, obj: TenantWrites) -> str:
        policy = _policy(obj)
        on = [FLAG_LABELS[f] for f in WRITE_FLAGS if policy and getattr(policy, f)]
        return ", ".join(on) or "none"

    @admin.display(description="Approved by")
    def approved_by(self, obj: TenantWrites) -> str:
        policy = _policy(obj)
        return str(policy.approved_by or "") if policy else ""

    @admin.display(description="Approved at")
    def approved_at(self, obj: TenantWrites) -> Any:
        policy = _policy(obj)
        return policy.approved_at if policy else None

    @admin.action(description="Enable Salesforce writes…")
    def enable_writes(
        self, request: HttpRequest, queryset: QuerySet[TenantWrites]
    ) -> HttpResponse | None:
        """A confirmation page first: which writes, what they will write at once for the
        visitors already seen, and the customer's agreement."""
        if request.POST.get("confirm"):
            form = EnableForm(request.POST)
            if form.is_valid():
                flags = form.cleaned_data["flags"]
                for tenant in queryset:
                    preview = writes_enable_preview(tenant=tenant, flags=flags)
                    writes_enable(
                        tenant=tenant,
                        acting_user=request.user,  # type: ignore[arg-type]
                        flags=flags,
                        note=form.cleaned_data["note"],
                    )
                    messages.success(
                        request,
                        f"Writes enabled for {tenant.name}: {backfill_words(preview)} "
                        "queued for Salesforce; new visitors follow within seconds.",
                    )
                return None
        else:
            form = EnableForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Enable Salesforce writes",
            "previews": [
                {
                    "tenant": tenant,
                    "kinds": [
                        (FLAG_LABELS[flag], backfill_words(preview))
                        for flag in WRITE_FLAGS
                        if (preview := writes_enable_preview(tenant=tenant, flags=[flag]))
                    ],
                    "all": backfill_words(writes_enable_preview(tenant=tenant, flags=WRITE_FLAGS)),
                }
                for tenant in queryset
            ],
            "form": form,
            "action": "enable_writes",
            "opts": self.model._meta,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/integrations/writes_enable.html", context)

    @admin.action(description="Disable all Salesforce writes (instant)")
    def disable_writes(self, request: HttpRequest, queryset: QuerySet[TenantWrites]) -> None:
        for tenant in queryset:
            writes_disable(tenant=tenant, acting_user=request.user)  # type: ignore[arg-type]
        messages.success(request, f"Writes disabled for {queryset.count()} workspace(s).")

    @admin.action(description="Dry run: preview the next writes")
    def dry_run(
        self, request: HttpRequest, queryset: QuerySet[TenantWrites]
    ) -> HttpResponse | None:
        last = None
        for tenant in queryset:
            try:
                last = write_dry_run(tenant=tenant)
            except WriteSkipped as exc:
                messages.warning(request, f"{tenant}: {exc}")
        if last is not None and queryset.count() == 1:
            return HttpResponseRedirect(
                reverse("admin:integrations_writerun_change", args=[last.pk])
            )
        return None


@admin.register(WriteRun)
class WriteRunAdmin(_ReadOnly):
    list_display = ["started_at", "tenant", "dry_run", "status", "api_calls", "finished_at"]
    list_filter = ["status", "dry_run"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__name", "error"]
    date_hierarchy = "started_at"


def _sf_link(obj: WriteLog) -> str:
    conn = SalesforceConnection.objects.filter(tenant_id=obj.tenant_id).first()
    if not obj.remote_id or conn is None:
        return ""
    return format_html(
        '<a href="{}/{}" target="_blank" rel="noopener">{}</a>',
        conn.instance_url,
        obj.remote_id,
        obj.remote_id,
    )


@admin.register(WriteLog)
class WriteLogAdmin(_ReadOnly):
    list_display = [
        "created_at",
        "tenant",
        "object_name",
        "operation",
        "salesforce",
        "key",
        "result",
        "owner_rule",
        "api_call",
    ]
    list_filter = ["result", "object_name", "operation", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["remote_id", "key", "error"]
    date_hierarchy = "created_at"

    @admin.display(description="Salesforce record")
    def salesforce(self, obj: WriteLog) -> str:
        return _sf_link(obj)


@admin.register(CreatedRecord)
class CreatedRecordAdmin(_ReadOnly):
    list_display = ["created_at", "tenant", "object_name", "salesforce", "key", "history"]
    list_filter = ["object_name", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["remote_id", "key"]
    date_hierarchy = "created_at"

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

    @admin.display(description="Salesforce record")
    def salesforce(self, obj: CreatedRecord) -> str:
        return _sf_link(obj)

    @admin.display(description="Write log")
    def history(self, obj: CreatedRecord) -> str:
        url = reverse("admin:integrations_writelog_changelist")
        return format_html('<a href="{}?q={}">all writes</a>', url, obj.remote_id)


@admin.register(FailedIntent)
class FailedIntentAdmin(_ReadOnly):
    list_display = ["updated_at", "tenant", "kind", "status", "attempts", "last_error"]
    list_filter = ["status", "kind", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["last_error"]
    actions = ["retry"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FailedIntent]:
        return super().get_queryset(request).exclude(status="done")

    @admin.action(description="Retry the selected failed intents")
    def retry(self, request: HttpRequest, queryset: QuerySet[FailedIntent]) -> None:
        retried, selected = 0, queryset.count()
        for tenant_id in set(queryset.values_list("tenant_id", flat=True)):
            tenant = TenantWrites.objects.get(pk=tenant_id)
            ids = queryset.filter(tenant_id=tenant_id).values_list("pk", flat=True)
            retried += intents_retry(tenant=tenant, intent_ids=ids)
            write_sync_soon(tenant_id)
        others = selected - retried
        note = f"; {others} had not failed and are already waiting to be sent" if others else ""
        messages.success(request, f"{retried} failed intent(s) queued again{note}.")


class FieldMappingForm(forms.ModelForm):
    attribute = forms.ChoiceField(choices=[(a, a) for a in ATTRIBUTES])

    class Meta:
        model = FieldMapping
        fields = ["tenant", "object_name", "attribute", "sf_field", "rule"]


@admin.register(FieldMapping)
class FieldMappingAdmin(admin.ModelAdmin):
    """Validated against the org's describe on save; read-only fields are refused."""

    form = FieldMappingForm
    list_display = ["tenant", "object_name", "attribute", "sf_field", "rule", "created_by"]
    list_filter = ["object_name", "rule", "tenant"]
    list_select_related = ["tenant", "created_by"]

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST":
            self._describe_warm(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _describe_warm(self, request: HttpRequest, object_id: str | None) -> None:
        """Fetch the describe `save_model` validates against now, before the admin opens
        its transaction: no Salesforce call is made while it holds the database."""
        tenant_id, object_name = request.POST.get("tenant"), request.POST.get("object_name")
        if object_id and not (tenant_id and object_name):
            current = self.get_object(request, object_id)
            if current is not None:
                tenant_id = tenant_id or str(current.tenant_id)
                object_name = object_name or current.object_name
        if not tenant_id or object_name not in dict(SF_OBJECTS):
            return
        try:
            conn = SalesforceConnection.objects.filter(tenant_id=tenant_id).first()
            if conn is not None:
                SalesforceClient(conn, purpose="read").describe(object_name)
        except (ValueError, ValidationError, SalesforceError):
            return  # save_model reports what is wrong

    def save_model(self, request: HttpRequest, obj: FieldMapping, form: Any, change: bool) -> None:
        conn = SalesforceConnection.objects.filter(tenant=obj.tenant).first()
        try:
            if conn is None:
                raise FieldMappingError("Salesforce is not connected for this workspace.")
            describe = SalesforceClient(conn, purpose="read").describe(obj.object_name)
            saved = field_mapping_save(
                tenant=obj.tenant,
                acting_user=request.user,  # type: ignore[arg-type]
                object_name=obj.object_name,
                attribute=obj.attribute,
                sf_field=obj.sf_field,
                rule=obj.rule or SyncRule.ALWAYS,
                describe=describe,
            )
            obj.pk = saved.pk
        except (FieldMappingError, SalesforceError) as exc:
            messages.error(request, str(exc))
            obj.pk = None

    def response_add(self, request: HttpRequest, obj: FieldMapping, *args: Any) -> HttpResponse:
        if obj.pk is None:
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, *args)

    def delete_model(self, request: HttpRequest, obj: FieldMapping) -> None:
        field_mapping_delete(tenant=obj.tenant, acting_user=request.user, mapping_id=obj.pk)  # type: ignore[arg-type]


@admin.register(WriteSettings)
class WriteSettingsAdmin(admin.ModelAdmin):
    list_display = ["tenant", "default_lead_owner_remote_id", "lead_source", "modified_at"]
    list_select_related = ["tenant"]
    fields = ["tenant", "default_lead_owner_remote_id", "lead_source"]

    def save_model(self, request: HttpRequest, obj: WriteSettings, form: Any, change: bool) -> None:
        try:
            saved = write_settings_update(
                tenant=obj.tenant,
                acting_user=request.user,  # type: ignore[arg-type]
                default_lead_owner_remote_id=obj.default_lead_owner_remote_id,
                lead_source=obj.lead_source,
            )
            obj.pk = saved.pk
        except ValueError as exc:
            messages.error(request, str(exc))
