"""The durable floor's table (`bench/_ingest_urls.py` appends to it, `bench/ingest.py`
creates and counts it): one row per request, its validated events as JSON."""

APPEND_TABLE = "bench_append"
APPEND_DDL = (
    f"CREATE TABLE IF NOT EXISTS {APPEND_TABLE} "
    "(id bigserial PRIMARY KEY, site_id uuid NOT NULL, events jsonb NOT NULL)"
)
