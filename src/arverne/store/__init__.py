"""Bookings store: SQLite by default (one file, WAL), PostgreSQL (psycopg 3) in production.

Both backends share one schema (:mod:`arverne.store.schema`) and one interface
(:class:`BookingStore`); :func:`open_store` picks the backend from the location.
"""

from __future__ import annotations

from pathlib import Path

from arverne.store.base import BookingStore, StalePlanError
from arverne.store.schema import BookingRow, PlanRow, StoredState, VehicleRow

__all__ = [
    "BookingRow",
    "BookingStore",
    "PlanRow",
    "StalePlanError",
    "StoredState",
    "VehicleRow",
    "open_store",
]


def open_store(location: str | Path, *, schema: str = "public") -> BookingStore:
    """Open a bookings store: a ``postgresql://`` DSN, else a SQLite file path."""
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")) or "dbname=" in text:
        from arverne.store.postgres import PostgresStore

        return PostgresStore(text, schema=schema)
    from arverne.store.sqlite import SqliteStore

    return SqliteStore(location)
