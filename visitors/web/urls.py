"""Customer page URLs. Company and visitor detail paths are part of the contract with
Salesforce: the SalesMonk fields written there link to `/accounts/<id>` and
`/contact/details/<id>`."""

from django.urls import include, path

urlpatterns = [
    path("", include("visitors.web.browse_urls")),
    path("", include("visitors.web.segments_urls")),
    path("", include("visitors.web.alerts_urls")),
    path("", include("visitors.web.sites_urls")),
]
