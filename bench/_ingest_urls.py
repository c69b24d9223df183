"""bench/ingest.py's URLs: the project's, plus `/bench/noop`, the framework ceiling: the same
middleware and request body as ingest, answered 202 without touching the database."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def noop(request: HttpRequest) -> HttpResponse:
    request.read()
    return HttpResponse(b'{"accepted": 0}', status=202, content_type="application/json")


urlpatterns = [path("bench/noop", noop), path("", include("salesmonk.urls"))]
