"""Load the IP range table the default IP→company resolver reads."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from visitors.tracking.services import ip_ranges_load


class Command(BaseCommand):
    help = "Load IP ranges from CSV: network,domain,name (or start,end,domain,name)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("csv_path")
        parser.add_argument("--append", action="store_true", help="keep the ranges already loaded")

    def handle(self, *args: Any, csv_path: str, append: bool, **options: Any) -> None:
        try:
            with open(csv_path, newline="", encoding="utf-8") as source:
                count = ip_ranges_load(source=source, replace=not append)
        except (OSError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Loaded {count} IP ranges.")
