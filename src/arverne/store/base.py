"""The common interface of the bookings stores and the SQL they share."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from arverne.store.schema import (
    SCHEMA_VERSION,
    TABLES,
    BookingRow,
    PlanRow,
    StoredState,
    VehicleRow,
)

_VEHICLE_COLS = [f.name for f in dataclasses.fields(VehicleRow)]
_BOOKING_COLS = [f.name for f in dataclasses.fields(BookingRow)]
_PLAN_COLS = [f.name for f in dataclasses.fields(PlanRow)]


def _upsert(table: str, cols: list[str], key: str, ph: str) -> str:
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != key)
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([ph] * len(cols))}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {sets}"
    )


class BookingStore(ABC):
    """Bookings, vehicles and plans, written transactionally.

    Subclasses provide a DB-API connection, the placeholder and the transaction bracket; the SQL
    is the same for every backend. Every public write is one transaction: either all of it is
    stored or none of it.
    """

    placeholder: str = "?"
    backend: str = "abstract"

    # -- backend hooks -------------------------------------------------------------------------
    @abstractmethod
    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """Yield a cursor inside one transaction; commit on exit, roll back on error."""
        yield None  # pragma: no cover

    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query and return all rows."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    # -- public API ----------------------------------------------------------------------------
    def init_schema(self) -> None:
        """Create the tables when missing and record the schema version."""
        ph = self.placeholder
        with self._transaction() as cur:
            for ddl in TABLES:
                cur.execute(ddl)
            cur.execute(
                f"INSERT INTO meta (key, value) VALUES ({ph}, {ph}) ON CONFLICT (key) DO NOTHING",
                ("schema_version", str(SCHEMA_VERSION)),
            )

    def put_vehicles(self, vehicles: Sequence[VehicleRow]) -> None:
        """Insert or update vehicles, in one transaction."""
        sql = _upsert("vehicles", _VEHICLE_COLS, "vehicle_id", self.placeholder)
        with self._transaction() as cur:
            cur.executemany(sql, [dataclasses.astuple(v) for v in vehicles])

    def commit(
        self,
        *,
        bookings: Sequence[BookingRow] = (),
        plans: Mapping[str, Sequence[PlanRow]] | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> None:
        """Write booking rows and replace the plans of the given vehicles, in ONE transaction."""
        ph = self.placeholder
        with self._transaction() as cur:
            if bookings:
                cur.executemany(
                    _upsert("bookings", _BOOKING_COLS, "booking_id", ph),
                    [dataclasses.astuple(b) for b in bookings],
                )
            if plans:
                for vehicle_id in plans:
                    cur.execute(f"DELETE FROM plan_events WHERE vehicle_id = {ph}", (vehicle_id,))
                rows = [dataclasses.astuple(r) for rows in plans.values() for r in rows]
                if rows:
                    cur.executemany(
                        f"INSERT INTO plan_events ({', '.join(_PLAN_COLS)}) "
                        f"VALUES ({', '.join([ph] * len(_PLAN_COLS))})",
                        rows,
                    )
            if meta:
                cur.executemany(
                    f"INSERT INTO meta (key, value) VALUES ({ph}, {ph}) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    list(meta.items()),
                )

    def load(self) -> StoredState:
        """Read everything back (the service rebuilds its in-memory plans from this)."""
        vehicles = [
            VehicleRow(*r)
            for r in self._query(
                f"SELECT {', '.join(_VEHICLE_COLS)} FROM vehicles ORDER BY vehicle_id"
            )
        ]
        bookings = [
            BookingRow(*r)
            for r in self._query(
                f"SELECT {', '.join(_BOOKING_COLS)} FROM bookings ORDER BY booking_id"
            )
        ]
        plan = [
            PlanRow(*r)
            for r in self._query(
                f"SELECT {', '.join(_PLAN_COLS)} FROM plan_events ORDER BY vehicle_id, seq"
            )
        ]
        meta = dict(self._query("SELECT key, value FROM meta"))
        return StoredState(vehicles=vehicles, bookings=bookings, plan=plan, meta=meta)

    def __enter__(self) -> BookingStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
