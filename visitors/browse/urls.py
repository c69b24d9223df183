"""Visitors and Companies pages. The detail paths have no trailing slash because that is how
they are written into Salesforce; the slashed form is accepted too (unnamed)."""

from django.urls import path

from visitors.browse import views as browse

urlpatterns = [
    path("visitors/", browse.visitor_list, name="visitor_list"),
    path("contact/details/<uuid:visitor_id>", browse.visitor_detail, name="visitor_detail"),
    path("contact/details/<uuid:visitor_id>/", browse.visitor_detail),
    path("accounts/", browse.company_list, name="company_list"),
    path("accounts/<uuid:company_id>", browse.company_detail, name="company_detail"),
    path("accounts/<uuid:company_id>/", browse.company_detail),
]
