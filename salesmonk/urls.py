"""Root URLs. Each app contributes its own `urls.py`."""

from django.contrib import admin
from django.urls import include, path, re_path

from crm.api.views import api as crm_api
from crm.api.views import unknown_endpoint

admin.site.site_header = "SalesMonk support"
admin.site.site_title = "SalesMonk support"
admin.site.index_title = "Customers, connections and writes"

urlpatterns = [
    path("admin/", admin.site.urls),
    # `/accounts/<id>` is the company page linked from Salesforce, so logins live elsewhere.
    path("auth/", include("allauth.urls")),
    path("api/crm/v1/", crm_api.urls),
    re_path(r"^api/", unknown_endpoint, name="api_unknown_endpoint"),
    path("", include("crm.urls")),
    path("", include("visitors.urls")),
    path("", include("integrations.urls")),
    path("", include("salesmonk.tenants.urls")),
]
