"""Text → typed syntax tree (`nodes.Query`), with every syntax error as MALFORMED_QUERY.

Checks that need no schema happen here too (statement and literal lengths, OFFSET range,
duplicate fields, literal validity), so a cached parse is a fully vetted statement.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lark import Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from . import nodes as n
from .errors import MALFORMED_QUERY, NUMBER_OUTSIDE_VALID_RANGE, error
from .grammar import PARSER
from .literals import FIXED_RANGES, N_RANGES, LiteralError, check_date, datetime_to_utc, unescape
from .literals import like_regex as _like_regex
from .types import SoqlError

MAX_STATEMENT_LENGTH = 100_000
MAX_STRING_LITERAL_LENGTH = 4_000
MAX_OFFSET = 2_000


def _pos(token: Token) -> n.Pos:
    return n.Pos(token.line or 1, token.column or 1)


class _RawString:
    """A quoted string before we know whether it sits in a LIKE (where `\\%` is legal)."""

    __slots__ = ("pos", "raw")

    def __init__(self, raw: str, pos: n.Pos) -> None:
        self.raw = raw
        self.pos = pos


@v_args(inline=True)
class _ToAst(Transformer[Token, n.Query]):
    """Builds nodes bottom-up; `text` is kept for positioned error messages."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def _fail(self, pos: n.Pos, message: str, code: str = MALFORMED_QUERY) -> SoqlError:
        return error(code, self.text, pos, message)

    # --- values -------------------------------------------------------------------------
    def string(self, tok: Token) -> _RawString:
        if len(tok) - 2 > MAX_STRING_LITERAL_LENGTH:
            raise self._fail(
                _pos(tok), f"String literal exceeds {MAX_STRING_LITERAL_LENGTH} characters"
            )
        return _RawString(str(tok), _pos(tok))

    def number(self, tok: Token) -> n.NumberLit:
        text = str(tok)
        return n.NumberLit(float(text) if "." in text else int(text), _pos(tok))

    def datetime(self, tok: Token) -> n.DateTimeLit:
        try:
            return n.DateTimeLit(datetime_to_utc(str(tok)), _pos(tok))
        except LiteralError as exc:
            raise self._fail(_pos(tok), str(exc)) from None

    def date(self, tok: Token) -> n.DateLit:
        try:
            return n.DateLit(check_date(str(tok)), _pos(tok))
        except LiteralError as exc:
            raise self._fail(_pos(tok), str(exc)) from None

    def null(self, tok: Token) -> n.NullLit:
        return n.NullLit(_pos(tok))

    def true(self, tok: Token) -> n.BoolLit:
        return n.BoolLit(True, _pos(tok))

    def false(self, tok: Token) -> n.BoolLit:
        return n.BoolLit(False, _pos(tok))

    def date_literal(self, tok: Token) -> n.RelativeDateLit:
        name = str(tok).upper()
        if name not in FIXED_RANGES:
            raise self._fail(_pos(tok), f"unexpected token: '{tok}'")
        return n.RelativeDateLit(name, None, _pos(tok))

    def date_literal_n(self, tok: Token, count: Token) -> n.RelativeDateLit:
        name = str(tok).upper()
        if name not in N_RANGES:
            raise self._fail(_pos(tok), f"unexpected token: '{tok}'")
        return n.RelativeDateLit(name, int(count), _pos(tok))

    def _plain(self, value: Any) -> n.Literal:
        if isinstance(value, _RawString):
            try:
                return n.StringLit(unescape(value.raw), value.pos)
            except LiteralError as exc:
                raise self._fail(value.pos, str(exc)) from None
        return value

    def value_list(self, *values: Any) -> tuple[n.Literal, ...]:
        return tuple(self._plain(v) for v in values)

    # --- WHERE --------------------------------------------------------------------------
    def field(self, *names: Token) -> n.FieldPath:
        return n.FieldPath(tuple(str(t) for t in names), _pos(names[0]))

    def compare(self, field: n.FieldPath, op: Token, value: Any) -> n.Compare:
        return n.Compare(field, "!=" if op == "<>" else str(op), self._plain(value))

    def in_list(self, field: n.FieldPath, values: tuple[n.Literal, ...]) -> n.InList:
        return n.InList(field, values, negated=False)

    def not_in_list(
        self, field: n.FieldPath, _not: Token, values: tuple[n.Literal, ...]
    ) -> n.InList:
        return n.InList(field, values, negated=True)

    def semi_join(self, select: n.FieldPath, obj: tuple[str, n.Pos], where: Any = None) -> tuple:
        return select, obj, where

    def in_semi_join(self, field: n.FieldPath, sub: tuple) -> n.SemiJoin:
        select, (name, pos), where = sub
        return n.SemiJoin(field, name, pos, select, where, negated=False)

    def not_in_semi_join(self, field: n.FieldPath, _not: Token, sub: tuple) -> n.SemiJoin:
        select, (name, pos), where = sub
        return n.SemiJoin(field, name, pos, select, where, negated=True)

    def like(self, field: n.FieldPath, value: Any) -> n.Like:
        if isinstance(value, _RawString):
            try:
                _like_regex(value.raw)
            except LiteralError as exc:
                raise self._fail(value.pos, str(exc)) from None
            return n.Like(field, n.LikePattern(value.raw, value.pos))
        return n.Like(field, value)

    def includes(self, field: n.FieldPath, values: tuple[n.Literal, ...]) -> n.Includes:
        return n.Includes(field, values, negated=False)

    def excludes(self, field: n.FieldPath, values: tuple[n.Literal, ...]) -> n.Includes:
        return n.Includes(field, values, negated=True)

    def negation(self, _not: Token, operand: n.Condition) -> n.Not:
        return n.Not(operand)

    def and_chain(self, *operands: n.Condition) -> n.And:
        return n.And(operands)

    def or_chain(self, *operands: n.Condition) -> n.Or:
        return n.Or(operands)

    def where(self, condition: n.Condition) -> n.Condition:
        return condition

    # --- the statement ------------------------------------------------------------------
    def object_name(self, tok: Token) -> tuple[str, n.Pos]:
        return str(tok), _pos(tok)

    def select_count(self, _count: Token) -> None:
        return None

    def select_fields(self, *fields: n.FieldPath) -> tuple[n.FieldPath, ...]:
        seen: set[str] = set()
        for f in fields:
            key = f.text.lower()
            if key in seen:
                raise self._fail(f.pos, f"duplicate field selected: {f.text}")
            seen.add(key)
        return fields

    def nulls(self, tok: Token) -> bool:
        return tok.upper() == "FIRST"

    def order_item(self, field: n.FieldPath, *rest: Any) -> n.OrderItem:
        descending = False
        nulls_first: bool | None = None
        for item in rest:
            if isinstance(item, Token):
                descending = item.upper() == "DESC"
            else:
                nulls_first = item
        if nulls_first is None:
            nulls_first = not descending
        return n.OrderItem(field, descending, nulls_first)

    def order_by(self, *items: n.OrderItem) -> tuple[str, tuple[n.OrderItem, ...]]:
        return "order_by", items

    def limit(self, tok: Token) -> tuple[str, int]:
        return "limit", int(tok)

    def offset(self, tok: Token) -> tuple[str, int]:
        value = int(tok)
        if value > MAX_OFFSET:
            raise self._fail(
                _pos(tok),
                f"Maximum SOQL offset allowed is {MAX_OFFSET}",
                NUMBER_OUTSIDE_VALID_RANGE,
            )
        return "offset", value

    def start(self, fields: Any, obj: tuple[str, n.Pos], *clauses: Any) -> n.Query:
        parts: dict[str, Any] = {"where": None, "order_by": (), "limit": None, "offset": None}
        for clause in clauses:
            if isinstance(clause, tuple) and len(clause) == 2 and isinstance(clause[0], str):
                parts[clause[0]] = clause[1]
            else:
                parts["where"] = clause
        return n.Query(
            text=self.text,
            object_name=obj[0],
            object_pos=obj[1],
            fields=() if fields is None else fields,
            is_count=fields is None,
            where=parts["where"],
            order_by=parts["order_by"],
            limit=parts["limit"],
            offset=parts["offset"],
        )


def _syntax_error(text: str, exc: UnexpectedInput) -> SoqlError:
    pos = n.Pos(getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1)
    if isinstance(exc, UnexpectedToken):
        found = "<EOF>" if exc.token.type == "$END" else str(exc.token)
        if exc.token.type == "$END":
            pos = _end_pos(text)
    elif isinstance(exc, UnexpectedCharacters):
        found = text[exc.pos_in_stream] if exc.pos_in_stream is not None else "?"
    elif isinstance(exc, UnexpectedEOF):
        found, pos = "<EOF>", _end_pos(text)
    else:  # pragma: no cover - lark has no other UnexpectedInput kinds
        found = "?"
    return error(MALFORMED_QUERY, text, pos, f"unexpected token: '{found}'")


def _end_pos(text: str) -> n.Pos:
    lines = text.rstrip().split("\n")
    return n.Pos(len(lines), len(lines[-1]) + 1)


@lru_cache(maxsize=512)
def parse(text: str) -> n.Query:
    """Parse one SOQL statement; raises `SoqlError` for anything outside the subset."""
    if len(text) > MAX_STATEMENT_LENGTH:
        raise SoqlError(
            MALFORMED_QUERY,
            f"SOQL statements cannot be longer than {MAX_STATEMENT_LENGTH:,} characters",
        )
    try:
        tree = PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    except Exception as exc:  # any other lark failure is still a malformed statement
        raise SoqlError(MALFORMED_QUERY, f"unexpected token: {exc}") from None
    try:
        return _ToAst(text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, SoqlError):
            raise exc.orig_exc from None
        raise
