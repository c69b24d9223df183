"""Settings for bench/ingest.py: the project's, plus its two baseline URLs (no database
work; a bare durable append), served through the same tracking middleware as ingest."""

from salesmonk.settings import *  # noqa: F403
from salesmonk.settings import TRACKING_URL_NAMES

ROOT_URLCONF = "bench._ingest_urls"
TRACKING_URL_NAMES = [*TRACKING_URL_NAMES, "bench_noop", "bench_append"]
