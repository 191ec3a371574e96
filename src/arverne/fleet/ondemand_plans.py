"""Every shuttle's plan as the arrays of :mod:`arverne.fleet._darp_kernels`, and its conversion
from and to the store's plan rows.

:class:`ShuttlePlans` owns the arrays and calls the kernels (best insertion, insertion, removal,
ruin and recreate, the clock); :class:`arverne.fleet.ondemand.OnDemandService` decides what to
promise and what to store.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from arverne.errors import StoreError
from arverne.fleet import _darp_kernels as K
from arverne.fleet.ondemand_model import PlanStop, ServiceParams, Shuttle
from arverne.fleet.service_area import ServiceArea
from arverne.store import BookingRow, PlanRow

_KIND_NAMES = {
    K.KIND_START: "start",
    K.KIND_PICKUP: "pickup",
    K.KIND_DROP: "dropoff",
    K.KIND_END: "end",
}


class Trip(NamedTuple):
    """A request ready for the kernels: service point indices, windows in seconds, loads."""

    pickup: int
    dropoff: int
    pickup_lo_s: float
    pickup_hi_s: float
    dropoff_lo_s: float
    dropoff_hi_s: float
    pickup_service_s: float
    dropoff_service_s: float
    seats: int
    wheelchairs: int
    max_ride_s: float
    direct_s: float


Saved = tuple[np.ndarray, np.ndarray, np.ndarray]
"""A copy of (ev_f, ev_i, n_ev), of one shuttle or of all."""


class ShuttlePlans:
    """The plans of a fleet of shuttles, one row of each array per shuttle (layouts in
    :mod:`arverne.fleet._darp_kernels`), and the kernel index of every booking seen.
    """

    def __init__(self, shuttles: Sequence[Shuttle], area: ServiceArea, params: ServiceParams):
        self.shuttles = list(shuttles)
        self.area = area
        self.params = params
        nv = len(self.shuttles)
        cap = params.max_events + 2
        self.ev_f = np.zeros((nv, cap, K.NF))
        self.ev_i = np.zeros((nv, cap, K.NI), dtype=np.int32)
        self.n_ev = np.full(nv, 2, dtype=np.int32)
        self.v_cap1 = np.array([v.seats for v in self.shuttles], dtype=np.int32)
        self.v_cap2 = np.array([v.wheelchairs for v in self.shuttles], dtype=np.int32)
        self.v_lock = np.zeros(nv, dtype=np.int32)
        self.v_ready = np.full(nv, -np.inf)
        self.v_maxdur = np.full(nv, np.inf)
        self.v_active = np.ones(nv, dtype=np.bool_)
        self.cf = np.zeros((cap + 2, K.NF))
        self.ci = np.zeros((cap + 2, K.NI), dtype=np.int32)
        self.out = np.zeros(3)
        self.best = np.zeros(4)
        """float64[4]: the best insertion found (cost, shuttle, pickup and drop-off position)."""
        self.tt = area.travel_s
        # kernel request index of every booking id ever seen (stable across reloads)
        self.booking_ids: list[str] = []
        self._index: dict[str, int] = {}
        for v in range(nv):
            self.reset(v)

    # -- requests ------------------------------------------------------------------------------
    def index(self, booking_id: str) -> int:
        """The kernel index of a booking, given on first sight and kept."""
        idx = self._index.get(booking_id)
        if idx is None:
            idx = len(self.booking_ids)
            self.booking_ids.append(booking_id)
            self._index[booking_id] = idx
        return idx

    def forget_last(self, booking_id: str) -> None:
        """Take back the index just given to a booking that was never stored."""
        if self.booking_ids and self.booking_ids[-1] == booking_id:
            self.booking_ids.pop()
            del self._index[booking_id]

    # -- one shuttle ---------------------------------------------------------------------------
    def reset(self, v: int) -> None:
        """An empty plan: from the depot at the shift start back to it by the shift end."""
        veh = self.shuttles[v]
        depot = self.area.index(veh.depot)
        for k, kind in ((0, K.KIND_START), (1, K.KIND_END)):
            self.ev_f[v, k] = 0.0
            self.ev_f[v, k, K.F_E] = veh.shift_start_s
            self.ev_f[v, k, K.F_L] = veh.shift_end_s
            self.ev_f[v, k, K.F_RIDE] = np.inf
            self.ev_i[v, k] = 0
            self.ev_i[v, k, K.I_PT] = depot
            self.ev_i[v, k, K.I_PARTNER] = -1
            self.ev_i[v, k, K.I_KIND] = kind
            self.ev_i[v, k, K.I_REQ] = -1
        self.n_ev[v] = 2
        self.v_lock[v] = 0
        self.v_ready[v] = -np.inf
        self.refresh(v)

    def refresh(self, v: int) -> bool:
        """Recompute shuttle ``v``'s schedule; False when its plan breaks a promise."""
        return bool(
            K.refresh_route(
                int(self.n_ev[v]),
                self.ev_f[v],
                self.ev_i[v],
                self.tt,
                self.v_maxdur[v],
                self.v_lock[v],
                self.v_ready[v],
            )
        )

    def save(self, v: int | None = None) -> Saved:
        """A copy of shuttle ``v``'s plan (of every plan when ``v`` is None)."""
        if v is None:
            return self.ev_f.copy(), self.ev_i.copy(), self.n_ev.copy()
        return self.ev_f[v].copy(), self.ev_i[v].copy(), self.n_ev[v : v + 1].copy()

    def restore(self, saved: Saved, v: int | None = None) -> None:
        """Put back what :meth:`save` copied."""
        if v is None:
            self.ev_f[:], self.ev_i[:], self.n_ev[:] = saved
        else:
            self.ev_f[v], self.ev_i[v], self.n_ev[v] = saved[0], saved[1], saved[2][0]

    def load(self, v: int, rows: Sequence[PlanRow], bookings: Mapping[str, BookingRow]) -> set[str]:
        """Set shuttle ``v``'s plan to the stored ``rows`` of the confirmed ``bookings``;
        return the booking ids it serves. A plan that breaks a promise is refused.
        """
        vehicle_id = self.shuttles[v].vehicle_id
        if len(rows) + 2 > self.ev_f.shape[1]:
            raise StoreError(f"plan_events: vehicle {vehicle_id} holds more than max_events stops")
        self.reset(v)
        end_f = self.ev_f[v, 1].copy()
        end_i = self.ev_i[v, 1].copy()
        pos: dict[str, int] = {}
        served: set[str] = set()
        for k, row in enumerate(rows, start=1):
            b = bookings.get(row.booking_id)
            if b is None or b.vehicle_id != vehicle_id:
                raise StoreError(
                    f"plan_events: vehicle {vehicle_id} seq {row.seq} names booking "
                    f"{row.booking_id}, which is not confirmed on that vehicle"
                )
            pickup = row.kind == "pickup"
            f = self.ev_f[v, k]
            i = self.ev_i[v, k]
            f[:] = 0.0
            i[:] = 0
            f[K.F_E] = row.tw_lo_s
            f[K.F_L] = row.tw_hi_s
            f[K.F_SVC] = b.pickup_service_s if pickup else b.dropoff_service_s
            f[K.F_RIDE] = np.inf if pickup else b.max_ride_s
            i[K.I_PT] = self.area.index(row.point)
            sign = 1 if pickup else -1
            i[K.I_Q1] = sign * b.passengers
            i[K.I_Q2] = sign * b.wheelchairs
            i[K.I_KIND] = K.KIND_PICKUP if pickup else K.KIND_DROP
            i[K.I_REQ] = self.index(b.booking_id)
            if row.frozen:
                self.v_lock[v] = k
            if pickup:
                pos[row.booking_id] = k
            else:
                if row.booking_id not in pos:
                    raise StoreError(
                        f"plan_events: vehicle {vehicle_id}: drop-off of {row.booking_id} "
                        "comes before its pickup"
                    )
                p = pos.pop(row.booking_id)
                i[K.I_PARTNER] = p
                self.ev_i[v, p, K.I_PARTNER] = k
                served.add(row.booking_id)
        if pos:
            raise StoreError(f"plan_events: vehicle {vehicle_id}: pickups without drop-off")
        n = len(rows) + 2
        self.ev_f[v, n - 1] = end_f
        self.ev_i[v, n - 1] = end_i
        self.n_ev[v] = n
        if not self.refresh(v):
            raise StoreError(
                f"plan_events: the stored plan of vehicle {vehicle_id} breaks a promise"
            )
        return served

    def rows(self, v: int) -> list[PlanRow]:
        """Shuttle ``v``'s plan as store rows (pickups and drop-offs, depots implied)."""
        vehicle_id = self.shuttles[v].vehicle_id
        rows = []
        for k in range(1, int(self.n_ev[v]) - 1):
            f = self.ev_f[v, k]
            i = self.ev_i[v, k]
            rows.append(
                PlanRow(
                    vehicle_id=vehicle_id,
                    seq=k - 1,
                    booking_id=self.booking_ids[int(i[K.I_REQ])],
                    kind="pickup" if i[K.I_KIND] == K.KIND_PICKUP else "dropoff",
                    point=self.area.point_id[int(i[K.I_PT])],
                    tw_lo_s=float(f[K.F_E]),
                    tw_hi_s=float(f[K.F_L]),
                    planned_s=float(f[K.F_B]),
                    frozen=1 if k <= self.v_lock[v] else 0,
                )
            )
        return rows

    def stops(self, v: int) -> list[PlanStop]:
        """Shuttle ``v``'s plan, start and end depot included."""
        out = []
        for k in range(int(self.n_ev[v])):
            f = self.ev_f[v, k]
            i = self.ev_i[v, k]
            r = int(i[K.I_REQ])
            out.append(
                PlanStop(
                    kind=_KIND_NAMES[int(i[K.I_KIND])],
                    point=self.area.point_id[int(i[K.I_PT])],
                    booking_id=self.booking_ids[r] if r >= 0 else None,
                    planned_s=float(f[K.F_B]),
                    tw_lo_s=float(f[K.F_E]),
                    tw_hi_s=float(f[K.F_L]),
                    seats_after=int(i[K.I_LOAD1]),
                    wheelchairs_after=int(i[K.I_LOAD2]),
                    frozen=0 < k <= int(self.v_lock[v]),
                )
            )
        return out

    def is_frozen(self, v: int, booking_id: str) -> bool:
        """Whether shuttle ``v`` has left for the booking's pickup."""
        idx = self._index.get(booking_id, -1)
        return any(self.ev_i[v, k, K.I_REQ] == idx for k in range(1, int(self.v_lock[v]) + 1))

    # -- the clock -----------------------------------------------------------------------------
    def freeze(self, now_s: float) -> None:
        """Freeze every stop a shuttle leaves for before ``now_s + freeze_s`` (it waits where it
        is and leaves just in time), and let none leave its last frozen stop before ``now_s``.
        """
        horizon = now_s + self.params.freeze_s
        for v in range(len(self.shuttles)):
            n = int(self.n_ev[v])
            k = int(self.v_lock[v]) + 1
            while k < n - 1:
                pa = self.ev_i[v, k - 1, K.I_PT]
                pb = self.ev_i[v, k, K.I_PT]
                depart = self.ev_f[v, k, K.F_B] - self.tt[pa, pb]
                if depart > horizon:
                    break
                b = self.ev_f[v, k, K.F_B]
                self.ev_f[v, k, K.F_E] = b
                self.ev_f[v, k, K.F_L] = b
                self.v_lock[v] = k
                k += 1
            ready = now_s
            if k == n - 1:
                # only the way back is left: a shuttle that must already have left for its
                # depot (or whose shift is over) left then; it takes no more rides (a detour
                # from leave_by cannot reach the depot in time either)
                last = self.ev_i[v, k - 1, K.I_PT]
                leave_by = self.ev_f[v, k, K.F_L] - self.tt[last, self.ev_i[v, k, K.I_PT]]
                if leave_by < now_s:
                    self.v_active[v] = False
                    ready = leave_by
            self.v_ready[v] = max(self.v_ready[v], ready)
            if not self.refresh(v):  # cannot happen: unfrozen stops leave after now + freeze
                raise StoreError(
                    f"internal: vehicle {self.shuttles[v].vehicle_id} plan broke at {now_s}"
                )

    # -- kernels -------------------------------------------------------------------------------
    def best_shuttle(self, trip: Trip, ridx: int, *, ignore_capacity: bool = False) -> int:
        """The shuttle with the cheapest feasible insertion of ``trip`` (-1 for none); the
        positions are left in :attr:`best`.
        """
        return int(
            K.best_insertion(
                self.ev_f, self.ev_i, self.n_ev, self.v_cap1, self.v_cap2, self.v_lock,
                self.v_ready, self.v_maxdur, self.v_active, self.tt, *trip[:11], ridx,
                self.params.wait_weight, ignore_capacity, self.cf, self.ci, self.out, self.best,
            )
        )  # fmt: skip

    def insert(self, v: int, trip: Trip, ridx: int) -> tuple[int, int]:
        """Insert ``trip`` in shuttle ``v`` where :meth:`best_shuttle` found it; return the
        positions of its pickup and drop-off.
        """
        i, j = int(self.best[2]), int(self.best[3])
        K.apply_insertion(
            self.ev_f, self.ev_i, self.n_ev, self.v_lock, self.v_ready, self.v_maxdur, self.tt,
            v, i, j, *trip[:11], ridx, self.cf, self.ci,
        )  # fmt: skip
        return i + 1, j + 2

    def remove(self, v: int, booking_id: str) -> bool:
        """Remove a booking's stops from shuttle ``v``; False (plan unchanged) if that breaks it."""
        saved = self.save(v)
        ok, _a, _b = K.remove_request(
            self.ev_f, self.ev_i, self.n_ev, self.v_lock, self.v_ready, self.v_maxdur, self.tt,
            v, self.index(booking_id),
        )  # fmt: skip
        if not ok:
            self.restore(saved, v)
            self.refresh(v)
        return bool(ok)

    def improve(self, *, max_runtime: float, seed: int) -> int:
        """Ruin and recreate the unfrozen bookings for ``max_runtime`` seconds, keeping every
        stop's window; return the iterations run.
        """
        t0 = time.perf_counter()
        nr = max(len(self.booking_ids), 1)
        r_f = np.zeros((nr, K.NRF))
        r_i = np.zeros((nr, K.NRI), dtype=np.int32)
        for v in range(len(self.shuttles)):
            for k in range(1, int(self.n_ev[v]) - 1):
                r = int(self.ev_i[v, k, K.I_REQ])
                f = self.ev_f[v, k]
                if self.ev_i[v, k, K.I_KIND] == K.KIND_PICKUP:
                    r_f[r, K.R_PE] = f[K.F_E]
                    r_f[r, K.R_PL] = f[K.F_L]
                    r_f[r, K.R_PS] = f[K.F_SVC]
                    r_i[r, K.R_PP] = self.ev_i[v, k, K.I_PT]
                    r_i[r, K.R_Q1] = self.ev_i[v, k, K.I_Q1]
                    r_i[r, K.R_Q2] = self.ev_i[v, k, K.I_Q2]
                    r_i[r, K.R_VEH] = v
                    r_i[r, K.R_ACTIVE] = 1
                    r_i[r, K.R_MOVABLE] = 1 if k > self.v_lock[v] else 0
                else:
                    r_f[r, K.R_DE] = f[K.F_E]
                    r_f[r, K.R_DL] = f[K.F_L]
                    r_f[r, K.R_DS] = f[K.F_SVC]
                    r_f[r, K.R_RIDE] = f[K.F_RIDE]
                    r_i[r, K.R_DP] = self.ev_i[v, k, K.I_PT]
        iterations = 0
        rng = np.random.default_rng(seed)
        nm = int(np.sum(r_i[:, K.R_MOVABLE]))
        if nm > 0:
            chunk = 50
            while time.perf_counter() - t0 < max_runtime:
                K.lns(
                    self.ev_f, self.ev_i, self.n_ev, self.v_cap1, self.v_cap2, self.v_lock,
                    self.v_ready, self.v_maxdur, self.tt, r_f, r_i, chunk, max(2, min(nm // 4, 10)),
                    int(rng.integers(1 << 30)), 0.0, False, 0.0, self.cf, self.ci,
                )  # fmt: skip
                iterations += chunk
        return iterations

    def total_travel_s(self) -> float:
        """Total planned driving time of the fleet."""
        return float(K.total_travel(self.ev_i, self.n_ev, self.tt))
