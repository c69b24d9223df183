"""Settings for bench/ingest.py: the project's own, plus one URL doing no database work."""

from salesmonk.settings import *  # noqa: F403

ROOT_URLCONF = "bench._ingest_urls"
