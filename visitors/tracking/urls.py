"""Settings → Sites."""

from django.urls import path

from visitors.tracking import views as sites

urlpatterns = [
    path("settings/sites/", sites.site_settings, name="settings_sites"),
    path("settings/sites/<uuid:site_id>/", sites.site_edit, name="settings_site_edit"),
    path(
        "settings/sites/<uuid:site_id>/active/",
        sites.site_set_active,
        name="settings_site_active",
    ),
]
