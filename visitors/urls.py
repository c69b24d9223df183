"""URLs of the visitors app. The tracking endpoints are short, because they appear on every
page of customers' sites; the customer pages come from each bounded context. Company and
visitor detail paths are part of the contract with Salesforce: the SalesMonk fields written
there link to `/accounts/<id>` and `/contact/details/<id>`."""

from django.urls import include, path

from visitors.tracking import endpoints

urlpatterns = [
    path("t/e", endpoints.ingest, name="visitors_ingest"),
    path("t/s.js", endpoints.snippet, name="visitors_snippet"),
    path("", include("visitors.browse.urls")),
    path("", include("visitors.segments.urls")),
    path("", include("visitors.alerts.urls")),
    path("", include("visitors.tracking.urls")),
]
