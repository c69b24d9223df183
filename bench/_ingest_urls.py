"""bench/ingest.py's URLs: the project's, plus `/bench/noop`, the framework ceiling: served
like ingest (the tracking middleware answers it) and reading the same request body, answered
202 without touching the database."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def noop(request: HttpRequest) -> HttpResponse:
    request.read()
    return HttpResponse(b'{"accepted": 0}', status=202, content_type="application/json")


urlpatterns = [path("bench/noop", noop, name="bench_noop"), path("", include("salesmonk.urls"))]
