"""Serving the emulator: a threaded Werkzeug server, in a background thread or in the CLI."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from salesforce_emulator.app import EmulatorApp
from salesforce_emulator.state import Emulator


class _QuietHandler(WSGIRequestHandler):
    """No access log per request: benchmarks push thousands of calls through."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


def build_server(
    emu: Emulator, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True
) -> BaseWSGIServer:
    logging.getLogger("werkzeug").setLevel(logging.WARNING if quiet else logging.INFO)
    return make_server(
        host,
        port,
        EmulatorApp(emu),
        threaded=True,
        request_handler=_QuietHandler if quiet else WSGIRequestHandler,
    )


@dataclass
class RunningEmulator:
    emu: Emulator
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        self.emu.close()


def serve_in_thread(
    emu: Emulator | None = None, *, host: str = "127.0.0.1", port: int = 0, data: str | None = None
) -> RunningEmulator:
    """Start the emulator on a background thread (port 0 picks a free port)."""
    emu = emu or Emulator(data)
    server = build_server(emu, host, port)
    thread = threading.Thread(target=server.serve_forever, name="sf-emulator", daemon=True)
    thread.start()
    return RunningEmulator(emu, server, thread)
