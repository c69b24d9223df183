"""SQLite persistence: write-through of every change so a demo org survives restarts.

One `records_<n>` table per org (rows as JSON), plus `orgs`, `users` and `tokens` tables.
Memory stays the source of truth while running; the database is only read at start.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from typing import Any

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class Persistence:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS orgs (name TEXT PRIMARY KEY, data TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS users (
                username TEXT PRIMARY KEY, org TEXT NOT NULL, data TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS tokens (
                token TEXT PRIMARY KEY, org TEXT NOT NULL, data TEXT NOT NULL);
            """
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- orgs, users, tokens -------------------------------------------------------------
    def save_org(self, name: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO orgs (name, data) VALUES (?, ?)", (name, _dumps(data))
            )

    def delete_org(self, name: str, number: int) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM orgs WHERE name = ?", (name,))
            self._db.execute("DELETE FROM users WHERE org = ?", (name,))
            self._db.execute("DELETE FROM tokens WHERE org = ?", (name,))
            self._db.execute(f"DROP TABLE IF EXISTS {self._table(number)}")
            self._db.execute("COMMIT")

    def load_orgs(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(d) for (d,) in self._db.execute("SELECT data FROM orgs")]

    def save_user(self, username: str, org: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO users (username, org, data) VALUES (?, ?, ?)",
                (username, org, _dumps(data)),
            )

    def load_users(self, org: str) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute("SELECT data FROM users WHERE org = ?", (org,))
            return [json.loads(d) for (d,) in cur]

    def save_token(self, token: str, org: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO tokens (token, org, data) VALUES (?, ?, ?)",
                (token, org, _dumps(data)),
            )

    def load_tokens(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(d) for (d,) in self._db.execute("SELECT data FROM tokens")]

    # --- records -------------------------------------------------------------------------
    @staticmethod
    def _table(number: int) -> str:
        return f"records_{int(number)}"

    def ensure_records(self, number: int) -> None:
        with self._lock:
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table(number)} "
                "(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, "
                "object TEXT NOT NULL, data TEXT NOT NULL)"
            )

    def write_rows(
        self, number: int, rows: Iterable[tuple[str, str, dict[str, Any] | None]]
    ) -> None:
        """Upsert (id, object, row) triples in one transaction; a None row deletes."""
        table = self._table(number)
        upserts = []
        deletes = []
        for record_id, obj, row in rows:
            if row is None:
                deletes.append((record_id,))
            else:
                upserts.append((record_id, obj, _dumps(row)))
        with self._lock:
            self._db.execute("BEGIN")
            if upserts:
                self._db.executemany(
                    f"INSERT INTO {table} (id, object, data) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                    upserts,
                )
            if deletes:
                self._db.executemany(f"DELETE FROM {table} WHERE id = ?", deletes)
            self._db.execute("COMMIT")

    def clear_rows(self, number: int) -> None:
        with self._lock:
            self._db.execute(f"DELETE FROM {self._table(number)}")

    def load_rows(self, number: int) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            cur = self._db.execute(f"SELECT object, data FROM {self._table(number)} ORDER BY seq")
            return [(obj, json.loads(d)) for obj, d in cur]
