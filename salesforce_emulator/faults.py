"""Per-org fault injection: latency, random 5xx, dropped connections, failing the Nth call.

Random faults use a seeded RNG so a failing benchmark or test run can be replayed.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from salesforce_emulator.errors import ApiError

_DEFAULT_MESSAGES = {
    500: (
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if "
        "you contact support: 1234567890-12345 (-1234567890)",
    ),
    502: ("SERVER_UNAVAILABLE", "Bad gateway"),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
    504: ("SERVER_UNAVAILABLE", "Gateway timeout"),
}


@dataclass
class NthCallFault:
    n: int
    status: int = 500
    error_code: str | None = None
    message: str | None = None
    times: int = 1


@dataclass
class FaultState:
    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    drop_rate: float = 0.0
    seed: int = 0
    nth: list[NthCallFault] = field(default_factory=list)
    calls_seen: int = 0
    _rng: random.Random = field(default_factory=lambda: random.Random(0))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, spec: dict[str, Any]) -> None:
        """Apply a control-API fault spec; keys left out keep their current value."""
        with self._lock:
            if spec.get("clear"):
                self.latency_ms, self.error_rate, self.drop_rate = 0, 0.0, 0.0
                self.nth = []
            self.latency_ms = int(spec.get("latency_ms", self.latency_ms))
            self.error_rate = float(spec.get("error_rate", self.error_rate))
            self.error_status = int(spec.get("error_status", self.error_status))
            self.drop_rate = float(spec.get("drop_rate", self.drop_rate))
            if "seed" in spec:
                self.seed = int(spec["seed"])
                self._rng = random.Random(self.seed)
            if "fail_call" in spec:
                fc = spec["fail_call"]
                self.calls_seen = 0
                self.nth.append(
                    NthCallFault(
                        n=int(fc.get("n", 1)),
                        status=int(fc.get("status", 500)),
                        error_code=fc.get("errorCode"),
                        message=fc.get("message"),
                        times=int(fc.get("times", 1)),
                    )
                )

    def describe(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "error_status": self.error_status,
            "drop_rate": self.drop_rate,
            "seed": self.seed,
            "fail_call": [vars(f) for f in self.nth],
            "calls_seen": self.calls_seen,
        }

    def decide(self) -> tuple[float, str | None, ApiError | None]:
        """For one API call: (latency seconds, "drop" or None, error to answer or None)."""
        with self._lock:
            self.calls_seen += 1
            n = self.calls_seen
            for f in self.nth:
                if f.n <= n < f.n + f.times:
                    return self.latency_ms / 1000, None, _error(f.status, f.error_code, f.message)
            self.nth = [f for f in self.nth if n < f.n + f.times]
            if self.drop_rate and self._rng.random() < self.drop_rate:
                return self.latency_ms / 1000, "drop", None
            if self.error_rate and self._rng.random() < self.error_rate:
                return self.latency_ms / 1000, None, _error(self.error_status, None, None)
            return self.latency_ms / 1000, None, None


def _error(status: int, code: str | None, message: str | None) -> ApiError:
    default_code, default_message = _DEFAULT_MESSAGES.get(
        status, ("UNKNOWN_EXCEPTION", "Injected fault")
    )
    return ApiError(status, code or default_code, message or default_message)
