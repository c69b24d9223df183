"""Why a write failed, in words a customer can act on.

The write log keeps Salesforce's own text (`REQUIRED_FIELD_MISSING: Required fields are
missing: [Country]`, several joined by `; `, or the body of a refused call as Python
wrote it). Pages group failures by `FailureReason` and show its hint; anything we do not
recognise shows Salesforce's message through the one humanizer, never raw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from salesmonk.errors import error_for_humans

# "CODE: message" as the engine writes one record's errors.
_CODED = re.compile(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\s*:\s*(.*?)(?=;\s*[A-Z][A-Z0-9_]+\s*:|$)")
# A whole refused call, stored as the repr of its JSON body.
_REPR_CODE = re.compile(r"""['"]errorCode['"]\s*:\s*['"]([A-Z0-9_]+)['"]""")
_REPR_MESSAGE = re.compile(r"""['"]message['"]\s*:\s*(['"])(.*?)\1""")
_FIELDS = re.compile(r"\[([^\]]*)\]")
# Errors the engine writes for records that waited on another one.
_WAITED = ("Parent not written: ", "The visitor's Lead was not written: ")


# Salesforce's codes for refusals that go away by themselves: a busy record, a busy or
# limited org, an expired session. Any other code is about the record (an invalid email, a
# required field, a validation rule) and fails the same way until someone changes it.
_PASSING = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "SERVER_UNAVAILABLE",
        "REQUEST_LIMIT_EXCEEDED",
        "REQUEST_RUNNING_TOO_LONG",
        "QUERY_TIMEOUT",
        "UNKNOWN_EXCEPTION",
        "INVALID_SESSION_ID",
    }
)


@dataclass(frozen=True)
class FailureReason:
    """One group of failures: `kind` is stable (tests, CSS), `title` and `hint` are shown."""

    kind: str
    title: str
    hint: str


def _code_and_message(error: str) -> tuple[str, str]:
    for prefix in _WAITED:
        while error.startswith(prefix):
            error = error.removeprefix(prefix)
    if code := _REPR_CODE.search(error):
        message = _REPR_MESSAGE.search(error)
        return code.group(1), message.group(2) if message else ""
    if coded := _CODED.search(error):
        return coded.group(1), coded.group(2).strip()
    return "", error


def retrying_helps(error: str) -> bool:
    """Whether sending the same write again may succeed: yes for passing trouble and for
    failures with no Salesforce code (a timeout, a dropped connection, a 5xx)."""
    code, _ = _code_and_message(error or "")
    return not code or code in _PASSING


def failure_reason(error: str) -> FailureReason:
    """What the stored `error` of a failed write means (the first error of a record)."""
    code, message = _code_and_message(error or "")
    if code == "REQUIRED_FIELD_MISSING":
        fields = _FIELDS.search(message)
        names = fields.group(1).strip() if fields else ""
        return FailureReason(
            "required_field",
            f"Required field missing: {names}" if names else "Required field missing",
            f"Your org requires {names or 'a field'} on this record and SalesMonk has no value "
            "for it. Make the field optional, give it a default, or ask support to map a "
            "SalesMonk value to it.",
        )
    if code == "FIELD_CUSTOM_VALIDATION_EXCEPTION":
        return FailureReason(
            "validation_rule",
            "Blocked by a validation rule",
            f"A validation rule in your org says: “{error_for_humans(message)}”",
        )
    if code in ("DUPLICATES_DETECTED", "DUPLICATE_VALUE"):
        return FailureReason(
            "duplicate_rule",
            "Blocked by a duplicate rule",
            "Your org's duplicate rules refused the record. When Salesforce names the "
            "existing record, SalesMonk updates that one instead.",
        )
    if code == "UNABLE_TO_LOCK_ROW":
        return FailureReason(
            "record_locked",
            "Record locked",
            "Something else was editing the record at that moment; SalesMonk retries it "
            "automatically.",
        )
    if code.startswith("INSUFFICIENT_ACCESS"):
        return FailureReason(
            "no_permission",
            "No permission",
            "The Salesforce user who connected SalesMonk may not create or edit this "
            "record. Give that user access, or reconnect as an administrator.",
        )
    if code == "INVALID_EMAIL_ADDRESS":
        return FailureReason(
            "invalid_email",
            "Invalid email address",
            "Salesforce refused the visitor's email address as not valid, so the person "
            "was not written.",
        )
    text = error_for_humans(message or error) or "Salesforce gave no reason."
    return FailureReason("other", "Refused by Salesforce", text)
