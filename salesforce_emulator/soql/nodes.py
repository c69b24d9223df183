"""Typed syntax tree of a parsed SOQL query.

The tree is pure syntax: names are kept as written (with their position, for Salesforce's
`ERROR at Row:…:Column:…` messages) and only `execute` resolves them against a schema.
Nodes are frozen so a parsed query can be cached and shared between threads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pos:
    """1-based line and column of a token in the query text."""

    line: int
    column: int


@dataclass(frozen=True)
class FieldPath:
    """`Name` or `Account.Owner.Email`: relationship names, then a field name."""

    parts: tuple[str, ...]
    pos: Pos

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class StringLit:
    """A quoted string, escapes already resolved."""

    value: str
    pos: Pos


@dataclass(frozen=True)
class LikePattern:
    """A LIKE pattern keeps its quoted text: `\\%` and `%` differ only before unescaping."""

    raw: str
    pos: Pos


@dataclass(frozen=True)
class NumberLit:
    value: int | float
    pos: Pos


@dataclass(frozen=True)
class BoolLit:
    value: bool
    pos: Pos


@dataclass(frozen=True)
class NullLit:
    pos: Pos


@dataclass(frozen=True)
class DateLit:
    """`2024-01-31`, validated."""

    value: str
    pos: Pos


@dataclass(frozen=True)
class DateTimeLit:
    """A datetime literal already converted to the stored UTC form."""

    value: str
    pos: Pos


@dataclass(frozen=True)
class RelativeDateLit:
    """`TODAY`, `LAST_N_DAYS:7`…; a range of days resolved against `now` at execution."""

    name: str
    n: int | None
    pos: Pos


Literal = (
    StringLit
    | LikePattern
    | NumberLit
    | BoolLit
    | NullLit
    | DateLit
    | DateTimeLit
    | RelativeDateLit
)


@dataclass(frozen=True)
class Compare:
    field: FieldPath
    op: str  # one of = != < <= > >=  (`<>` is normalised to `!=`)
    value: Literal


@dataclass(frozen=True)
class InList:
    field: FieldPath
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    field: FieldPath
    pattern: Literal


@dataclass(frozen=True)
class Includes:
    """INCLUDES / EXCLUDES on a multi-select picklist."""

    field: FieldPath
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class SemiJoin:
    """`Id IN (SELECT ContactId FROM OpportunityContactRole WHERE …)`."""

    field: FieldPath
    object_name: str
    object_pos: Pos
    select: FieldPath
    where: Condition | None
    negated: bool


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class And:
    operands: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Condition, ...]


Condition = Compare | InList | Like | Includes | SemiJoin | Not | And | Or


@dataclass(frozen=True)
class OrderItem:
    field: FieldPath
    descending: bool
    nulls_first: bool  # already defaulted: first for ASC, last for DESC


@dataclass(frozen=True)
class Query:
    text: str
    object_name: str
    object_pos: Pos
    fields: tuple[FieldPath, ...]
    is_count: bool
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
