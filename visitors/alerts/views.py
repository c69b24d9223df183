"""Alerts pages: Slack webhooks and alert rules (owners and admins change them, members
read them), and the delivery log. Views only parse forms and call services/selectors."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from integrations.slack import client as slack
from salesmonk.post_only import post_only
from salesmonk.tenants.models import Tenant
from salesmonk.tenants.resolution import require_manager, tenant_member_required
from visitors.alerts import selectors, services
from visitors.models import AlertKind, AlertRule

LOG_PAGE_SIZE = 50


class WebhookForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        label="Channel",
        widget=forms.TextInput(attrs={"placeholder": "#sales"}),
        help_text="The channel the webhook posts to, as a reminder.",
    )
    url = forms.CharField(
        max_length=500,
        label="Webhook URL",
        widget=forms.URLInput(
            attrs={"placeholder": "https://hooks.slack.com/services/…", "autocomplete": "off"}
        ),
        help_text="In Slack: Apps → Incoming Webhooks → Add to Slack. Stored encrypted.",
    )

    def clean_url(self) -> str:
        try:
            return slack.webhook_url_check(self.cleaned_data["url"])
        except slack.InvalidWebhookUrl as exc:
            raise ValidationError(str(exc)) from exc


class RuleForm(forms.Form):
    name = forms.CharField(
        max_length=120, widget=forms.TextInput(attrs={"placeholder": "Owners: your account"})
    )
    kind = forms.ChoiceField(
        choices=AlertKind.choices, widget=forms.RadioSelect, initial=AlertKind.OWNED_ACCOUNT
    )
    segment = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="— choose a segment —",
        help_text="Only for segment alerts.",
    )
    webhook = forms.ModelChoiceField(queryset=None, label="Post to", empty_label=None)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args: Any, tenant: Tenant, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = selectors.segment_choices(tenant=tenant)
        self.fields["webhook"].queryset = selectors.webhook_list(tenant=tenant)
        if not editing:
            del self.fields["is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == AlertKind.SEGMENT and not data.get("segment"):
            self.add_error("segment", "Choose the segment to watch.")
        return data


def _errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _list_page(
    request: HttpRequest,
    *,
    webhook_form: WebhookForm | None = None,
    rule_form: RuleForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    webhooks = list(selectors.webhook_list(tenant=tenant))
    for webhook in webhooks:
        webhook.url_display = selectors.webhook_url_display(webhook)  # type: ignore[attr-defined]
    return render(
        request,
        "visitors/alerts/list.html",
        {
            "nav_section": "alerts",
            "rules": selectors.alert_rule_list(tenant=tenant),
            "webhooks": webhooks,
            "webhook_form": webhook_form or WebhookForm(),
            "rule_form": rule_form or RuleForm(tenant=tenant),
        },
        status=status,
    )


@tenant_member_required
def alert_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@tenant_member_required
@post_only("alert_list")
def alert_webhook_create(request: HttpRequest) -> HttpResponse:
    require_manager(request, to="change alerts")
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhook = services.webhook_create(
                tenant=request.tenant,  # type: ignore[attr-defined]
                acting_user=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                url=form.cleaned_data["url"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Added {webhook.name}. Send a test message to check it.")
            return redirect("alert_list")
    return _list_page(request, webhook_form=form, status=400)


@tenant_member_required
@post_only("alert_list")
def alert_webhook_test(request: HttpRequest, webhook_id: uuid.UUID) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    webhook = selectors.webhook_get(tenant=tenant, webhook_id=webhook_id)
    services.webhook_test_queue(tenant=tenant, acting_user=request.user, webhook=webhook)  # type: ignore[arg-type]
    messages.info(request, f"Test message to {webhook.name} queued; its result shows below.")
    return redirect("alert_list")


@tenant_member_required
@post_only("alert_list")
def alert_webhook_active(request: HttpRequest, webhook_id: uuid.UUID) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    webhook = selectors.webhook_get(tenant=tenant, webhook_id=webhook_id)
    active = request.POST.get("active") == "1"
    services.webhook_set_active(
        tenant=tenant,
        acting_user=request.user,  # type: ignore[arg-type]
        webhook=webhook,
        active=active,
    )
    state = "back on" if active else "off: its alerts stop posting"
    messages.success(request, f"{webhook.name} is {state}.")
    return redirect("alert_list")


@tenant_member_required
@post_only("alert_list")
def alert_webhook_delete(request: HttpRequest, webhook_id: uuid.UUID) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    webhook = selectors.webhook_get(tenant=tenant, webhook_id=webhook_id)
    rules = services.webhook_delete(tenant=tenant, acting_user=request.user, webhook=webhook)  # type: ignore[arg-type]
    suffix = f" and its {rules} alert(s)" if rules else ""
    messages.success(request, f"Deleted {webhook.name}{suffix}.")
    return redirect("alert_list")


@tenant_member_required
@post_only("alert_list")
def alert_rule_create(request: HttpRequest) -> HttpResponse:
    require_manager(request, to="change alerts")
    tenant = request.tenant  # type: ignore[attr-defined]
    form = RuleForm(request.POST, tenant=tenant)
    if form.is_valid():
        try:
            rule = services.alert_rule_create(
                tenant=tenant,
                acting_user=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                webhook=form.cleaned_data["webhook"],
                segment=form.cleaned_data["segment"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Alert “{rule.name}” created.")
            return redirect("alert_list")
    return _list_page(request, rule_form=form, status=400)


@tenant_member_required
@require_http_methods(["GET", "POST"])
def alert_rule_edit(request: HttpRequest, rule_id: uuid.UUID) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    rule: AlertRule = selectors.alert_rule_get(tenant=tenant, rule_id=rule_id)
    initial = {
        "name": rule.name,
        "kind": rule.kind,
        "segment": rule.segment_id,
        "webhook": rule.webhook_id,
        "is_active": rule.is_active,
    }
    form = RuleForm(request.POST or None, tenant=tenant, editing=True, initial=initial)
    status = 200
    if request.method == "POST":
        require_manager(request, to="change alerts")
        if form.is_valid():
            try:
                services.alert_rule_update(
                    tenant=tenant,
                    acting_user=request.user,  # type: ignore[arg-type]
                    rule=rule,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    webhook=form.cleaned_data["webhook"],
                    segment=form.cleaned_data["segment"],
                    is_active=form.cleaned_data["is_active"],
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, f"Alert “{rule.name}” saved.")
                return redirect("alert_list")
        status = 400
    return render(
        request,
        "visitors/alerts/rule_edit.html",
        {"nav_section": "alerts", "rule": rule, "form": form},
        status=status,
    )


@tenant_member_required
@post_only("alert_rule_edit", keep=("rule_id",))
def alert_rule_delete(request: HttpRequest, rule_id: uuid.UUID) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    rule = selectors.alert_rule_get(tenant=tenant, rule_id=rule_id)
    services.alert_rule_delete(tenant=tenant, acting_user=request.user, rule=rule)  # type: ignore[arg-type]
    messages.success(request, f"Alert “{rule.name}” deleted.")
    return redirect("alert_list")


@tenant_member_required
def alert_log(request: HttpRequest) -> HttpResponse:
    deliveries = selectors.alert_delivery_log(tenant=request.tenant)  # type: ignore[attr-defined]
    page = Paginator(deliveries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "visitors/alerts/log.html",
        {"nav_section": "alerts", "page": page, "deliveries": page.object_list},
    )
