"""The product as `make run` starts it, for journey tests: `migrate`, `seed_demo`, then
`rundev` (the Salesforce emulator with its demo org, the demo tenant connected and mirrored,
the demo traffic, the web server) in subprocesses on free ports, with a database and emulator
file of their own. The job cluster is a separate `manage.py qcluster` process the test holds,
so it can be killed and restarted; everything else is exactly what `make run` runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from salesforce_emulator.testing import ControlClient

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, check: Callable[[], T], timeout: float, every: float = 0.5) -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def _database_url(directory: Path) -> str:
    """SQLite (what `make run` uses) unless the suite runs on PostgreSQL; then a fresh
    database of the stack's own beside the suite's."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{directory / 'db.sqlite3'}"
    import psycopg

    base, name = url.rsplit("/", 1)
    name = f"{name.split('?')[0]}_stack"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


@dataclass
class Stack:
    directory: Path
    env: dict[str, str]
    web_url: str
    emulator_url: str
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    @property
    def org(self) -> ControlClient:
        """The demo org, through the emulator's control API over HTTP."""
        return ControlClient(self.emulator_url, "acme")

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            pytest.fail(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def query(self, code: str) -> Any:
        """Run `code` in `manage.py shell` against the stack's database; it assigns `result`,
        which comes back through JSON."""
        out = self.manage("shell", "-c", f"import json\n{code}\nprint(json.dumps(result))")
        return json.loads(out.strip().splitlines()[-1])

    def start(self, name: str, *args: str) -> subprocess.Popen[str]:
        """A long-running child in its own process group (so the whole group can be killed)."""
        log = open(self.directory / f"{name}.log", "a")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.processes[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def start_jobs(self) -> None:
        self.start("qcluster", "qcluster")

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text()


@pytest.fixture(scope="module", name="stack")
def stack_fixture() -> Iterator[Stack]:
    directory = Path(tempfile.mkdtemp(prefix="salesmonk-stack-"))
    web_port, emulator_port = free_port(), free_port()
    env = {
        **os.environ,
        # `make run`'s settings, with this stack's own database, ports and files.
        "SALESMONK_ENV_FILE": str(ROOT / ".env.example"),
        "DATABASE_URL": _database_url(directory),
        "SALESFORCE_EMULATOR_URL": f"http://127.0.0.1:{emulator_port}",
        "SALESMONK_BASE_URL": f"http://127.0.0.1:{web_port}",
        "REDIS_URL": "",
        # A killed drain frees the tenant after 6 s instead of a minute.
        "WRITE_CLAIM_TTL_SECONDS": "6",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    stack = Stack(
        directory=directory,
        env=env,
        web_url=f"http://127.0.0.1:{web_port}",
        emulator_url=env["SALESFORCE_EMULATOR_URL"],
    )
    try:
        stack.manage("migrate", "--noinput", timeout=300)
        stack.manage("seed_demo")
        stack.start(
            "rundev",
            *("rundev", "--no-jobs", "--addr", f"127.0.0.1:{web_port}"),
            *("--emulator-data", str(directory / "emulator.sqlite3")),
        )

        def ready() -> bool:
            if stack.processes["rundev"].poll() is not None:
                pytest.fail(f"rundev stopped:\n{stack.log('rundev')[-3000:]}")
            if "starting on" not in stack.log("rundev"):
                return False
            try:
                socket.create_connection(("127.0.0.1", web_port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_until("the web server", ready, timeout=240)
        stack.start_jobs()
        yield stack
    finally:
        for name in list(stack.processes):
            sig = signal.SIGKILL if name == "qcluster" else signal.SIGINT
            stack.kill(name, sig)
        if os.environ.get("SALESMONK_KEEP_STACK"):
            print(f"stack kept in {directory}")
        else:
            import shutil

            shutil.rmtree(directory, ignore_errors=True)
