"""Admin for what support configures per tenant: write settings (one page per tenant,
opened on demand, never added by hand) and field mappings (fields offered from the org's
describe). Every save goes through `policy` or `fieldmaps`, which audit it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse

from integrations.models import SalesforceConnection
from integrations.salesforce.client import SalesforceClient, SalesforceError
from integrations.write.console.forms import FieldMappingForm, WriteSettingsForm
from integrations.write.console.names import Names, names_load
from integrations.write.fieldmaps import field_mapping_delete, field_mapping_save
from integrations.write.models import SF_OBJECTS, FieldMapping, SyncRule, WriteSettings
from integrations.write.policy import write_settings_for, write_settings_update
from salesmonk.tenants.models import Tenant

TENANT_FILTER = ("tenant", admin.RelatedOnlyFieldListFilter)


def settings_url(tenant_id: Any) -> str:
    """The write-settings page of a tenant, created on first visit."""
    return f"{reverse('admin:integrations_writesettings_open')}?tenant={tenant_id}"


@admin.register(WriteSettings)
class WriteSettingsAdmin(admin.ModelAdmin):
    """No Add: each tenant has one row, made by `write_settings_for` when first opened."""

    form = WriteSettingsForm
    change_list_template = "admin/integrations/writesettings/change_list.html"
    list_display = ["tenant", "default_lead_owner", "lead_source", "modified_at"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__name", "tenant__slug"]
    fields = ["tenant", "default_lead_owner_remote_id", "lead_source"]
    readonly_fields = ["tenant"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.open_view)
        return [path("open/", view, name="integrations_writesettings_open"), *super().get_urls()]

    def open_view(self, request: HttpRequest) -> HttpResponse:
        """`?tenant=<id>`: that tenant's settings page, its row made if it has none."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            tenant = get_object_or_404(Tenant, pk=request.GET.get("tenant", ""))
        except ValidationError as exc:
            raise Http404("No such workspace.") from exc
        ws = write_settings_for(tenant=tenant)
        return HttpResponseRedirect(
            reverse("admin:integrations_writesettings_change", args=[ws.pk])
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        without = Tenant.objects.filter(write_settings__isnull=True).order_by("name")
        context = {**(extra_context or {}), "without_settings": without.only("pk", "name")}
        return super().changelist_view(request, context)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        cl = super().get_changelist_instance(request)
        cl.result_list = list(cl.result_list)
        names = names_load(
            records=[],
            users=[(ws.tenant_id, ws.default_lead_owner_remote_id) for ws in cl.result_list],
        )
        for ws in cl.result_list:
            ws.names = names
        return cl

    @admin.display(description="Default lead owner")
    def default_lead_owner(self, obj: WriteSettings) -> str:
        rid = obj.default_lead_owner_remote_id
        if not rid:
            return "the user who connected"
        names: Names | None = getattr(obj, "names", None)
        return (names.user_name(obj.tenant_id, rid) if names else "") or rid

    def save_model(self, request: HttpRequest, obj: WriteSettings, form: Any, change: bool) -> None:
        write_settings_update(
            tenant=obj.tenant,
            acting_user=request.user,  # type: ignore[arg-type]
            default_lead_owner_remote_id=form.cleaned_data["default_lead_owner_remote_id"],
            lead_source=form.cleaned_data["lead_source"],
        )


@admin.register(FieldMapping)
class FieldMappingAdmin(admin.ModelAdmin):
    """The Salesforce field is picked from the org's describe, fetched before the admin
    opens its transaction; a refused mapping is a form error, the input kept."""

    form = FieldMappingForm
    change_form_template = "admin/integrations/fieldmapping/change_form.html"
    list_display = ["tenant", "object_name", "attribute", "sf_field", "rule", "created_by"]
    list_filter = ["object_name", "rule", TENANT_FILTER]
    list_select_related = ["tenant", "created_by"]
    search_fields = ["tenant__name", "sf_field", "attribute"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["tenant"] if obj is not None else []

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Outside the admin's transaction: no Salesforce call is made while it is open.
        request.field_describe = self._describe_fetch(request, object_id)  # type: ignore[attr-defined]
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _describe_fetch(
        self, request: HttpRequest, object_id: str | None
    ) -> tuple[dict[str, Any] | None, str]:
        """The describe of the chosen object (cached an hour), or why there is none."""
        source = request.POST if request.method == "POST" else request.GET
        tenant_id, object_name = source.get("tenant"), source.get("object_name")
        if object_id:
            current = self.get_object(request, object_id)
            if current is not None:
                tenant_id = str(current.tenant_id)
                object_name = object_name or current.object_name
        if not tenant_id or object_name not in dict(SF_OBJECTS):
            return None, "Choose the workspace and the object: their fields are then listed."
        try:
            conn = SalesforceConnection.objects.filter(tenant_id=tenant_id).first()
        except (ValueError, ValidationError):
            return None, "Choose the workspace and the object: their fields are then listed."
        if conn is None:
            return None, "This workspace has not connected Salesforce: no fields to map."
        try:
            return SalesforceClient(conn, purpose="read").describe(object_name), ""
        except SalesforceError as exc:
            return None, (
                f"Salesforce could not be reached ({exc}), so the fields of {object_name} "
                "cannot be listed or checked: type the field's API name and save again once "
                "it answers."
            )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change, **kwargs)
        describe, note = getattr(request, "field_describe", (None, ""))
        return type(form.__name__, (form,), {"describe": describe, "describe_note": note})

    def save_model(self, request: HttpRequest, obj: FieldMapping, form: Any, change: bool) -> None:
        saved = field_mapping_save(
            tenant=obj.tenant,
            acting_user=request.user,  # type: ignore[arg-type]
            object_name=obj.object_name,
            attribute=obj.attribute,
            sf_field=obj.sf_field,
            rule=obj.rule or SyncRule.ALWAYS,
            describe=form.describe,
        )
        if change and obj.pk != saved.pk:  # moved to another field: the old one goes
            field_mapping_delete(tenant=obj.tenant, acting_user=request.user, mapping_id=obj.pk)  # type: ignore[arg-type]
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: FieldMapping) -> None:
        field_mapping_delete(tenant=obj.tenant, acting_user=request.user, mapping_id=obj.pk)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FieldMapping]) -> None:
        """The bulk delete action too goes through the service, one audit row each."""
        for mapping in queryset.select_related("tenant"):
            self.delete_model(request, mapping)
