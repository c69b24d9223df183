"""One authenticated REST call (top-level or a composite subrequest) and its reply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import Headers, MultiDict

from salesforce_emulator.dml import DmlContext
from salesforce_emulator.errors import ApiError
from salesforce_emulator.org import Org
from salesforce_emulator.state import Emulator, Token

_MISSING = object()


@dataclass
class Call:
    emu: Emulator
    org: Org
    token: Token | None
    version: str
    method: str
    args: MultiDict
    headers: Headers
    raw_body: bytes = b""
    parsed: Any = _MISSING
    in_composite: bool = False
    # A composite with allOrNone=true imposes all-or-none on its collection subrequests.
    force_all_or_none: bool = False

    def json(self) -> Any:
        if self.parsed is _MISSING:
            if not self.raw_body:
                self.parsed = None
            else:
                try:
                    self.parsed = json.loads(self.raw_body)
                except ValueError as exc:
                    raise ApiError(
                        400,
                        "JSON_PARSER_ERROR",
                        f"Unexpected character: was expecting a JSON value ({exc})",
                    ) from None
        return self.parsed

    @property
    def user_id(self) -> str:
        return self.token.user_id if self.token else self.org.default_user_id()

    def dml(self) -> DmlContext:
        header = self.headers.get("Sforce-Duplicate-Rule-Header", "")
        allow = "allowsave=true" in header.replace(" ", "").lower()
        return DmlContext(self.user_id, allow_duplicates=allow, version=self.version)

    def base(self) -> str:
        return f"/services/data/v{self.version}"


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # A collection answered 200 but some records failed (a composite with allOrNone halts).
    failed: bool = False
