"""`post_only`: the decorator for customer pages' form actions, in place of `require_POST`.

A form action's URL ends up in the address bar whenever it answers with the form again
(a 400 with the errors), so reloading, bookmarking or sharing it sends a GET. A bare 405
page helps nobody there: a GET (or HEAD) goes to the page that holds the form instead.
Other methods still get 405. API and tracking endpoints keep their own answers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect

View = Callable[..., HttpResponse]


def post_only(to: str, *, keep: tuple[str, ...] = ()) -> Callable[[View], View]:
    """POST runs the view; GET and HEAD redirect to the URL named `to`, passing on the URL
    arguments named in `keep` (e.g. the object whose page holds the form)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                return view(request, *args, **kwargs)
            if request.method in ("GET", "HEAD"):
                return redirect(to, **{name: kwargs[name] for name in keep})
            return HttpResponseNotAllowed(["POST"])

        return wrapper

    return decorate
