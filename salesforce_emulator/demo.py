"""The `--seed demo` org: idempotent, created only when missing."""

from __future__ import annotations

from salesforce_emulator import generator
from salesforce_emulator.generator_counts import generate_counts
from salesforce_emulator.state import Emulator

DEMO_ORG = "acme"
DEMO_ADMIN = "admin@acme.example"
DEMO_PASSWORD = "salesmonk-demo"
DEMO_TOKEN = "DEMOTOKEN"
DEMO_REP = "rep@acme.example"
DEMO_CLIENT_ID = "salesmonk-demo-client"
DEMO_CLIENT_SECRET = "salesmonk-demo-secret"
DEMO_REDIRECTS = ["http://127.0.0.1:8000/...", "http://localhost:8000/..."]


def ensure_demo(
    emu: Emulator, size: int = 500, seed: int = 42, counts: dict[str, int] | None = None
) -> list[str]:
    """Create the demo org if it is missing (`counts` overrides `size` with exact numbers per
    object); return human-readable lines describing it."""
    org = emu.get_org(DEMO_ORG)
    created = org is None
    if org is None:
        org = emu.create_org(
            DEMO_ORG,
            custom_fields=True,
            users=[
                {
                    "username": DEMO_ADMIN,
                    "password": DEMO_PASSWORD,
                    "security_token": DEMO_TOKEN,
                    "first_name": "Ada",
                    "last_name": "Admin",
                    "admin": True,
                },
                {
                    "username": DEMO_REP,
                    "password": DEMO_PASSWORD,
                    "security_token": DEMO_TOKEN,
                    "first_name": "Riley",
                    "last_name": "Rep",
                    "admin": False,
                },
            ],
            connected_apps=[
                {
                    "client_id": DEMO_CLIENT_ID,
                    "client_secret": DEMO_CLIENT_SECRET,
                    "redirect_uris": DEMO_REDIRECTS,
                }
            ],
        )
        with org.lock:
            if counts:
                generate_counts(org, counts, seed)
            else:
                generator.generate(org, size, seed)
    counts = {o: len(r) for o, r in org.store.by_object.items()}
    return [
        f"Demo org '{DEMO_ORG}' {'created' if created else 'already present'} "
        f"({org.settings.instance_url}, org id {org.org_id})",
        f"  admin: {DEMO_ADMIN} / {DEMO_PASSWORD} (security token {DEMO_TOKEN})",
        f"  rep:   {DEMO_REP} / {DEMO_PASSWORD} (security token {DEMO_TOKEN})",
        f"  connected app: client_id={DEMO_CLIENT_ID} client_secret={DEMO_CLIENT_SECRET}",
        f"  redirect URIs: {', '.join(DEMO_REDIRECTS)}",
        "  records: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())),
    ]
