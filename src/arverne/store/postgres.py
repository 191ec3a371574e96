"""PostgreSQL bookings store (psycopg 3), the production option: same schema, same SQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from arverne.errors import StoreError
from arverne.store.base import BookingStore

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SCHEMA_LOCK = 0x4172_7665  # advisory lock key held while a store's schema is created or migrated


class PostgresStore(BookingStore):
    """Bookings store in a PostgreSQL database given by ``dsn``.

    ``schema`` selects (and creates) a PostgreSQL schema, so several services or tests can share
    one database without seeing each other's rows.
    """

    placeholder = "%s"
    backend = "postgresql"

    def __init__(self, dsn: str, *, schema: str = "public", connect_timeout_s: int = 10) -> None:
        import psycopg

        if not _SCHEMA_NAME.match(schema):
            raise StoreError(f"schema name {schema!r} must be lower-case letters, digits and _")
        self.dsn = dsn
        self.schema = schema
        self._psycopg = psycopg
        try:
            self._conn: Any = psycopg.connect(
                dsn, autocommit=True, connect_timeout=connect_timeout_s
            )
            self._conn.execute(f"SET search_path TO {schema}")
        except psycopg.Error as exc:
            raise StoreError(
                f"PostgreSQL {_safe(dsn)}: cannot open the bookings store ({exc})"
            ) from exc
        self.init_schema()

    @property
    def conn(self) -> Any:
        """The open connection; StoreError once the store is closed."""
        if self._conn is None:
            raise StoreError(f"PostgreSQL {_safe(self.dsn)}: the bookings store is closed")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        psycopg = self._psycopg
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                yield cur
        except psycopg.Error as exc:
            raise StoreError(
                f"PostgreSQL {_safe(self.dsn)}: write refused, nothing stored ({exc})"
            ) from exc

    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        psycopg = self._psycopg
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield cur
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL {_safe(self.dsn)}: read failed ({exc})") from exc

    def _lock_schema(self, cur: Any) -> None:
        # one creator at a time: concurrent CREATE ... IF NOT EXISTS can still collide
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")

    def __str__(self) -> str:
        return f"PostgreSQL {_safe(self.dsn)} schema {self.schema}"

    def close(self) -> None:
        """Close the connection (again: nothing)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _safe(dsn: str) -> str:
    """The DSN without its password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", dsn)
