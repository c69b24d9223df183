"""The tracking endpoints skip the web app's middleware.

`/t/e` and `/t/s.js` are called from customers' sites for every page view: no cookies of
ours, no CSRF token, no signed-in user. The session, authentication, messages and account
middleware would still build their per-request objects for them, which reference the
request and one another: garbage that only the cyclic garbage collector frees, whose full
passes pause every request of the process. Placed after the security and static-file
middleware, this answers the URLs named in `TRACKING_URL_NAMES` with their views directly.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, resolve, reverse

View = Callable[[HttpRequest], HttpResponse]


class TrackingEndpointsMiddleware:
    def __init__(self, get_response: View) -> None:
        self.get_response = get_response
        self.views: dict[str, View] = {}
        for name in settings.TRACKING_URL_NAMES:
            path = reverse(name)
            # requests are matched on their path inside the site, without a script prefix
            self.views["/" + path.removeprefix(get_script_prefix())] = resolve(path).func

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = self.views.get(request.path_info)
        if view is None:
            return self.get_response(request)
        return view(request)
