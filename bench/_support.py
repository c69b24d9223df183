"""Shared by the benchmarks: the Salesforce emulator as a separate process on a free port."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    """Start `python -m salesforce_emulator --port 0`; (process, base URL) once it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "salesforce_emulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if match := re.search(r"listening on (http://\S+)", line):
            return proc, match.group(1)
    raise RuntimeError("the emulator did not start")
