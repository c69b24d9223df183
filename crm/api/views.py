"""The unified CRM API: `GET /api/crm/v1/<objects>` and `/<objects>/<id>` for every object
in `RESOURCES`, authenticated by a tenant's API key, rate limited per key, with an OpenAPI
document (`/openapi.json`) and interactive docs (`/docs`, assets served by us).

Views only parse the request, call the selectors and hand dicts to ninja, which validates
them against the schemas. Every error, ours or ninja's, is `{"code", "detail"}` JSON.
"""

import datetime as dt
import re
import uuid
from typing import Annotated, Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer
from pydantic import BeforeValidator, create_model

from crm.api import selectors, services
from crm.api.limits import RateLimited, rate_limit_hit
from crm.api.resources import RESOURCES, Options, Resource
from crm.api.schemas import ErrorOut
from crm.models import ApiKey
from crm.models.base import REMOTE_ID_LENGTH
from salesmonk.paging import InvalidCursor, cursor_decode

MAX_PAGE_SIZE = 100


class BadRequest(Exception):
    def __init__(self, detail: str, code: str = "invalid_parameter") -> None:
        super().__init__(detail)
        self.detail, self.code = detail, code


class _Encoder(NinjaJSONEncoder):
    """Full-precision timestamps with `Z` (Django's encoder cuts them to milliseconds)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            text = o.astimezone(dt.UTC).isoformat() if o.tzinfo else o.isoformat()
            return text.removesuffix("+00:00") + ("Z" if o.tzinfo else "")
        return super().default(o)


class _Renderer(JSONRenderer):
    encoder_class = _Encoder


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer smk_…`: finds the key (one query), then counts the request."""

    openapi_description = "A SalesMonk API key, created under Settings → API keys."

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        api_key = selectors.api_key_authenticate(token=token)
        if api_key is None:
            return None
        rate_limit_hit(key_id=str(api_key.pk))
        services.api_key_mark_used(api_key=api_key)
        request.tenant = api_key.tenant  # type: ignore[attr-defined]
        return api_key


api = NinjaAPI(
    title="SalesMonk unified CRM API",
    version="1.0.0",
    description=(
        "The customer's CRM records as SalesMonk mirrors them, in Merge's common CRM model. "
        "Authenticate with `Authorization: Bearer <API key>`. Lists are cursor-paged: pass "
        "`next` or `previous` back as `cursor`."
    ),
    urls_namespace="crm_api",
    auth=ApiKeyAuth(),
    renderer=_Renderer(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    return api.create_response(request, {"code": code, "detail": detail}, status=status)


@api.exception_handler(BadRequest)
def _bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
    return _error(request, 400, exc.code, exc.detail)


@api.exception_handler(InvalidCursor)
def _bad_cursor(request: HttpRequest, exc: InvalidCursor) -> HttpResponse:
    return _error(request, 400, "invalid_cursor", str(exc))


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    parts = []
    for error in exc.errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", ""))
    return _error(request, 400, "invalid_parameter", "; ".join(parts) or "Invalid request.")


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request, 401, "unauthorized", "Send a valid API key: `Authorization: Bearer <key>`."
    )
    response["WWW-Authenticate"] = 'Bearer realm="SalesMonk CRM API"'
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = _error(
        request,
        429,
        "rate_limited",
        f"This key made more than {exc.limit} requests in {exc.window} s; "
        f"retry in {exc.retry_after} s.",
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "No such record.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "error", str(exc))


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


def _rfc3339(value: Any) -> Any:
    """Only what the document promises (`format: date-time`): pydantic alone would also take
    "0.5" as a Unix time or a bare date, which a client never means."""
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        return value
    raise ValueError("use an RFC 3339 date-time with an offset, e.g. 2026-01-31T00:00:00Z")


DateTimeParam = Annotated[dt.datetime, BeforeValidator(_rfc3339)]


def _aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    """In UTC; a date-time that cannot be (year 1 with a positive offset) is a 400."""
    if value is None:
        return None
    try:
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise BadRequest(f"{name}: not a date-time we can compare with.") from None


def _expand(raw: str | None, resource: Resource) -> frozenset[str]:
    if not raw:
        return frozenset()
    wanted = frozenset(raw.split(","))
    unknown = sorted(wanted - set(resource.expandable))
    if unknown:
        allowed = ", ".join(resource.expandable) or "nothing"
        raise BadRequest(
            f"expand: cannot expand {', '.join(map(repr, unknown))}; "
            f"{resource.name} can expand {allowed}.",
            code="invalid_expand",
        )
    return wanted


def _options(params: Any, resource: Resource) -> Options:
    return Options(
        expand=_expand(getattr(params, "expand", None), resource),
        include_remote_data=params.include_remote_data,
    )


def _expand_field(resource: Resource) -> Any:
    choices = "|".join(resource.expandable)
    return (
        str | None,
        Field(
            None,
            description="Comma-separated related objects to return in full instead of ids: "
            + ", ".join(resource.expandable)
            + ".",
            json_schema_extra={"pattern": f"^(({choices})(,({choices}))*)?$"},
        ),
    )


_REMOTE_ID = Field(
    None, max_length=REMOTE_ID_LENGTH, pattern=r"^[A-Za-z0-9_-]+$", description="Exact remote id."
)


class _ListParams(Schema):
    cursor: str | None = Field(None, description="`next` or `previous` of the last page.")
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Rows per page.")
    created_after: DateTimeParam | None = Field(None, description="Created in SalesMonk after.")
    modified_after: DateTimeParam | None = Field(None, description="Changed in SalesMonk after.")
    modified_before: DateTimeParam | None = Field(None, description="Changed in SalesMonk before.")
    remote_id: str | None = _REMOTE_ID
    include_deleted_data: bool = Field(False, description="Also records deleted in the CRM.")
    include_remote_data: bool = Field(False, description="Add the raw CRM record.")


class _DetailParams(Schema):
    include_remote_data: bool = Field(False, description="Add the raw CRM record.")


def _params(base: type[Schema], resource: Resource, kind: str) -> type[Schema]:
    fields: dict[str, Any] = {}
    if resource.expandable:
        fields["expand"] = _expand_field(resource)
    name = f"{resource.title.replace(' ', '')}{kind}Params"
    return create_model(name, __base__=base, **fields)


def _page_schema(resource: Resource) -> type[Schema]:
    name = f"Paginated{resource.title.replace(' ', '')}List"
    return create_model(
        name,
        __base__=Schema,
        next=(str | None, Field(description="Cursor of the next page, or null.")),
        previous=(str | None, Field(description="Cursor of the previous page, or null.")),
        results=(list[resource.schema], ...),  # type: ignore[name-defined]
    )


_ERRORS = {400: ErrorOut, 401: ErrorOut, 429: ErrorOut}


def _refuse_unknown(request: HttpRequest, resource: Resource, params: type[Schema]) -> None:
    """A misspelt filter (`modifed_after`) must not silently return everything."""
    if not resource.expandable and request.GET.get("expand"):
        _expand(request.GET["expand"], resource)
    unknown = sorted(set(request.GET) - set(params.model_fields))
    if unknown:
        raise BadRequest(
            f"Unknown query parameter {', '.join(map(repr, unknown))}; "
            f"this endpoint takes {', '.join(params.model_fields)}.",
            code="unknown_parameter",
        )


def _register(resource: Resource) -> None:
    list_params = _params(_ListParams, resource, "List")
    detail_params = _params(_DetailParams, resource, "Detail")
    page_schema = _page_schema(resource)
    plural = resource.name.replace("-", " ").title()  # "Engagement Types"

    @api.get(
        f"/{resource.name}",
        response={200: page_schema, **_ERRORS},
        exclude_unset=True,
        operation_id=f"{resource.name.replace('-', '_')}_list",
        summary=f"List {plural}",
        tags=[plural],
    )
    def list_view(request: HttpRequest, params: Query[list_params]) -> Any:  # type: ignore[valid-type]
        _refuse_unknown(request, resource, list_params)
        options = _options(params, resource)
        filters = selectors.RecordFilter(
            created_after=_aware(params.created_after, "created_after"),
            modified_after=_aware(params.modified_after, "modified_after"),
            modified_before=_aware(params.modified_before, "modified_before"),
            remote_id=params.remote_id,
            include_deleted_data=params.include_deleted_data,
        )
        cursor = cursor_decode(params.cursor, scope=resource.name) if params.cursor else None
        page = selectors.record_page(
            tenant=request.tenant,  # type: ignore[attr-defined]
            resource=resource,
            options=options,
            filters=filters,
            cursor=cursor,
            page_size=params.page_size,
        )
        return {
            "next": page.next,
            "previous": page.previous,
            "results": [resource.serialize(row, options) for row in page.rows],
        }

    @api.get(
        f"/{resource.name}/{{id}}",
        response={200: resource.schema, 404: ErrorOut, **_ERRORS},
        exclude_unset=True,
        operation_id=f"{resource.name.replace('-', '_')}_retrieve",
        summary=f"Get a {resource.title}",
        tags=[plural],
    )
    def detail_view(
        request: HttpRequest,
        id: uuid.UUID,  # the path parameter keeps its public name
        params: Query[detail_params],  # type: ignore[valid-type]
    ) -> Any:
        _refuse_unknown(request, resource, detail_params)
        options = _options(params, resource)
        row = selectors.record_get(
            tenant=request.tenant,  # type: ignore[attr-defined]
            resource=resource,
            record_id=id,
            options=options,
        )
        return resource.serialize(row, options)


for _resource in RESOURCES:
    _register(_resource)


def unknown_endpoint(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Any other path under the API answers in the API's JSON error shape, not HTML."""
    return JsonResponse(
        {"code": "not_found", "detail": f"No API endpoint at {request.path}."}, status=404
    )
