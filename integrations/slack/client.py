"""The one Slack client: posting a message to an incoming webhook.

Everything SalesMonk sends to Slack goes through `webhook_post`. It owns the URL check (only
`SLACK_WEBHOOK_HOSTS`, https except on loopback, no redirects: a webhook URL is typed by a
customer, so it must never make us call an arbitrary host), explicit timeouts, and the
translation of Slack's answers into typed errors: `SlackRetryableError` (timeouts, network
errors, 5xx, 429 with its Retry-After) or `SlackPermanentError` (anything a retry cannot fix;
`webhook_dead` when Slack says the webhook or its channel is gone).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings

# (connect, read) seconds. A send task must finish well within django-q2's task timeout.
TIMEOUT = (5.0, 10.0)
LOOPBACK_HOSTS = frozenset({"localhost"})
# Slack answers these (as the body of a 403/404/410) when the webhook or its channel is gone:
# posting again can never succeed, so the webhook is switched off.
DEAD_WEBHOOK_STATUSES = frozenset({403, 404, 410})
_MAX_RETRY_AFTER = 3600.0


class SlackError(Exception):
    """A message was not posted."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SlackRetryableError(SlackError):
    """Worth trying again later: `retry_after` seconds when Slack said how long to wait."""

    retryable = True

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class SlackPermanentError(SlackError):
    """Trying again cannot help. `webhook_dead`: the webhook itself no longer works."""

    def __init__(
        self, message: str, *, status: int | None = None, webhook_dead: bool = False
    ) -> None:
        super().__init__(message, status=status)
        self.webhook_dead = webhook_dead


class InvalidWebhookUrl(SlackPermanentError):
    """Not an incoming webhook URL we are allowed to call."""

    def __init__(self, message: str) -> None:
        super().__init__(message, webhook_dead=True)


def escape(value: object) -> str:
    """Slack's escaping for text it parses (mrkdwn): `&`, `<` and `>` become entities, so a
    visitor's name can neither form a link nor a mention such as `<!channel>`."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_url_check(url: str) -> str:
    """The URL, stripped (and `:443` dropped), if it is an incoming webhook on an allowed
    host and https's default port; otherwise `InvalidWebhookUrl` saying what is wrong. Plain
    http, and a port, only for loopback (local receivers in development and tests)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise InvalidWebhookUrl("That is not a valid URL.") from exc
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidWebhookUrl("Paste the full webhook URL, starting with https://.")
    if "@" in parts.netloc:  # even an empty `https://@host` user name
        raise InvalidWebhookUrl("A webhook URL has no user name or password in it.")
    allowed = {h.lower() for h in settings.SLACK_WEBHOOK_HOSTS}
    if host not in allowed:
        raise InvalidWebhookUrl(
            "Slack incoming webhook URLs start with https://hooks.slack.com/services/."
        )
    loopback = _is_loopback(host)
    if parts.scheme == "http" and not loopback:
        raise InvalidWebhookUrl("The webhook URL must use https://.")
    if not parts.path.startswith("/services/") or len(parts.path) <= len("/services/"):
        raise InvalidWebhookUrl(
            "Slack incoming webhook URLs look like https://hooks.slack.com/services/T…/B…/…."
        )
    if loopback:
        return url  # a local receiver in development listens on a port of its own
    # Slack serves webhooks on https's default port only; any other port would make our
    # workers knock on a service of the customer's choosing.
    if parts.port not in (None, 443):
        raise InvalidWebhookUrl(
            f"Slack webhook URLs have no port: remove “:{parts.port}” after {host}."
        )
    if parts.netloc != host:  # `:443` or a bare `:` written out, or capitals: one spelling
        url = urlunsplit(parts._replace(netloc=host))
    return url


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


def webhook_post(url: str, *, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
    """Post one message. Returns when Slack accepted it; raises a `SlackError` otherwise.
    The caller escapes user-supplied values (`escape`) when building `text` and `blocks`."""
    url = webhook_url_check(url)
    payload: dict[str, Any] = {"text": text}
    if blocks:
        payload["blocks"] = blocks
    try:
        response = requests.post(url, json=payload, timeout=TIMEOUT, allow_redirects=False)
    except requests.Timeout as exc:
        raise SlackRetryableError("Slack did not answer in time.") from exc
    except requests.RequestException as exc:
        raise SlackRetryableError(f"Could not reach Slack ({type(exc).__name__}).") from exc
    status = response.status_code
    if 200 <= status < 300:
        return
    body = response.text.strip()[:200] or response.reason or "no details"
    if status == 429:
        raise SlackRetryableError(
            f"Slack is rate limiting: {body}", status=status, retry_after=_retry_after(response)
        )
    if status >= 500 or status == 408:
        raise SlackRetryableError(f"Slack answered {status}: {body}", status=status)
    if status in DEAD_WEBHOOK_STATUSES:
        raise SlackPermanentError(
            f"Slack refused the webhook ({status} {body}).", status=status, webhook_dead=True
        )
    raise SlackPermanentError(f"Slack refused the message ({status} {body}).", status=status)
