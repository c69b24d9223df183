"""Salesforce-shaped errors: REST bodies use `errorCode`, per-record results `statusCode`."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered as `[{"message", "errorCode", "fields"?}]` with an HTTP status."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields
        self.extra = extra or {}

    def rest_item(self) -> dict[str, Any]:
        item: dict[str, Any] = dict(self.extra)
        item["message"] = self.message
        item["errorCode"] = self.error_code
        if self.fields is not None:
            item["fields"] = self.fields
        return item

    def body(self) -> list[dict[str, Any]]:
        return [self.rest_item()]

    def result_item(self) -> dict[str, Any]:
        """The per-record form used by collections: `statusCode` instead of `errorCode`."""
        item: dict[str, Any] = {
            "statusCode": self.error_code,
            "message": self.message,
            "fields": self.fields or [],
        }
        item.update(self.extra)
        return item


class DmlError(ApiError):
    """A record-level failure (validation, duplicates, lookups): HTTP 400 unless stated."""

    def __init__(
        self,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
        *,
        status: int = 400,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(status, error_code, message, fields if fields is not None else [], extra)


def not_found(message: str = "The requested resource does not exist") -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def invalid_session() -> ApiError:
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def malformed_request(message: str, code: str = "JSON_PARSER_ERROR") -> ApiError:
    return ApiError(400, code, message)
