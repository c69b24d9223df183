"""Segment filters: what a saved or submitted filter set may say, parsed and validated in one
place (`SegmentFilters.from_dict`), so the engine (`visitors.segments.selectors`), the filter
bar and the saved segments all read the same definition."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

ME = "me"
CUSTOMER_CHOICES = ("", "only", "exclude")
IN_CRM_CHOICES = ("", "contact", "lead", "account", "none")
MAX_DAYS = 3650
_MAX_TEXT = 255
_MAX_IDS = 200


@dataclass(frozen=True)
class SegmentFilters:
    """A set of filters; every field is optional and an empty value means no constraint.

    `owner_ids` are mirrored `crm.User` ids, plus the token "me" for the viewing member's
    linked users. `in_crm`: "contact" or "lead" (what the person is), "account" (no person,
    but the company is an account), "none" (neither). Saved in `Segment.filters` with
    `to_dict()`; read back with `from_dict()`.
    """

    q: str = ""
    owner_ids: tuple[str, ...] = ()
    customer: str = ""
    has_open_opportunity: bool | None = None
    stage_ids: tuple[str, ...] = ()
    lead_statuses: tuple[str, ...] = ()
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    seen_within_days: int | None = None
    identified: bool | None = None
    in_crm: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentFilters:
        """Parse saved or submitted filters; a ValidationError names each bad field."""
        if not isinstance(data, Mapping):
            raise ValidationError("Filters must be an object.")
        errors: dict[str, list[str]] = {}
        names = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in names:
                errors.setdefault(str(key), []).append("Unknown filter.")
        values: dict[str, Any] = {}
        for name in names & set(data):
            try:
                values[name] = _PARSERS[name](data[name])
            except ValidationError as exc:
                errors.setdefault(name, []).extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The non-empty filters, JSON-ready (tuples become lists)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value in ("", (), None):
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def is_empty(self) -> bool:
        return not self.to_dict()

    def visitor_level(self) -> SegmentFilters:
        """The filters that describe a visitor rather than a company (used for companies:
        "has a visitor who ...")."""
        return SegmentFilters(
            lead_statuses=self.lead_statuses,
            utm_source=self.utm_source,
            utm_medium=self.utm_medium,
            utm_campaign=self.utm_campaign,
            seen_within_days=self.seen_within_days,
            identified=self.identified,
            in_crm=self.in_crm if self.in_crm in ("contact", "lead") else "",
        )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("Must be text.")
    value = value.strip()
    if len(value) > _MAX_TEXT:
        raise ValidationError(f"At most {_MAX_TEXT} characters.")
    return value


def _choice(choices: tuple[str, ...]) -> Any:
    def parse(value: Any) -> str:
        if value not in choices:
            allowed = ", ".join(repr(c) for c in choices if c)
            raise ValidationError(f"Must be one of {allowed}.")
        return str(value)

    return parse


def _optional_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValidationError("Must be true, false or null.")


def _text_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError("Must be a list of text values.")
    if len(value) > _MAX_IDS:
        raise ValidationError(f"At most {_MAX_IDS} values.")
    if any(len(v) > _MAX_TEXT for v in value):
        raise ValidationError(f"Each value has at most {_MAX_TEXT} characters.")
    return tuple(dict.fromkeys(value))


def _id_list(*, allow_me: bool) -> Any:
    def parse(value: Any) -> tuple[str, ...]:
        items = _text_list(value)
        out = []
        for item in items:
            if allow_me and item == ME:
                out.append(ME)
                continue
            try:
                out.append(str(uuid.UUID(item)))
            except ValueError:
                raise ValidationError(f"{item!r} is not a valid id.") from None
        return tuple(dict.fromkeys(out))

    return parse


def _days(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise ValidationError(f"Must be a whole number of days from 1 to {MAX_DAYS}.")
    return value


_PARSERS: dict[str, Any] = {
    "q": _text,
    "owner_ids": _id_list(allow_me=True),
    "customer": _choice(CUSTOMER_CHOICES),
    "has_open_opportunity": _optional_bool,
    "stage_ids": _id_list(allow_me=False),
    "lead_statuses": _text_list,
    "utm_source": _text,
    "utm_medium": _text,
    "utm_campaign": _text,
    "seen_within_days": _days,
    "identified": _optional_bool,
    "in_crm": _choice(IN_CRM_CHOICES),
}
