"""Settings pages of the integrations app: Salesforce and the member mapping."""

from django.urls import path

from integrations import views

urlpatterns = [
    path("settings/salesforce/", views.settings_salesforce, name="settings_salesforce"),
    path(
        "settings/salesforce/connect/",
        views.settings_salesforce_connect,
        name="settings_salesforce_connect",
    ),
    path(
        "settings/salesforce/callback/",
        views.settings_salesforce_callback,
        name="settings_salesforce_callback",
    ),
    path(
        "settings/salesforce/disconnect/",
        views.settings_salesforce_disconnect,
        name="settings_salesforce_disconnect",
    ),
    path(
        "settings/salesforce/sync/", views.settings_salesforce_sync, name="settings_salesforce_sync"
    ),
    path("settings/members/", views.settings_members, name="settings_members"),
    path(
        "settings/members/<uuid:membership_id>/",
        views.settings_member_update,
        name="settings_member_update",
    ),
]
