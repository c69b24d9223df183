"""WHERE → one predicate closure, ORDER BY → sort passes; built once per execution.

Literals are checked against the field's type (Salesforce refuses `CreatedDate > '2024'` or
`Name = 5`) and converted to the row's stored form, so the closures only compare plain
values. Strings compare case-insensitively, ids on their case-sensitive first 15 characters,
and a null field fails every comparison except `!=`, `NOT IN` and `= null`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from operator import itemgetter, methodcaller
from typing import Any

from . import nodes as n
from .errors import (
    INVALID_FIELD,
    INVALID_QUERY_FILTER_OPERATOR,
    MALFORMED_QUERY,
    error,
    unsupported_object,
)
from .literals import date_range, like_regex
from .resolver import Resolved, Resolver, Row
from .types import FieldSchema, ObjectSchema, SoqlError

Predicate = Callable[[Row], bool]

STRING_TYPES = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox"}
)
LIKE_TYPES = STRING_TYPES - {"multipicklist"}
ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
_TYPE_NAMES = {"int": "integer", "datetime": "dateTime", "currency": "double", "percent": "double"}


def _lower(value: Any) -> Any:
    return value.lower() if value else None  # Salesforce stores '' as null


def _id15(value: Any) -> Any:
    return value[:15] if value else None


def normaliser(field: FieldSchema) -> Callable[[Any], Any] | None:
    """How a stored value of this field is compared (None: as is)."""
    if field.type in STRING_TYPES:
        return _lower
    if field.type in ID_TYPES:
        return _id15
    return None


def _value_getter(resolved: Resolved) -> Callable[[Row], Any]:
    norm = normaliser(resolved.field)
    get = resolved.get
    return get if norm is None else (lambda row: norm(get(row)))


_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda v, lit: v < lit,
    "<=": lambda v, lit: v <= lit,
    ">": lambda v, lit: v > lit,
    ">=": lambda v, lit: v >= lit,
}


class Compiler:
    """Compiles conditions of one query; holds what literal conversion needs."""

    def __init__(
        self, resolver: Resolver, root: ObjectSchema, now: datetime, include_deleted: bool
    ) -> None:
        self.resolver = resolver
        self.root = root
        self.now = now
        self.include_deleted = include_deleted
        self.text = resolver.text

    # --- literals -----------------------------------------------------------------------
    def _type_error(self, field: FieldSchema, lit: n.Literal) -> SoqlError:
        if field.type in STRING_TYPES or field.type in ID_TYPES:
            expected = "string and should be enclosed in quotes"
        else:
            name = _TYPE_NAMES.get(field.type, field.type)
            expected = f"{name} and should not be enclosed in quotes"
        return error(
            INVALID_FIELD,
            self.text,
            lit.pos,
            f"value of filter criterion for field '{field.name}' must be of type {expected}",
        )

    # Long on purpose: one branch per field type a SOQL literal can be compared with.
    def literal(self, field: FieldSchema, lit: n.Literal) -> Any:  # noqa: C901
        """The literal in the stored, normalised form; a (start, end) tuple for date ranges."""
        kind = field.type
        if isinstance(lit, n.NullLit):
            return False if kind == "boolean" else None  # `Flag = null` means false
        if kind in STRING_TYPES:
            if isinstance(lit, n.StringLit):
                return _lower(lit.value)
        elif kind in ID_TYPES:
            if isinstance(lit, n.StringLit):
                if lit.value and (len(lit.value) not in (15, 18) or not lit.value.isalnum()):
                    raise error(
                        INVALID_QUERY_FILTER_OPERATOR,
                        self.text,
                        lit.pos,
                        f"invalid ID field: {lit.value}",
                    )
                return _id15(lit.value)
        elif kind in NUMBER_TYPES:
            if isinstance(lit, n.NumberLit):
                return lit.value
        elif kind == "boolean":
            if isinstance(lit, n.BoolLit):
                return lit.value
        elif kind in ("date", "datetime"):
            wanted = n.DateLit if kind == "date" else n.DateTimeLit
            if isinstance(lit, wanted):
                return lit.value
            if isinstance(lit, n.RelativeDateLit):
                start, end = date_range(lit.name, lit.n, self.now)
                if kind == "date":
                    return (start.isoformat(), end.isoformat())
                return (
                    f"{start.isoformat()}T00:00:00.000+0000",
                    f"{end.isoformat()}T00:00:00.000+0000",
                )
        else:
            raise error(
                INVALID_FIELD,
                self.text,
                lit.pos,
                f"field '{field.name}' can not be filtered in a query call",
            )
        raise self._type_error(field, lit)

    # --- conditions ---------------------------------------------------------------------
    def resolve(self, path: n.FieldPath) -> Resolved:
        return self.resolver.resolve(self.root, path)

    def compile(self, cond: n.Condition) -> Predicate:
        if isinstance(cond, n.And):
            return _all([self.compile(c) for c in cond.operands])
        if isinstance(cond, n.Or):
            return _any([self.compile(c) for c in cond.operands])
        if isinstance(cond, n.Not):
            inner = self.compile(cond.operand)
            return lambda row: not inner(row)
        if isinstance(cond, n.Compare):
            return self._compare(cond)
        if isinstance(cond, n.InList):
            return self._in_list(cond)
        if isinstance(cond, n.Like):
            return self._like(cond)
        if isinstance(cond, n.Includes):
            return self._includes(cond)
        if isinstance(cond, n.SemiJoin):
            return self._semi_join(cond)
        raise SoqlError(MALFORMED_QUERY, f"unsupported condition {cond!r}")  # pragma: no cover

    def _compare(self, cond: n.Compare) -> Predicate:
        resolved = self.resolve(cond.field)
        field, op = resolved.field, cond.op
        if field.type == "boolean" and op not in ("=", "!="):
            raise error(
                INVALID_QUERY_FILTER_OPERATOR,
                self.text,
                cond.field.pos,
                f"invalid operator on boolean field: {op}",
            )
        lit = self.literal(field, cond.value)
        get = _value_getter(resolved)
        if isinstance(lit, tuple):
            return _range_compare(get, op, lit[0], lit[1])
        if field.type == "boolean":  # a null boolean reads as false
            if (op == "=") == bool(lit):
                return lambda row: bool(get(row))
            return lambda row: not get(row)
        if op == "=":
            if lit is None:
                return lambda row: get(row) is None
            return lambda row: get(row) == lit
        if op == "!=":
            if lit is None:
                return lambda row: get(row) is not None
            return lambda row: get(row) != lit
        if lit is None:
            return lambda row: False
        test = _ORDER_OPS[op]
        if op == ">":  # the common watermark filter, spelled out to skip a call per row
            return lambda row: (v := get(row)) is not None and v > lit
        return lambda row: (v := get(row)) is not None and test(v, lit)

    def _in_list(self, cond: n.InList) -> Predicate:
        resolved = self.resolve(cond.field)
        get = _value_getter(resolved)
        values = [self.literal(resolved.field, v) for v in cond.values]
        ranges = [v for v in values if isinstance(v, tuple)]
        plain = frozenset(v for v in values if not isinstance(v, tuple))
        if resolved.field.type == "boolean":
            plain = frozenset(bool(v) for v in plain)
            inner_get = get
            get = lambda row: bool(inner_get(row))  # noqa: E731 - null booleans are false

        def member(row: Row) -> bool:
            v = get(row)
            if v in plain:
                return True
            return v is not None and any(lo <= v < hi for lo, hi in ranges)

        if not ranges:
            if cond.negated:
                return lambda row: get(row) not in plain
            return lambda row: get(row) in plain
        return (lambda row: not member(row)) if cond.negated else member

    def _like(self, cond: n.Like) -> Predicate:
        resolved = self.resolve(cond.field)
        field = resolved.field
        if field.type not in LIKE_TYPES:
            raise error(
                INVALID_QUERY_FILTER_OPERATOR,
                self.text,
                cond.field.pos,
                f"invalid operator on {_TYPE_NAMES.get(field.type, field.type)} field: LIKE",
            )
        if not isinstance(cond.pattern, n.LikePattern):
            raise self._type_error(field, cond.pattern)
        match = like_regex(cond.pattern.raw).fullmatch
        get = resolved.get
        return lambda row: (v := get(row)) is not None and match(v) is not None

    def _includes(self, cond: n.Includes) -> Predicate:
        resolved = self.resolve(cond.field)
        if resolved.field.type != "multipicklist":
            keyword = "EXCLUDES" if cond.negated else "INCLUDES"
            raise error(
                INVALID_QUERY_FILTER_OPERATOR,
                self.text,
                cond.field.pos,
                f"{keyword} operator is only valid on multi-select picklist fields",
            )
        wanted = []
        for lit in cond.values:
            if not isinstance(lit, n.StringLit):
                raise self._type_error(resolved.field, lit)
            wanted.append(frozenset(p.strip().lower() for p in lit.value.split(";")))
        get = resolved.get

        def includes(row: Row) -> bool:
            v = get(row)
            if not v:
                return False
            have = {p.strip().lower() for p in v.split(";")}
            return any(w <= have for w in wanted)

        return (lambda row: not includes(row)) if cond.negated else includes

    def _semi_join(self, cond: n.SemiJoin) -> Predicate:
        resolved = self.resolve(cond.field)
        if resolved.field.type not in ID_TYPES:
            raise error(
                MALFORMED_QUERY,
                self.text,
                cond.field.pos,
                "Semi join sub-selects are only allowed on Id or reference fields",
            )
        sub_root = self.resolver.schema.object_schema(cond.object_name)
        if sub_root is None:
            raise unsupported_object(self.text, cond.object_pos, cond.object_name)
        sub = Compiler(self.resolver, sub_root, self.now, include_deleted=False)
        selected = sub.resolve(cond.select)
        if selected.field.type not in ID_TYPES:
            raise error(
                MALFORMED_QUERY,
                self.text,
                cond.select.pos,
                "Semi join sub-selects must select an Id or reference field",
            )
        if cond.where is not None and _has_semi_join(cond.where):
            raise error(
                MALFORMED_QUERY,
                self.text,
                cond.select.pos,
                "Nesting of semi join sub-selects is not supported",
            )
        where = sub.compile(cond.where) if cond.where is not None else (lambda row: True)
        ids: frozenset[Any] | None = None
        get = _value_getter(resolved)
        pick = _value_getter(selected)

        def member(row: Row) -> bool:
            nonlocal ids
            if ids is None:  # evaluated once, on first use
                rows = self.resolver.source.scan(sub_root.name)
                ids = frozenset(pick(r) for r in rows if not r.get("IsDeleted") and where(r))
            return get(row) in ids

        return (lambda row: not member(row)) if cond.negated else member


def _has_semi_join(cond: n.Condition) -> bool:
    if isinstance(cond, n.SemiJoin):
        return True
    if isinstance(cond, n.And | n.Or):
        return any(_has_semi_join(c) for c in cond.operands)
    if isinstance(cond, n.Not):
        return _has_semi_join(cond.operand)
    return False


def _all(preds: list[Predicate]) -> Predicate:
    if len(preds) == 2:
        a, b = preds
        return lambda row: a(row) and b(row)
    return lambda row: all(p(row) for p in preds)


def _any(preds: list[Predicate]) -> Predicate:
    if len(preds) == 2:
        a, b = preds
        return lambda row: a(row) or b(row)
    return lambda row: any(p(row) for p in preds)


def _range_compare(get: Callable[[Row], Any], op: str, lo: str, hi: str) -> Predicate:
    """Date-literal semantics: `=` inside [lo, hi), `<` before lo, `>` from hi on."""
    if op == "=":
        return lambda row: (v := get(row)) is not None and lo <= v < hi
    if op == "!=":
        return lambda row: (v := get(row)) is None or not lo <= v < hi
    if op == "<":
        return lambda row: (v := get(row)) is not None and v < lo
    if op == "<=":
        return lambda row: (v := get(row)) is not None and v < hi
    if op == ">":
        return lambda row: (v := get(row)) is not None and v >= hi
    return lambda row: (v := get(row)) is not None and v >= lo


def sort_rows(rows: list[Row], keys: list[tuple[Callable[[Row], Any], bool, bool]]) -> None:
    """Sort in place by (getter, descending, nulls_first) keys, least significant first.

    Each pass is a stable sort on one key, so mixed directions need no composite keys (and
    single-key passes beat tuple keys in CPython). A pass first sorts optimistically; only
    when a null meets a value (TypeError) are nulls split off and put in front or behind.
    A getter may carry a C-level `fast` twin (`itemgetter` for a root field): it is tried
    first and the plain getter takes over when a row lacks the key.
    """
    for get, descending, nulls_first in reversed(keys):
        try:
            rows.sort(key=getattr(get, "fast", get), reverse=descending)
        except (TypeError, KeyError):
            present = [r for r in rows if get(r) is not None]
            missing = [r for r in rows if get(r) is None]
            present.sort(key=get, reverse=descending)
            rows[:] = missing + present if nulls_first else present + missing


class _RootGetter:
    """`row.get(name)` with an `itemgetter` twin for sorting rows that have every field."""

    __slots__ = ("fast", "get")

    def __init__(self, name: str) -> None:
        self.get = methodcaller("get", name)
        self.fast = itemgetter(name)

    def __call__(self, row: Row) -> Any:
        return self.get(row)


def order_getter(resolved: Resolved) -> Callable[[Row], Any]:
    """The sort key of one ORDER BY field: strings case-insensitively, others as stored.

    Ids sort as stored: 18-character ids order exactly like their 15-character prefixes.
    """
    as_stored = resolved.field.type in ID_TYPES or normaliser(resolved.field) is None
    if as_stored and not resolved.hops:
        return _RootGetter(resolved.field.name)
    if resolved.field.type in ID_TYPES:
        return resolved.get
    return _value_getter(resolved)
