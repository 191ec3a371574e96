"""The two bookings-store backends as a pytest parameter.

PostgreSQL runs against the server named by ``ARVERNE_TEST_PG_DSN`` (``scripts/with-postgres.sh``
starts one; ``make test`` uses it). Under ``CI=true`` a missing server FAILS the PostgreSQL tests;
elsewhere they are skipped. Each test gets its own PostgreSQL schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pg_dsn() -> str:
    """The test server's DSN; fail under CI=true when it is not given, skip otherwise."""
    dsn = os.environ.get("ARVERNE_TEST_PG_DSN", "")
    if not dsn:
        message = "ARVERNE_TEST_PG_DSN is not set: run through scripts/with-postgres.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return dsn


@dataclass(frozen=True)
class StoreLocation:
    """Where a test's store lives: a SQLite path or a PostgreSQL DSN + schema."""

    backend: str
    location: str
    schema: str = "public"

    def open(self):  # type: ignore[no-untyped-def]
        from arverne.store import open_store

        return open_store(self.location, schema=self.schema)


def make_location(backend: str, tmp_path: Path) -> Iterator[StoreLocation]:
    """Yield a fresh, empty store location for ``backend`` and clean it up afterwards."""
    if backend == "sqlite":
        yield StoreLocation("sqlite", str(tmp_path / "bookings.sqlite"))
        return
    dsn = pg_dsn()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    yield StoreLocation("postgresql", dsn, schema)
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
