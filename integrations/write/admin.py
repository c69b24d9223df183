"""Support staff's write-back tools: enable/disable writes per tenant (with a confirmation
page), dry runs, and write intents with a retry action. Write settings, field maps, runs,
the write log and SalesMonk-created records are in `integrations.write.console`, imported
here so they register. Thin: every change goes through a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crm.models import WritePolicy
from integrations.tasks import write_sync_soon
from integrations.write.console import audit as _audit  # noqa: F401  (registers its admins)
from integrations.write.console.audit import ReadOnly, when
from integrations.write.console.configure import settings_url
from integrations.write.console.names import person_and_company, truncated
from integrations.write.engine import WriteSkipped, write_dry_run
from integrations.write.models import FailedIntent, TenantWrites
from integrations.write.policy import (
    FLAG_LABELS,
    WRITE_FLAGS,
    writes_disable,
    writes_enable,
    writes_enable_preview,
)
from integrations.write.source import intents_retry


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
class TenantWritesAdmin(ReadOnly):
    list_display = ["name", "slug", "enabled_writes", "approved_by", "approved_at", "settings"]
    list_select_related = ["write_policy", "write_policy__approved_by"]
    search_fields = ["name", "slug"]
    actions = ["enable_writes", "disable_writes", "dry_run"]

    @admin.display(description="Enabled writes")
    def enabled_writes(self, obj: TenantWrites) -> str:
        policy = _policy(obj)
        on = [FLAG_LABELS[f] for f in WRITE_FLAGS if policy and getattr(policy, f)]
        return ", ".join(on) or "none"

    @admin.display(description="Write settings")
    def settings(self, obj: TenantWrites) -> SafeString:
        return format_html('<a href="{}">owner, LeadSource</a>', settings_url(obj.pk))

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


@admin.register(FailedIntent)
class FailedIntentAdmin(ReadOnly):
    list_display = ["updated", "tenant", "for_whom", "kind", "status", "attempts", "error"]
    list_display_links = ["updated"]
    list_filter = [
        "status",
        "kind",
        ("tenant", admin.RelatedOnlyFieldListFilter),
        ("updated_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["tenant", "visitor__company"]
    search_fields = ["visitor__email", "visitor__company__domain", "last_error"]
    search_help_text = "Email, domain or error."
    list_per_page = 50
    actions = ["retry"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FailedIntent]:
        return super().get_queryset(request).exclude(status="done")

    @admin.display(description="Updated", ordering="updated_at")
    def updated(self, obj: FailedIntent) -> str:
        return when(obj.updated_at)

    @admin.display(description="For")
    def for_whom(self, obj: FailedIntent) -> SafeString:
        return person_and_company(obj.visitor, obj.visitor.company)

    @admin.display(description="Error")
    def error(self, obj: FailedIntent) -> SafeString:
        return truncated(obj.last_error, 60)

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
