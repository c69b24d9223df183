"""The WSGI application: request limits, login endpoints, REST pipeline, control API.

REST pipeline per call: authenticate the bearer token (401 INVALID_SESSION_ID), count the
call per endpoint kind, charge the daily API allocation (403 REQUEST_LIMIT_EXCEEDED once
spent), apply injected faults, run the handler, and add `Sforce-Limit-Info` to the answer.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from salesforce_emulator import auth
from salesforce_emulator.errors import ApiError, invalid_session
from salesforce_emulator.rest import routes
from salesforce_emulator.rest.call import Call, Reply
from salesforce_emulator.rest.sobjects import versions
from salesforce_emulator.state import Emulator

MAX_URI_AND_HEADERS = 16384
_JSON = "application/json;charset=UTF-8"
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if status == 204 or body is None:
        return Response(status=status, headers=headers)
    return Response(_encode(body).encode(), status=status, headers=headers, content_type=_JSON)


def _error(exc: ApiError, headers: dict[str, str] | None = None) -> Response:
    return json_response(exc.body(), exc.status, headers)


class EmulatorApp:
    def __init__(self, emu: Emulator) -> None:
        from salesforce_emulator.control import ControlApi

        self.emu = emu
        self.control = ControlApi(emu)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        if response is None:  # connection dropped on purpose: any write now fails
            start_response("500 Internal Server Error", [("Content-Length", "1")])
            return [b" "]
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response | None:
        environ = request.environ
        uri = environ.get("REQUEST_URI") or environ.get("RAW_URI") or request.full_path
        head = sum(len(k) + len(v) + 4 for k, v in request.headers.items())
        if len(uri) > MAX_URI_AND_HEADERS:
            return json_response(
                [{"errorCode": "URI_TOO_LONG", "message": "The request URI is too long"}], 414
            )
        if len(uri) + head > MAX_URI_AND_HEADERS:
            return json_response(
                [
                    {
                        "errorCode": "REQUEST_HEADER_FIELDS_TOO_LARGE",
                        "message": "Request header fields too large",
                    }
                ],
                431,
            )
        path = request.path
        try:
            if path.startswith("/__emulator__"):
                return self.control.dispatch(request)
            if path.startswith("/services/oauth2/") or path.startswith("/services/Soap/u/"):
                return self._login(request, path)
            if path.startswith("/id/"):
                parts = path.strip("/").split("/")
                if len(parts) == 3:
                    return auth.identity(self.emu, request, parts[1], parts[2])
            if path.rstrip("/") == "/services/data":
                return json_response(versions())
            if path.startswith("/services/data/"):
                return self._rest(request)
        except ApiError as exc:
            return _error(exc)
        return _error(ApiError(404, "NOT_FOUND", "The requested resource does not exist"))

    def _login(self, request: Request, path: str) -> Response:
        p = path.rstrip("/")
        if p.startswith("/services/Soap/u/") and request.method == "POST":
            return auth.soap_login(self.emu, request, p.rsplit("/", 1)[-1])
        if p == "/services/oauth2/token" and request.method == "POST":
            return auth.oauth_token(self.emu, request)
        if p == "/services/oauth2/authorize":
            return auth.authorize(self.emu, request)
        if p == "/services/oauth2/userinfo":
            return auth.userinfo(self.emu, request)
        if p == "/services/oauth2/revoke":
            return auth.revoke(self.emu, request)
        return Response("Not Found", status=404)

    def _rest(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        token = token or request.headers.get("X-SFDC-Session", "")
        resolved = self.emu.resolve(token)
        if resolved is None:
            return _error(invalid_session())
        org, tok = resolved
        endpoint, args = routes.match(request.path, request.method)
        org.counters[routes.KINDS.get(endpoint, "other")] += 1
        with org.lock:
            if org.api_used >= org.settings.api_allocation:
                exc = ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
                return _error(exc, self._usage(org))
            org.api_used += 1
        latency, drop, fault = org.faults.decide()
        if latency:
            time.sleep(latency)
        if drop:
            self._drop(request)
            return None
        if fault is not None:
            return _error(fault, self._usage(org))
        call = Call(
            emu=self.emu,
            org=org,
            token=tok,
            version="",
            method=request.method,
            args=request.args,
            headers=request.headers,
            raw_body=request.get_data(),
        )
        try:
            reply: Reply = routes.handle(call, endpoint, args)
        except ApiError as exc:
            return _error(exc, self._usage(org))
        headers = self._usage(org)
        headers.update(reply.headers)
        return json_response(reply.body, reply.status, headers)

    @staticmethod
    def _usage(org: Any) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={org.api_used}/{org.settings.api_allocation}"}

    @staticmethod
    def _drop(request: Request) -> None:
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
