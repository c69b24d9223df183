"""Read-only admin for support staff: look at what we mirrored from a customer's CRM.

Mirror rows are written only by the read sync (`crm.services`), so nothing here edits them.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from crm.models import (
    Account,
    Contact,
    CrmUser,
    Engagement,
    EngagementType,
    Lead,
    MirrorModel,
    Note,
    Opportunity,
    Stage,
    Task,
)

TENANT_FILTER = ("tenant", admin.RelatedOnlyFieldListFilter)


class MirrorAdmin(admin.ModelAdmin):
    list_filter: tuple = (TENANT_FILTER, "remote_was_deleted")
    list_select_related: tuple = ("tenant",)
    search_fields: tuple = ("remote_id",)
    show_full_result_count = False  # counting a big tenant's mirror on every page is slow

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: MirrorModel | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: MirrorModel | None = None) -> bool:
        return False


@admin.register(CrmUser)
class UserAdmin(MirrorAdmin):
    list_display = ("name", "email", "is_active", "tenant", "remote_id", "remote_was_deleted")
    search_fields = ("name", "email", "remote_id")


@admin.register(Account)
class AccountAdmin(MirrorAdmin):
    list_display = (
        "name",
        "domain",
        "type",
        "owner",
        "number_of_contacts",
        "tenant",
        "remote_id",
        "remote_was_deleted",
        "created_by_salesmonk",
    )
    list_filter = (TENANT_FILTER, "remote_was_deleted", "created_by_salesmonk")
    list_select_related = ("tenant", "owner")
    search_fields = ("name", "domain", "website", "remote_id")


@admin.register(Contact)
class ContactAdmin(MirrorAdmin):
    list_display = (
        "__str__",
        "email",
        "phone",
        "account",
        "owner",
        "tenant",
        "remote_id",
        "remote_was_deleted",
        "created_by_salesmonk",
    )
    list_filter = (TENANT_FILTER, "remote_was_deleted", "created_by_salesmonk")
    list_select_related = ("tenant", "account", "owner")
    search_fields = ("first_name", "last_name", "email", "phone", "account__domain", "remote_id")


@admin.register(Lead)
class LeadAdmin(MirrorAdmin):
    list_display = (
        "__str__",
        "email",
        "company",
        "lead_status",
        "owner",
        "owner_remote_id",
        "converted_at",
        "tenant",
        "remote_id",
        "remote_was_deleted",
        "created_by_salesmonk",
    )
    list_filter = (TENANT_FILTER, "remote_was_deleted", "created_by_salesmonk")
    list_select_related = ("tenant", "owner")
    search_fields = ("first_name", "last_name", "email", "phone", "company", "remote_id")


@admin.register(Stage)
class StageAdmin(MirrorAdmin):
    list_display = ("name", "is_closed", "is_won", "probability", "sort_order", "tenant")
    search_fields = ("name", "remote_id")


@admin.register(Opportunity)
class OpportunityAdmin(MirrorAdmin):
    list_display = (
        "name",
        "account",
        "stage",
        "status",
        "amount",
        "close_date",
        "owner",
        "tenant",
        "remote_id",
        "remote_was_deleted",
    )
    list_filter = (TENANT_FILTER, "status", "remote_was_deleted")
    list_select_related = ("tenant", "account", "stage", "owner")
    search_fields = ("name", "account__name", "account__domain", "remote_id")


@admin.register(Task)
class TaskAdmin(MirrorAdmin):
    list_display = ("subject", "status", "due_date", "owner", "tenant", "remote_id")
    list_filter = (TENANT_FILTER, "status", "remote_was_deleted")
    list_select_related = ("tenant", "owner")
    search_fields = ("subject", "contact__email", "lead__email", "remote_id")


@admin.register(EngagementType)
class EngagementTypeAdmin(MirrorAdmin):
    list_display = ("name", "activity_type", "tenant", "remote_id")
    search_fields = ("name", "remote_id")


@admin.register(Engagement)
class EngagementAdmin(MirrorAdmin):
    list_display = ("subject", "engagement_type", "start_time", "owner", "tenant", "remote_id")
    list_filter = (TENANT_FILTER, "direction", "remote_was_deleted")
    list_select_related = ("tenant", "engagement_type", "owner")
    search_fields = ("subject", "account__name", "account__domain", "remote_id")


@admin.register(Note)
class NoteAdmin(MirrorAdmin):
    list_display = ("__str__", "owner", "tenant", "remote_id", "remote_was_deleted")
    list_select_related = ("tenant", "owner")
    search_fields = ("title", "account__name", "contact__email", "remote_id")
