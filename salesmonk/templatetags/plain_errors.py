"""`{% load plain_errors %}{{ run.error|for_humans }}`: stored error text as a customer
should read it (see `salesmonk.errors`). Registered in `TEMPLATES` (`salesmonk` is not an
installed app), so every app's templates can load it."""

from __future__ import annotations

from django import template

from salesmonk.errors import error_for_humans

register = template.Library()


@register.filter
def for_humans(value: object) -> str:
    return error_for_humans(value)
