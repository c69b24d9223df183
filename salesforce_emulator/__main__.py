"""`python -m salesforce_emulator --port 8484 --data emulator.sqlite3 --seed demo`."""

from __future__ import annotations

import argparse
import sys

from salesforce_emulator.demo import ensure_demo
from salesforce_emulator.generator_counts import normalize_counts
from salesforce_emulator.server import build_server
from salesforce_emulator.state import Emulator


def parse_counts(text: str) -> dict[str, int]:
    """`Account=20000,Contact=40000` -> {"Account": 20000, "Contact": 40000}."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not value.strip().isdigit():
            raise argparse.ArgumentTypeError(f"expected Object=N, got {part!r}")
        out[name.strip()] = int(value)
    try:
        normalize_counts(out)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m salesforce_emulator",
        description="Salesforce org emulator (REST API subset).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8484, help="0 picks a free port")
    parser.add_argument("--data", default=None, help="SQLite file to persist orgs in")
    parser.add_argument("--seed", choices=("demo", "none"), default="none")
    parser.add_argument("--size", type=int, default=500, help="accounts in the demo org")
    parser.add_argument(
        "--counts",
        type=parse_counts,
        default=None,
        help="exact records per object for the demo org, e.g. Account=20000,Contact=40000,User=200",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    emu = Emulator(args.data)
    if args.seed == "demo":
        for line in ensure_demo(emu, size=args.size, counts=args.counts):
            print(line, flush=True)
    server = build_server(emu, args.host, args.port, quiet=not args.verbose)
    print(f"Salesforce emulator listening on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        emu.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
