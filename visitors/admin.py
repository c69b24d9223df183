"""Support staff's view of tracking: sites (created through the service, with an audit row),
visitors and companies (read-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from salesmonk.tenants.models import Tenant
from visitors.models import AlertDelivery, Company, IpRange, Site, Visitor
from visitors.tracking.services import site_create


class SiteCreateForm(forms.ModelForm):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.order_by("name"))
    domains = forms.CharField(
        help_text="Comma-separated host names the snippet may send from (subdomains included)."
    )

    class Meta:
        model = Site
        fields = ["tenant", "name"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        domains = [d.strip() for d in data.get("domains", "").split(",") if d.strip()]
        if not domains:
            raise ValidationError({"domains": "List at least one domain."})
        data["domain_list"] = domains
        return data


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "key", "domains", "is_active", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["tenant"]
    search_fields = ["name", "key", "tenant__name"]
    readonly_fields = ["key", "allowed_domains", "created_at"]
    fields = ["tenant", "name", "key", "allowed_domains", "is_active", "created_at"]

    @admin.display(description="Allowed domains")
    def domains(self, obj: Site) -> str:
        return ", ".join(obj.allowed_domains)

    def get_form(self, request: HttpRequest, obj: Site | None = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = SiteCreateForm
            kwargs["fields"] = ["tenant", "name", "domains"]
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Site | None = None) -> list[str]:
        return ["tenant", "name", "domains"] if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Site | None = None) -> list[str]:
        return [] if obj is None else [*self.readonly_fields, "tenant"]

    def save_model(self, request: HttpRequest, obj: Site, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = site_create(
            tenant=form.cleaned_data["tenant"],
            acting_user=request.user,
            name=form.cleaned_data["name"],
            allowed_domains=form.cleaned_data["domain_list"],
        )
        obj.pk = created.pk


@admin.register(Visitor)
class VisitorAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["email", "tenant", "company", "total_sessions", "last_seen_at"]
    list_select_related = ["tenant", "company"]
    search_fields = ["email", "first_name", "last_name", "tenant__name"]
    date_hierarchy = "last_seen_at"


@admin.register(Company)
class CompanyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["domain", "name", "tenant", "created_at"]
    list_select_related = ["tenant"]
    search_fields = ["domain", "name", "tenant__name"]


@admin.register(IpRange)
class IpRangeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Loaded from CSV with `manage.py load_ip_ranges`."""

    list_display = ["domain", "name"]
    search_fields = ["domain", "name"]


# --- Slack alerts: what was posted, for support (read-only) --------------------------------


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Answers "why did (or didn't) my rep get pinged?": status, attempts and Slack's error.
    The webhook URL is a secret and is never shown."""

    list_display = ["created_at", "tenant", "rule", "webhook", "visitor", "status", "attempts"]
    list_filter = ["status", "rule__kind", "created_at"]
    list_select_related = ["tenant", "rule__webhook", "visitor"]
    search_fields = ["tenant__name", "rule__name", "visitor__email", "last_error"]
    date_hierarchy = "created_at"
    fields = [
        "tenant",
        "rule",
        "webhook",
        "visitor",
        "session",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "text",
        "blocks",
        "created_at",
    ]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="Webhook", ordering="rule__webhook__name")
    def webhook(self, obj: AlertDelivery) -> str:
        return f"{obj.rule.webhook.name}{'' if obj.rule.webhook.is_active else ' (off)'}"
