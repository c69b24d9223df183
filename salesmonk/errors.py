"""Error text fit for a customer page: the one humanizer every displayed error goes through.

Errors are stored as the code that raised them wrote them: `SalesforceRequestError: …`,
`KeyError: 'Id'`, a Slack answer `404 <!DOCTYPE html>…`, a Python repr of a JSON body.
Customers should read a sentence, never a class name or a web page, so pages show
`error_for_humans(text)` (the `for_humans` template filter) instead of the raw text.
Vendor-specific advice (what a Salesforce error code means) is added by the caller; this
module knows no vendor.
"""

from __future__ import annotations

import html
import re

UNEXPECTED = "An unexpected error occurred. It is logged for SalesMonk support."
WEB_PAGE = "the answer was a web page instead of a message"

# `SalesforceRequestError: `, `requests.exceptions.ConnectionError: ` at the start of the text.
_CLASS_PREFIX = re.compile(
    r"^(?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Exhausted|Rejected|Unavailable|Skipped"
    r"|Interrupted|Timeout|Denied|Refused|Warning|Exit)\s*:\s*"
)
# `(ConnectionError)`, `(requests.exceptions.ReadTimeout)` anywhere.
_CLASS_IN_PARENS = re.compile(r"\s*\((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Timeout)\)")
# A bare class name left in the sentence (`raised KeyError`).
_CLASS_WORD = re.compile(
    r"\b(?:[a-z_]\w*\.)+[A-Z]\w*(?:Error|Exception)\b|\b[A-Z]\w*(?:Error|Exception)\b"
)
_HTML = re.compile(
    r"<\s*(?:!doctype|html|head|body|title|div|p|h\d|script|style|pre|br|span|a)\b", re.I
)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_PYTHON_ONLY = re.compile(r"^['\"]?[\w.\-]*['\"]?$|^Traceback ")


def _without_html(text: str) -> str:
    """Everything before the first HTML tag, plus a word saying a web page came back."""
    match = _HTML.search(text)
    if match is None:
        return text
    head = text[: match.start()].rstrip(" :-—")
    if head.count("(") > head.count(")"):
        # "Slack refused the webhook (404 <!DOCTYPE…" → close the parenthesis ourselves.
        return f"{head}: {WEB_PAGE})."
    if not head:
        return "The server answered with a web page instead of a message."
    return f"{head}: {WEB_PAGE}."


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return f"{cut}…"


def error_for_humans(text: object, *, limit: int = 300) -> str:
    """A short sentence for `text`: no Python class names, no HTML, at most `limit`
    characters. Empty text stays empty."""
    value = str(text or "").strip()
    if not value:
        return ""
    value = _without_html(html.unescape(value))
    value = _TAG.sub(" ", value)
    had_prefix = bool(_CLASS_PREFIX.match(value))
    while _CLASS_PREFIX.match(value):
        value = _CLASS_PREFIX.sub("", value, count=1)
    value = _CLASS_IN_PARENS.sub("", value)
    value = _CLASS_WORD.sub("an error", value)
    value = _SPACE.sub(" ", value).strip()
    if not value or (had_prefix and _PYTHON_ONLY.match(value)):
        # `KeyError: 'Id'`: nothing in it a customer could act on.
        return UNEXPECTED
    return _shorten(value, limit)
