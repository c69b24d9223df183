"""The filter bar of the Visitors and Companies lists, and the labels that describe filters.

Use in a list view::

    form = SegmentFilterForm(tenant=request.tenant, data=request.GET)
    visitors = form.visitors(member=request.membership)      # or form.companies(member=...)
    # render: {% include "visitors/_filters.html" with filter_form=form %}

`form.filters()` is the `SegmentFilters` asked for: the chosen saved segment (`?segment=<id>`)
with any filter given in the query string on top; `form.hide_customers()` is the
"hide current customers" toggle (`?exclude_customers=1`, or the segment's own setting).
Invalid values are reported on the form (`form.errors`) and ignored, never a server error.
Building the form costs three queries (segments, CRM users, stages); the lead statuses are
read at most once a minute per tenant (`LEAD_STATUS_CACHE_SECONDS`). The bar's selects are
rendered from `FilterBarField.options` with plain template loops: Django's widget templates
cost a template render per `<option>`, 30 ms for a tenant with 200 Salesforce users.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet

from crm.models import CrmUser, Lead, Stage
from salesmonk.tenants.models import Membership, Tenant
from visitors.models import Company, Segment, Visitor
from visitors.segments.filters import CUSTOMER_CHOICES, ME, SegmentFilters
from visitors.segments.selectors import companies_filtered, visitors_filtered

OWNED_BY_ME = "Owned by me"
RECENCY_CHOICES = [("", "Any time"), ("1", "Last 24 hours"), ("7", "Last 7 days")] + [
    (str(d), f"Last {d} days") for d in (30, 90)
]
YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]
CUSTOMER_LABELS = {"": "Everyone", "exclude": "Not customers", "only": "Only customers"}
IN_CRM_LABELS = {
    "": "Any",
    "contact": "Contact",
    "lead": "Lead",
    "account": "Company only",
    "none": "Not in Salesforce",
}
_TO_BOOL = {"yes": True, "no": False}
_FROM_BOOL = {True: "yes", False: "no"}


class PickOne(forms.Select):
    """A single select for a multiple-choice field: the compact bar picks one value, while
    links may still carry several (`?owner=a&owner=b`)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        getter = getattr(data, "getlist", None)
        return getter(name) if getter is not None else data.get(name)


def owner_choices(tenant: Tenant) -> list[tuple[str, str]]:
    """ "Owned by me" first, then the tenant's active CRM users, then inactive ones. Read as
    tuples of the columns shown (the label is `str(user)`: name, else email, else id)."""
    users = (
        CrmUser.objects.for_tenant(tenant)
        .filter(remote_was_deleted=False)
        .order_by("-is_active", "name", "email", "remote_id")
        .values_list("pk", "name", "email", "remote_id", "is_active")
    )
    return [(ME, OWNED_BY_ME)] + [
        (str(pk), (name or email or remote_id) + ("" if is_active else " (inactive)"))
        for pk, name, email, remote_id, is_active in users
    ]


def stage_choices(tenant: Tenant) -> list[tuple[str, str]]:
    stages = (
        Stage.objects.for_tenant(tenant)
        .filter(remote_was_deleted=False, is_closed=False)
        .order_by(F("sort_order").asc(nulls_last=True), "name")
        .values_list("pk", "name", "remote_id")
    )
    return [(str(pk), name or remote_id) for pk, name, remote_id in stages]


def lead_status_choices(tenant: Tenant) -> list[tuple[str, str]]:
    """The lead statuses in use, read fresh (`SELECT DISTINCT` over the tenant's leads)."""
    statuses = (
        Lead.objects.for_tenant(tenant)
        .filter(remote_was_deleted=False)
        .exclude(lead_status="")
        .order_by("lead_status")
        .values_list("lead_status", flat=True)
        .distinct()
    )
    return [(s, s) for s in statuses]


# The filter bar is on every list request and `SELECT DISTINCT lead_status` reads all of a
# tenant's leads (15 ms at 20,000): the bar reads it at most once a minute per tenant, in the
# shared cache. A status new in Salesforce shows in the bar within a minute of its sync; the
# segment editor reads it fresh.
LEAD_STATUS_CACHE_SECONDS = 60


def recent_lead_status_choices(tenant: Tenant) -> list[tuple[str, str]]:
    """`lead_status_choices`, read at most once per `LEAD_STATUS_CACHE_SECONDS`."""
    key = f"visitors:filter-bar:lead-statuses:{tenant.pk}"
    statuses = cache.get(key)
    if statuses is None:
        statuses = [s for s, _ in lead_status_choices(tenant)]
        cache.set(key, statuses, LEAD_STATUS_CACHE_SECONDS)
    return [(s, s) for s in statuses]


@dataclass(frozen=True)
class FilterBarField:
    """A field of the filter bar as the template draws it: `options` (value, label,
    selected) for a select, None for a text input."""

    field: forms.BoundField
    options: list[tuple[str, str, bool]] | None

    @property
    def text_value(self) -> str:
        value = self.field.value()
        return "" if value is None else str(value)


class FilterFields(forms.Form):
    """The filters as form fields (query-string names), shared by the filter bar and the
    segment editor. `compact` picks single selects for the bar."""

    q = forms.CharField(required=False, max_length=255, label="Search")
    owner = forms.MultipleChoiceField(required=False, label="Owner")
    customer = forms.ChoiceField(
        required=False,
        label="Current customers",
        choices=[(c, CUSTOMER_LABELS[c]) for c in CUSTOMER_CHOICES],
    )
    open_opportunity = forms.ChoiceField(required=False, label="Open opportunity", choices=YES_NO)
    stage = forms.MultipleChoiceField(required=False, label="Opportunity stage")
    lead_status = forms.MultipleChoiceField(required=False, label="Lead status")
    utm_source = forms.CharField(required=False, max_length=255, label="UTM source")
    utm_medium = forms.CharField(required=False, max_length=255, label="UTM medium")
    utm_campaign = forms.CharField(required=False, max_length=255, label="UTM campaign")
    seen = forms.ChoiceField(required=False, label="Last seen", choices=RECENCY_CHOICES)
    identified = forms.ChoiceField(required=False, label="Identified", choices=YES_NO)
    in_crm = forms.ChoiceField(
        required=False, label="In Salesforce as", choices=list(IN_CRM_LABELS.items())
    )

    FILTER_FIELDS = (
        "q",
        "owner",
        "customer",
        "open_opportunity",
        "stage",
        "lead_status",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "seen",
        "identified",
        "in_crm",
    )

    def __init__(self, *args: Any, tenant: Tenant, compact: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        fields: dict[str, Any] = self.fields
        fields["owner"].choices = owner_choices(tenant)
        fields["stage"].choices = stage_choices(tenant)
        fields["lead_status"].choices = (
            recent_lead_status_choices(tenant) if compact else lead_status_choices(tenant)
        )
        for name in ("owner", "stage", "lead_status"):
            field = fields[name]
            if compact:
                field.widget = PickOne(choices=[("", "Any"), *field.choices])
            else:
                field.widget = forms.SelectMultiple(
                    choices=field.choices, attrs={"size": min(6, max(2, len(field.choices)))}
                )

    def filters_from_fields(self) -> SegmentFilters:
        """The filters of the fields that are valid (call after `is_valid()`)."""
        data = getattr(self, "cleaned_data", {})
        seen = data.get("seen")
        return SegmentFilters(
            q=data.get("q", ""),
            owner_ids=tuple(data.get("owner") or ()),
            customer=data.get("customer", ""),
            has_open_opportunity=_TO_BOOL.get(data.get("open_opportunity", "")),
            stage_ids=tuple(data.get("stage") or ()),
            lead_statuses=tuple(data.get("lead_status") or ()),
            utm_source=data.get("utm_source", ""),
            utm_medium=data.get("utm_medium", ""),
            utm_campaign=data.get("utm_campaign", ""),
            seen_within_days=int(seen) if seen else None,
            identified=_TO_BOOL.get(data.get("identified", "")),
            in_crm=data.get("in_crm", ""),
        )

    @staticmethod
    def initial_for(filters: SegmentFilters) -> dict[str, Any]:
        """Form values showing `filters` (the reverse of `filters_from_fields`)."""
        return {
            "q": filters.q,
            "owner": list(filters.owner_ids),
            "customer": filters.customer,
            "open_opportunity": _FROM_BOOL.get(filters.has_open_opportunity, ""),  # type: ignore[arg-type]
            "stage": list(filters.stage_ids),
            "lead_status": list(filters.lead_statuses),
            "utm_source": filters.utm_source,
            "utm_medium": filters.utm_medium,
            "utm_campaign": filters.utm_campaign,
            "seen": str(filters.seen_within_days or ""),
            "identified": _FROM_BOOL.get(filters.identified, ""),  # type: ignore[arg-type]
            "in_crm": filters.in_crm,
        }


class SegmentFilterForm(FilterFields):
    """The filter bar of a list page (GET): a saved segment, the filters, and the
    "hide current customers" toggle. See the module docstring for use."""

    segment = forms.ChoiceField(required=False, label="Segment")
    exclude_customers = forms.BooleanField(required=False, label="Hide current customers")

    def __init__(self, *, tenant: Tenant, data: Any = None) -> None:
        super().__init__(data or {}, tenant=tenant, compact=True)
        self._segment_choices = list(Segment.objects.for_tenant(tenant))
        self.fields["segment"].choices = [("", "All visitors and companies")] + [  # type: ignore[attr-defined]
            (str(s.pk), s.name) for s in self._segment_choices
        ]
        self.is_valid()

    def clean_segment(self) -> Segment | None:
        # Resolved from the list read once in __init__ (no second query).
        value = self.data.get("segment") or ""
        if not value:
            return None
        for segment in self._segment_choices:
            if str(segment.pk) == value:
                return segment
        raise ValidationError("Choose one of your segments.")

    @property
    def selected_segment(self) -> Segment | None:
        return self.cleaned_data.get("segment")

    @property
    def is_filtered(self) -> bool:
        """Whether anything narrows the list (to word empty states)."""
        return bool(self.selected_segment or not self.filters().is_empty() or self.hide_customers())

    def filters(self) -> SegmentFilters:
        """The segment's saved filters, with the filters given in the query string on top."""
        asked = self.filters_from_fields()
        if self.selected_segment is None:
            return asked
        try:
            base = SegmentFilters.from_dict(self.selected_segment.filters)
        except ValidationError:
            base = SegmentFilters()
        merged = base.to_dict() | asked.to_dict()
        return SegmentFilters.from_dict(merged)

    def hide_customers(self) -> bool:
        chosen = bool(self.cleaned_data.get("exclude_customers"))
        return chosen or bool(self.selected_segment and self.selected_segment.exclude_customers)

    def visitors(self, *, member: Membership | None) -> QuerySet[Visitor]:
        return visitors_filtered(
            tenant=self.tenant,
            filters=self.filters(),
            member=member,
            exclude_customers=self.hide_customers(),
        )

    def companies(self, *, member: Membership | None) -> QuerySet[Company]:
        return companies_filtered(
            tenant=self.tenant,
            filters=self.filters(),
            member=member,
            exclude_customers=self.hide_customers(),
        )

    MORE_FIELDS = (
        "stage",
        "lead_status",
        "in_crm",
        "identified",
        "utm_source",
        "utm_medium",
        "utm_campaign",
    )

    def bar_field(self, name: str) -> FilterBarField:
        """A field with its options and which are selected (the submitted values, as the
        widget would select them)."""
        bound = self[name]
        field = self.fields[name]
        if not isinstance(field, forms.ChoiceField):
            return FilterBarField(field=bound, options=None)
        value = bound.value()
        chosen = {str(v) for v in value} if isinstance(value, list | tuple) else {str(value or "")}
        choices = field.widget.choices  # type: ignore[attr-defined]
        return FilterBarField(
            field=bound,
            options=[(str(v), str(label), str(v) in chosen) for v, label in choices],
        )

    def compact_fields(self) -> list[FilterBarField]:
        """Shown in the bar's first row; the rest fold under "More filters"."""
        return [self.bar_field(n) for n in ("owner", "customer", "open_opportunity", "seen")]

    def more_fields(self) -> list[FilterBarField]:
        return [self.bar_field(n) for n in self.MORE_FIELDS]

    def segment_field(self) -> FilterBarField:
        return self.bar_field("segment")

    def more_is_open(self) -> bool:
        return any(self.data.get(n) for n in self.MORE_FIELDS)


def describe_filters(
    filters: SegmentFilters, *, users: dict[str, str], stages: dict[str, str]
) -> list[str]:
    """Short human phrases for a set of filters ("Owner: me, Ann Lee", "Seen in the last 7
    days"...). `users` and `stages` map ids to names (see `filter_labels`)."""
    parts: list[str] = []
    if filters.q:
        parts.append(f"Matches \u201c{filters.q}\u201d")
    if filters.owner_ids:
        names = ["me" if i == ME else users.get(i, "a removed user") for i in filters.owner_ids]
        parts.append("Owner: " + ", ".join(names))
    if filters.customer == "only":
        parts.append("Current customers only")
    elif filters.customer == "exclude":
        parts.append("Not current customers")
    if filters.has_open_opportunity is True:
        parts.append("Has an open opportunity")
    elif filters.has_open_opportunity is False:
        parts.append("No open opportunity")
    if filters.stage_ids:
        names = [stages.get(i, "a removed stage") for i in filters.stage_ids]
        parts.append("Stage: " + ", ".join(names))
    if filters.lead_statuses:
        parts.append("Lead status: " + ", ".join(filters.lead_statuses))
    for name, label in (
        ("utm_source", "UTM source"),
        ("utm_medium", "UTM medium"),
        ("utm_campaign", "UTM campaign"),
    ):
        if value := getattr(filters, name):
            parts.append(f"{label} = {value}")
    if filters.seen_within_days == 1:
        parts.append("Seen in the last 24 hours")
    elif filters.seen_within_days:
        parts.append(f"Seen in the last {filters.seen_within_days} days")
    if filters.identified is True:
        parts.append("Identified")
    elif filters.identified is False:
        parts.append("Anonymous")
    if filters.in_crm:
        parts.append(f"In Salesforce: {IN_CRM_LABELS[filters.in_crm].lower()}")
    return parts


def filter_labels(
    *, tenant: Tenant, filters: list[SegmentFilters]
) -> tuple[dict[str, str], dict[str, str]]:
    """Names of the users and stages that `filters` mention, in two queries."""
    user_ids = {i for f in filters for i in f.owner_ids if i != ME}
    stage_ids = {i for f in filters for i in f.stage_ids}
    users = {str(u.pk): str(u) for u in CrmUser.objects.for_tenant(tenant).filter(pk__in=user_ids)}
    stages = {str(s.pk): str(s) for s in Stage.objects.for_tenant(tenant).filter(pk__in=stage_ids)}
    return users, stages
