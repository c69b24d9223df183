"""Salesforce-style error messages for SOQL.

Salesforce points at the offending token: the message starts with the query line, a caret
under the column, then `ERROR at Row:r:Column:c` and the reason. Clients only show the
text, but matching the shape keeps logs and tests comparable with a real org.
"""

from __future__ import annotations

from .nodes import Pos
from .types import SoqlError

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"


def at(text: str, pos: Pos | None, message: str) -> str:
    """Prefix `message` with the query line, a caret and the row/column, as Salesforce does."""
    if pos is None:
        return message
    lines = text.split("\n")
    line = lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""
    caret = " " * (pos.column - 1) + "^"
    return f"\n{line}\n{caret}\nERROR at Row:{pos.line}:Column:{pos.column}\n{message}"


def error(code: str, text: str, pos: Pos | None, message: str) -> SoqlError:
    return SoqlError(code, at(text, pos, message))


def no_such_column(text: str, pos: Pos, name: str, entity: str) -> SoqlError:
    return error(
        INVALID_FIELD,
        text,
        pos,
        f"No such column '{name}' on entity '{entity}'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
    )


def bad_relationship(text: str, pos: Pos, name: str) -> SoqlError:
    return error(
        INVALID_FIELD,
        text,
        pos,
        f"Didn't understand relationship '{name}' in field path. If you are attempting to use a "
        "custom relationship, be sure to append the '__r' after the custom relationship name. "
        "Please reference your WSDL or the describe call for the appropriate names.",
    )


def unsupported_object(text: str, pos: Pos, name: str) -> SoqlError:
    return error(
        INVALID_TYPE,
        text,
        pos,
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, "
        "be sure to append the '__c' after the entity name. Please reference your WSDL or the "
        "describe call for the appropriate names.",
    )
