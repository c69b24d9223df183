"""Shared by the benchmarks: the Salesforce emulator as a separate process on a free port."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def fresh_database(url: str) -> None:
    """Drop and create the benchmark's own database (a SQLite URL: delete the file)."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).unlink(missing_ok=True)
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


BENCH_APP = {"client_id": "bench-client", "client_secret": "bench-secret", "redirect_uris": []}


def django_against_emulator(database_url: str, emulator_url: str) -> None:
    """A fresh, migrated database and Django configured to reach the emulator with the
    benchmark's connected app (`BENCH_APP`)."""
    import os

    fresh_database(database_url)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="salesmonk.settings",
        SALESMONK_ENV_FILE="none",
        DEBUG="true",
        DATABASE_URL=database_url,
        SALESFORCE_EMULATOR_URL=emulator_url,
        SALESFORCE_CLIENT_ID=BENCH_APP["client_id"],
        SALESFORCE_CLIENT_SECRET=BENCH_APP["client_secret"],
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def tenant_connected(org: Any, slug: str, *, api_daily_budget: int | None = None) -> Any:
    """A new tenant connected to the emulated `org` through the password grant, as a customer
    connecting it would be; its connection is returned (`.tenant` is the tenant)."""
    from integrations.models import PRODUCTION_LOGIN_URL
    from integrations.services import connection_connect, oauth_password_grant
    from salesmonk.tenants.models import Tenant

    tenant = Tenant.objects.create(name=slug, slug=slug)
    tokens = oauth_password_grant(
        login_url=PRODUCTION_LOGIN_URL, username=org.username, password=org.password
    )
    conn = connection_connect(
        tenant=tenant, acting_user=None, login_url=PRODUCTION_LOGIN_URL, tokens=tokens
    )
    if api_daily_budget is not None:
        conn.api_daily_budget = api_daily_budget
        conn.save()
    return conn
