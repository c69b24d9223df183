"""Settings are read from the environment in a fresh interpreter, as a deployment would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 50
FERNET_KEY = "c2FsZXNtb25rLWxvY2FsLWRldmVsb3BtZW50LWtleSE="
PRINT_SETTINGS = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), 'debug': settings.DEBUG, "
    "'q': sorted(k for k in ('orm', 'redis') if k in settings.Q_CLUSTER), "
    "'hosts': settings.ALLOWED_HOSTS, 'base': settings.SALESMONK_BASE_URL}))"
)


def load(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a child process with exactly these variables (and no .env)."""
    clean = {"PATH": os.environ["PATH"], "SALESMONK_ENV_FILE": "none", **env}
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "salesmonk.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def loaded(**env: str) -> dict[str, object]:
    result = load(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_default_database_is_sqlite_file_in_project() -> None:
    values = loaded(DEBUG="true")
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(ROOT / "db.sqlite3")
    assert values["debug"] is True
    assert values["q"] == ["orm"]


def test_database_url_switches_engine() -> None:
    values = loaded(DEBUG="true", DATABASE_URL="postgres://postgres@127.0.0.1:5432/salesmonk")
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "salesmonk"


def test_redis_url_switches_job_broker() -> None:
    assert loaded(DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/0")["q"] == ["redis"]


def test_production_settings_with_real_values_load() -> None:
    values = loaded(
        DEBUG="false",
        SECRET_KEY=GOOD_KEY,
        SALESMONK_ENCRYPTION_KEYS=FERNET_KEY,
        ALLOWED_HOSTS="app.salesmonk.example",
        SALESMONK_BASE_URL="https://app.salesmonk.example/",
    )
    assert values["debug"] is False
    assert values["hosts"] == ["app.salesmonk.example"]
    assert values["base"] == "https://app.salesmonk.example"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 40}, "looks like a development key"),
        ({"SECRET_KEY": GOOD_KEY}, "SALESMONK_ENCRYPTION_KEYS is not set"),
        (
            {"SECRET_KEY": GOOD_KEY, "SALESMONK_ENCRYPTION_KEYS": "not-a-key"},
            "not a Fernet key",
        ),
        (
            {"SECRET_KEY": GOOD_KEY, "SALESMONK_ENCRYPTION_KEYS": FERNET_KEY},
            "ALLOWED_HOSTS must list",
        ),
        (
            {
                "SECRET_KEY": GOOD_KEY,
                "SALESMONK_ENCRYPTION_KEYS": FERNET_KEY,
                "ALLOWED_HOSTS": "*",
            },
            "ALLOWED_HOSTS must list",
        ),
        (
            {
                "SECRET_KEY": GOOD_KEY,
                "SALESMONK_ENCRYPTION_KEYS": FERNET_KEY,
                "ALLOWED_HOSTS": "app.salesmonk.example",
                "SALESFORCE_EMULATOR_URL": "http://127.0.0.1:8484",
            },
            "SALESFORCE_EMULATOR_URL is for development only",
        ),
    ],
)
def test_production_refuses_to_start_without_real_secrets(
    env: dict[str, str], message: str
) -> None:
    result = load(DEBUG="false", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
