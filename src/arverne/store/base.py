"""The common interface of the bookings stores and the SQL they share.

Several processes may share one store (HTTP workers, a re-optimiser): each vehicle's plan carries
a version (``vehicles.plan_version``). A writer reads the plans with their versions
(:meth:`BookingStore.load`, one consistent snapshot), plans in memory, then commits with the
versions it planned against; the commit raises the version of every plan it writes by a
compare-and-set ``UPDATE ... WHERE plan_version = expected``, which the database serialises per
vehicle (a row lock in PostgreSQL, the write lock of ``BEGIN IMMEDIATE`` in SQLite). When another
process wrote that plan first, nothing is written and :class:`StalePlanError` tells the writer to
read again and retry. Optimistic rather than locking for the whole booking: no lock is held while
the insertion is computed, and readers never wait.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from arverne.errors import StoreError
from arverne.store.schema import (
    MIGRATIONS,
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


class StalePlanError(StoreError):
    """A commit planned against a vehicle plan that another process has changed since it was
    read; nothing was written (read the plans again and retry).
    """


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
    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        """Yield a cursor inside one read-only transaction that sees one consistent state."""
        yield None  # pragma: no cover

    @abstractmethod
    def _lock_schema(self, cur: Any) -> None:
        """Serialise schema creation and migration between processes (inside the transaction)."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    # -- public API ----------------------------------------------------------------------------
    def init_schema(self) -> None:
        """Create the tables when missing, bring an older store up to date (one transaction,
        serialised between processes), and refuse a store written by a newer version.
        """
        ph = self.placeholder
        with self._transaction() as cur:
            self._lock_schema(cur)
            for ddl in TABLES:
                cur.execute(ddl)
            cur.execute(f"SELECT value FROM meta WHERE key = {ph}", ("schema_version",))
            row = cur.fetchone()
            version = SCHEMA_VERSION if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self}: meta schema_version {version} is newer than this Arverne "
                    f"understands ({SCHEMA_VERSION}); upgrade Arverne"
                )
            for step in range(version, SCHEMA_VERSION):
                for sql in MIGRATIONS[step]:
                    cur.execute(sql)
            cur.execute(
                f"INSERT INTO meta (key, value) VALUES ({ph}, {ph}) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                ("schema_version", str(SCHEMA_VERSION)),
            )

    def put_vehicles(self, vehicles: Sequence[VehicleRow], *, keep_stored: bool = False) -> None:
        """Insert or update vehicles, in one transaction (``keep_stored``: insert only the
        vehicles not stored yet, leave the others as they are).
        """
        if keep_stored:
            ph = self.placeholder
            sql = (
                f"INSERT INTO vehicles ({', '.join(_VEHICLE_COLS)}) "
                f"VALUES ({', '.join([ph] * len(_VEHICLE_COLS))}) "
                "ON CONFLICT (vehicle_id) DO NOTHING"
            )
        else:
            sql = _upsert("vehicles", _VEHICLE_COLS, "vehicle_id", self.placeholder)
        with self._transaction() as cur:
            cur.executemany(sql, [dataclasses.astuple(v) for v in vehicles])

    def commit(
        self,
        *,
        bookings: Sequence[BookingRow] = (),
        plans: Mapping[str, Sequence[PlanRow]] | None = None,
        meta: Mapping[str, str] | None = None,
        expect_versions: Mapping[str, int] | None = None,
    ) -> dict[str, int]:
        """Write booking rows and replace the plans of the given vehicles, in ONE transaction.

        Parameters
        ----------
        bookings
            Booking rows to insert or update.
        plans
            The complete new plan of each vehicle named.
        meta
            Settings to record.
        expect_versions
            The plan version each named vehicle had when the caller read it; a vehicle whose
            stored version differs makes the whole commit fail with :class:`StalePlanError`.

        Returns
        -------
        dict
            The new plan version of every vehicle in ``plans`` or ``expect_versions``.
        """
        ph = self.placeholder
        expected = dict(expect_versions or {})
        versions: dict[str, int] = {}
        with self._transaction() as cur:
            # sorted: two writers lock the vehicles they share in one order (no deadlock)
            for vehicle_id in sorted(set(plans or {}) | set(expected)):
                sql = f"UPDATE vehicles SET plan_version = plan_version + 1 WHERE vehicle_id = {ph}"
                params: tuple[Any, ...] = (vehicle_id,)
                if vehicle_id in expected:
                    sql += f" AND plan_version = {ph}"
                    params = (vehicle_id, expected[vehicle_id])
                cur.execute(sql + " RETURNING plan_version", params)
                row = cur.fetchone()
                if row is None:
                    raise StalePlanError(
                        f"{self}: the plan of vehicle {vehicle_id!r} changed since it was read "
                        "(or the vehicle is unknown); nothing stored"
                    )
                versions[vehicle_id] = int(row[0])
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
        return versions

    def versions(self) -> dict[str, int]:
        """The current plan version of every vehicle (one cheap query)."""
        with self._snapshot() as cur:
            cur.execute("SELECT vehicle_id, plan_version FROM vehicles")
            return {str(v): int(n) for v, n in cur.fetchall()}

    def load(self, vehicle_ids: Sequence[str] | None = None) -> StoredState:
        """Read everything back, in one consistent snapshot (the service rebuilds its plans
        from this).

        With ``vehicle_ids``, read only those vehicles, their plans and the confirmed bookings
        they serve (a process refreshing the plans another process changed).
        """
        ph = self.placeholder
        veh_sql = f"SELECT {', '.join(_VEHICLE_COLS)}, plan_version FROM vehicles"
        book_sql = f"SELECT {', '.join(_BOOKING_COLS)} FROM bookings"
        plan_sql = f"SELECT {', '.join(_PLAN_COLS)} FROM plan_events"
        params: tuple[str, ...] = ()
        if vehicle_ids is not None:
            params = tuple(vehicle_ids)
            if not params:
                return StoredState(vehicles=[], bookings=[], plan=[], meta={})
            among = f" WHERE vehicle_id IN ({', '.join([ph] * len(params))})"
            veh_sql += among
            book_sql += among + " AND status = 'confirmed'"
            plan_sql += among
        with self._snapshot() as cur:
            cur.execute(veh_sql + " ORDER BY vehicle_id", params)
            vehicle_rows = cur.fetchall()
            cur.execute(book_sql + " ORDER BY booking_id", params)
            bookings = [BookingRow(*r) for r in cur.fetchall()]
            cur.execute(plan_sql + " ORDER BY vehicle_id, seq", params)
            plan = [PlanRow(*r) for r in cur.fetchall()]
            cur.execute("SELECT key, value FROM meta")
            meta = {str(k): str(v) for k, v in cur.fetchall()}
        return StoredState(
            vehicles=[VehicleRow(*r[:-1]) for r in vehicle_rows],
            bookings=bookings,
            plan=plan,
            meta=meta,
            versions={str(r[0]): int(r[-1]) for r in vehicle_rows},
        )

    def __enter__(self) -> BookingStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
