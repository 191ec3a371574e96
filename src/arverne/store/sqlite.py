"""SQLite bookings store: one file, WAL journal, ``synchronous=FULL`` (a commit survives a
crash of the process and of the machine).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from arverne.errors import StoreError
from arverne.store.base import BookingStore


class SqliteStore(BookingStore):
    """Bookings store in one SQLite file (created when missing)."""

    placeholder = "?"
    backend = "sqlite"

    def __init__(self, path: str | Path, *, timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        try:
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                str(self.path), timeout=timeout_s, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the bookings store ({exc})") from exc
        self.init_schema()

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection; StoreError once the store is closed."""
        if self._conn is None:
            raise StoreError(f"{self.path}: the bookings store is closed")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot start a transaction ({exc})") from exc
        cur = conn.cursor()
        try:
            yield cur
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{self.path}: write refused, nothing stored ({exc})") from exc
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreError(f"{self.path}: commit failed, nothing stored ({exc})") from exc

    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        conn = self.conn
        try:
            conn.execute("BEGIN")  # deferred: a WAL read snapshot from the first SELECT on
            try:
                yield conn.cursor()
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: read failed ({exc})") from exc

    def _lock_schema(self, cur: Any) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already holds the database's write lock."""

    def __str__(self) -> str:
        return str(self.path)

    def close(self) -> None:
        """Close the connection (again: nothing)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
