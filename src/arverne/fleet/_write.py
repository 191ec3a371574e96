"""Write tour problems as one JSON file or a folder of CSV files (the layout of :mod:`.io`).

Whole-second times are written ``HH:MM[:SS]``, others as their exact number of seconds, so that
reading a written problem gives the same problem back.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from arverne.fleet.model import Problem


def _clock(seconds: float) -> str:
    """``HH:MM[:SS]`` for whole seconds, else the exact number of seconds (both read back)."""
    if not float(seconds).is_integer():
        return repr(float(seconds))
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}" + (f":{s % 60:02d}" if s % 60 else "")


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """The JSON structure of ``problem``: whole-second times as ``HH:MM[:SS]``, others as exact
    numbers of seconds, so that reading it back gives the same problem.
    """
    return {
        "name": problem.name,
        "dimensions": list(problem.dimensions),
        "places": [
            {"id": p.place_id, "lon": p.lon, "lat": p.lat, **({"name": p.name} if p.name else {})}
            for p in problem.places
        ],
        "depots": [
            {
                "id": d.depot_id,
                "place": d.place_id,
                "open": _clock(d.open_s),
                "close": _clock(d.close_s),
            }
            for d in problem.depots
        ],
        "vehicles": [
            {
                "id": v.vehicle_id,
                "start_depot": v.start_depot_id,
                "end_depot": v.end_depot,
                "capacity": list(v.capacity),
                "shift": [_clock(v.shift_start_s), _clock(v.shift_end_s)],
                "skills": sorted(v.skills),
                "profile": v.profile,
                "cost_per_km": v.cost_per_km,
                "cost_per_hour": v.cost_per_hour,
                "fixed_cost": v.fixed_cost,
                **(
                    {"max_duration": _clock(v.max_duration_s)}
                    if v.max_duration_s is not None
                    else {}
                ),
                **(
                    {
                        "breaks": [
                            {
                                "earliest": _clock(b.earliest_s),
                                "latest": _clock(b.latest_s),
                                "duration": _clock(b.duration_s),
                            }
                            for b in v.breaks
                        ]
                    }
                    if v.breaks
                    else {}
                ),
                **({"name": v.name} if v.name else {}),
            }
            for v in problem.vehicles
        ],
        "visits": [
            {
                "id": x.visit_id,
                "place": x.place_id,
                "service": _clock(x.service_s),
                "windows": [[_clock(a), _clock(b)] for a, b in x.windows],
                "demand": list(x.demand),
                **({"pickup": list(x.pickup)} if x.pickup else {}),
                "skills": sorted(x.skills),
                "priority": x.priority,
                "optional": x.optional,
                "penalty": x.penalty,
                **({"name": x.name} if x.name else {}),
            }
            for x in problem.visits
        ],
        "shipments": [
            {
                "id": s.shipment_id,
                "pickup_place": s.pickup_place_id,
                "delivery_place": s.delivery_place_id,
                "amount": list(s.amount),
                "pickup_window": [_clock(w) for w in s.pickup_window] if s.pickup_window else None,
                "delivery_window": [_clock(w) for w in s.delivery_window]
                if s.delivery_window
                else None,
                "pickup_service": _clock(s.pickup_service_s),
                "delivery_service": _clock(s.delivery_service_s),
                "skills": sorted(s.skills),
                "priority": s.priority,
                "optional": s.optional,
                "penalty": s.penalty,
                **({"max_ride": _clock(s.max_ride_s)} if s.max_ride_s is not None else {}),
                **({"name": s.name} if s.name else {}),
            }
            for s in problem.shipments
        ],
    }


def write_problem_json(problem: Problem, path: str | Path) -> Path:
    """Write ``problem`` as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(problem_to_dict(problem), indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return path


def write_problem_csv(problem: Problem, folder: str | Path) -> Path:
    """Write ``problem`` as a folder of CSV files a spreadsheet opens; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dims = list(problem.dimensions)

    def write(name: str, header: list[str], rows: list[list[Any]]) -> None:
        with (folder / name).open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)

    write(
        "places.csv",
        ["id", "lon", "lat", "name"],
        [[p.place_id, p.lon, p.lat, p.name] for p in problem.places],
    )
    write(
        "depots.csv",
        ["id", "place", "open", "close"],
        [[d.depot_id, d.place_id, _clock(d.open_s), _clock(d.close_s)] for d in problem.depots],
    )

    def q(value: tuple[int, ...]) -> list[Any]:
        return list(value) if value else [""] * len(dims)

    write(
        "vehicles.csv",
        [
            "id",
            "start_depot",
            "end_depot",
            "shift_start",
            "shift_end",
            "skills",
            "profile",
            "cost_per_km",
            "cost_per_hour",
            "fixed_cost",
            "max_duration",
            "breaks",
            "name",
            *[f"capacity_{d}" for d in dims],
        ],
        [
            [
                v.vehicle_id,
                v.start_depot_id,
                v.end_depot,
                _clock(v.shift_start_s),
                _clock(v.shift_end_s),
                "|".join(sorted(v.skills)),
                v.profile,
                v.cost_per_km,
                v.cost_per_hour,
                v.fixed_cost,
                _clock(v.max_duration_s) if v.max_duration_s is not None else "",
                "|".join(
                    f"{_clock(b.earliest_s)}-{_clock(b.latest_s)}/{_clock(b.duration_s)}"
                    for b in v.breaks
                ),
                v.name,
                *q(v.capacity),
            ]
            for v in problem.vehicles
        ],
    )
    write(
        "visits.csv",
        [
            "id",
            "place",
            "service",
            "windows",
            "skills",
            "priority",
            "optional",
            "penalty",
            "name",
            *[f"demand_{d}" for d in dims],
            *[f"pickup_{d}" for d in dims],
        ],
        [
            [
                x.visit_id,
                x.place_id,
                _clock(x.service_s),
                "|".join(f"{_clock(a)}-{_clock(b)}" for a, b in x.windows),
                "|".join(sorted(x.skills)),
                x.priority,
                "yes" if x.optional else "",
                x.penalty,
                x.name,
                *q(x.demand),
                *q(x.pickup),
            ]
            for x in problem.visits
        ],
    )
    if problem.shipments:
        write(
            "shipments.csv",
            [
                "id",
                "pickup_place",
                "delivery_place",
                "pickup_window",
                "delivery_window",
                "pickup_service",
                "delivery_service",
                "skills",
                "priority",
                "optional",
                "penalty",
                "max_ride",
                "name",
                *[f"amount_{d}" for d in dims],
            ],
            [
                [
                    s.shipment_id,
                    s.pickup_place_id,
                    s.delivery_place_id,
                    "-".join(_clock(w) for w in s.pickup_window) if s.pickup_window else "",
                    "-".join(_clock(w) for w in s.delivery_window) if s.delivery_window else "",
                    _clock(s.pickup_service_s),
                    _clock(s.delivery_service_s),
                    "|".join(sorted(s.skills)),
                    s.priority,
                    "yes" if s.optional else "",
                    s.penalty,
                    _clock(s.max_ride_s) if s.max_ride_s is not None else "",
                    s.name,
                    *q(s.amount),
                ]
                for s in problem.shipments
            ],
        )
    return folder
