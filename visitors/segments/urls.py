"""Segment pages and Settings → Current customers."""

from django.urls import path

from visitors.segments import views as segments

urlpatterns = [
    path("segments/", segments.segment_list, name="segment_list"),
    path("segments/new/", segments.segment_create_view, name="segment_create"),
    path("segments/<uuid:segment_id>/", segments.segment_edit, name="segment_edit"),
    path(
        "segments/<uuid:segment_id>/delete/",
        segments.segment_delete_view,
        name="segment_delete",
    ),
    path("settings/customers/", segments.settings_customers, name="settings_customers"),
]
