"""Three worked tour problems in the demo territory, written as example files.

``home_care``
    A morning round of home nursing from the health centre: four nurses (one on a bike in
    town) with skills (insulin, wound care, palliative care), patients at the territory's
    population points with care durations and time windows (some with a second, afternoon
    window), and two optional social visits with a penalty.
``farm_goods``
    Goods pickup and delivery: two vans from the town's depot collect crates from farms and
    deliver them to shops, with farm pickup windows, shop opening hours and two load dimensions
    (crates, kg).
``farm_machines``
    A cooperative's shared machines: three tractors (tractor speed profile, so no motorway)
    with their implements as skills (mower, baler, seed drill) go from the cooperative's yard to
    farm tasks lasting hours over a working day; some tasks are optional.

Places come from the demo territory's ``places.csv`` (:mod:`arverne.demo.territory`); without
it, coordinates drawn around Vernac (lon 3.10, lat 45.70) are used and the problem says so in
its name. The same seed gives the same files.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from arverne.fleet.io import write_problem_csv, write_problem_json
from arverne.fleet.model import Depot, Place, Problem, Shipment, Vehicle, Visit

SCENARIOS = ("home_care", "farm_goods", "farm_machines")

H = 3600.0
M = 60.0


@dataclass(frozen=True)
class _Src:
    place_id: str
    kind: str
    name: str
    lon: float
    lat: float


def read_places(places_csv: str | Path | None) -> list[_Src]:
    """The demo territory's places, or a stand-in drawn around Vernac when there is none."""
    if places_csv is not None and Path(places_csv).exists():
        with Path(places_csv).open(encoding="utf-8") as fh:
            return [
                _Src(r["place_id"], r["kind"], r["name"], float(r["lon"]), float(r["lat"]))
                for r in csv.DictReader(fh)
            ]
    rng = random.Random(42)
    out = [_Src("H02", "health_centre", "Maison de santé (stand-in)", 3.0961, 45.6987)]
    for i in range(24):
        out.append(
            _Src(
                f"P{i:02d}",
                "population",
                f"Quartier {i}",
                3.10 + rng.uniform(-0.05, 0.05),
                45.70 + rng.uniform(-0.035, 0.035),
            )
        )
    for i in range(10):
        out.append(
            _Src(
                f"F{i:02d}",
                "farm",
                f"Ferme {i}",
                3.10 + rng.uniform(-0.12, 0.12),
                45.70 + rng.uniform(-0.08, 0.08),
            )
        )
    for i in range(6):
        out.append(
            _Src(
                f"S{i:02d}",
                "shop",
                f"Commerce {i}",
                3.10 + rng.uniform(-0.01, 0.01),
                45.70 + rng.uniform(-0.008, 0.008),
            )
        )
    return out


def _place(src: _Src) -> Place:
    return Place(src.place_id, src.lon, src.lat, src.name)


def _of(places: list[_Src], kind: str) -> list[_Src]:
    return [p for p in places if p.kind == kind]


def home_care(places: list[_Src], *, seed: int = 1) -> Problem:
    """Home-care round: nurses with skills, patients with windows and care durations."""
    rng = random.Random(seed)
    centre = (_of(places, "health_centre") or _of(places, "hospital"))[0]
    homes = _of(places, "population")
    used = [centre, *homes]
    depot = Depot("centre", centre.place_id, 7 * H, 20 * H)
    nurses = [
        Vehicle(
            "nurse-anne",
            "centre",
            capacity=(12,),
            shift_start_s=7 * H,
            shift_end_s=13 * H,
            skills=frozenset({"care", "insulin", "wound"}),
            cost_per_km=0.35,
            cost_per_hour=32.0,
        ),
        Vehicle(
            "nurse-bruno",
            "centre",
            capacity=(12,),
            shift_start_s=7 * H,
            shift_end_s=13 * H,
            skills=frozenset({"care", "insulin"}),
            cost_per_km=0.35,
            cost_per_hour=32.0,
        ),
        Vehicle(
            "nurse-chloe",
            "centre",
            capacity=(12,),
            shift_start_s=7.5 * H,
            shift_end_s=13.5 * H,
            skills=frozenset({"care", "wound", "palliative"}),
            cost_per_km=0.35,
            cost_per_hour=32.0,
            max_duration_s=5.5 * H,
        ),
        Vehicle(
            "nurse-david",
            "centre",
            capacity=(6,),
            shift_start_s=7 * H,
            shift_end_s=12 * H,
            skills=frozenset({"care"}),
            profile="bike",
            cost_per_km=0.05,
            cost_per_hour=30.0,
        ),
    ]
    visits = []
    for i, home in enumerate(homes[:20]):
        kind = rng.random()
        skills = {"care"}
        if kind < 0.3:
            skills.add("insulin")
            service = 15 * M
            start = rng.choice([7.5, 8.0, 8.5]) * H
            windows: tuple[tuple[float, float], ...] = ((start, start + H),)
        elif kind < 0.5:
            skills.add("wound")
            service = 35 * M
            start = rng.choice([8.0, 9.0, 10.0]) * H
            windows = ((start, start + 2 * H),)
        elif kind < 0.58:
            skills.add("palliative")
            service = 45 * M
            windows = ((9 * H, 12 * H),)
        else:
            service = rng.choice([20, 25, 30]) * M
            start = rng.choice([8.0, 9.0, 10.0]) * H
            # a patient who is also fine with a late-morning slot
            windows = (
                ((start, start + 1.5 * H), (11.5 * H, 12.5 * H))
                if rng.random() < 0.4
                else ((start, start + 2 * H),)
            )
        visits.append(
            Visit(
                f"patient-{i + 1:02d}",
                home.place_id,
                service,
                windows,
                demand=(1,),
                skills=frozenset(skills),
                priority=2 if "insulin" in skills else 1,
                name=home.name,
            )
        )
    for j, home in enumerate(homes[20:22]):
        visits.append(
            Visit(
                f"social-{j + 1}",
                home.place_id,
                20 * M,
                ((9 * H, 12 * H),),
                demand=(0,),
                skills=frozenset({"care"}),
                optional=True,
                penalty=15.0,
                name=home.name,
            )
        )
    return Problem(
        tuple(_place(p) for p in used),
        (depot,),
        tuple(nurses),
        tuple(visits),
        (),
        ("kits",),
        "home_care",
    )


def farm_goods(places: list[_Src], *, seed: int = 2) -> Problem:
    """Goods pickup and delivery: crates from farms to shops with windows, two load dimensions."""
    rng = random.Random(seed)
    shops = _of(places, "shop")
    farms = _of(places, "farm")
    hub = shops[0]
    depot = Depot("hub", hub.place_id, 6 * H, 19 * H)
    vans = [
        Vehicle(
            f"van-{k + 1}",
            "hub",
            capacity=(40, 600),
            shift_start_s=6.5 * H,
            shift_end_s=14 * H,
            cost_per_km=0.45,
            cost_per_hour=28.0,
            fixed_cost=20.0,
        )
        for k in range(2)
    ]
    shipments = []
    for i in range(14):
        farm = farms[i % len(farms)]
        shop = shops[1 + rng.randrange(len(shops) - 1)] if len(shops) > 1 else shops[0]
        crates = rng.randint(2, 8)
        kg = crates * rng.randint(8, 15)
        p0 = rng.choice([7.0, 7.5, 8.0, 9.0]) * H
        d0 = rng.choice([8.5, 9.0, 10.0]) * H
        shipments.append(
            Shipment(
                f"order-{i + 1:02d}",
                farm.place_id,
                shop.place_id,
                (crates, kg),
                pickup_window=(p0, p0 + 2.5 * H),
                delivery_window=(d0, 13 * H),
                pickup_service_s=8 * M,
                delivery_service_s=6 * M,
                name=f"{farm.name} -> {shop.name}",
            )
        )
    used = {hub.place_id: hub}
    for s in shipments:
        for pid in (s.pickup_place_id, s.delivery_place_id):
            used.setdefault(pid, next(p for p in places if p.place_id == pid))
    return Problem(
        tuple(_place(p) for p in used.values()),
        (depot,),
        tuple(vans),
        (),
        tuple(shipments),
        ("crates", "kg"),
        "farm_goods",
    )


def farm_machines(places: list[_Src], *, seed: int = 3) -> Problem:
    """Shared farm machines: tractors with implements as skills, tasks of hours over a day."""
    rng = random.Random(seed)
    farms = _of(places, "farm")
    yard = farms[0]
    depot = Depot("yard", yard.place_id, 6 * H, 21 * H)
    tractors = [
        Vehicle(
            "tractor-mower",
            "yard",
            shift_start_s=7 * H,
            shift_end_s=19 * H,
            skills=frozenset({"mower"}),
            profile="tractor",
            cost_per_km=1.2,
            cost_per_hour=45.0,
            max_duration_s=11 * H,
        ),
        Vehicle(
            "tractor-baler",
            "yard",
            shift_start_s=7 * H,
            shift_end_s=19 * H,
            skills=frozenset({"baler", "mower"}),
            profile="tractor",
            cost_per_km=1.4,
            cost_per_hour=50.0,
            max_duration_s=11 * H,
        ),
        Vehicle(
            "tractor-seeder",
            "yard",
            shift_start_s=7 * H,
            shift_end_s=19 * H,
            skills=frozenset({"seeder"}),
            profile="tractor",
            cost_per_km=1.2,
            cost_per_hour=45.0,
            max_duration_s=11 * H,
        ),
    ]
    visits = []
    jobs = ["mower", "baler", "seeder"]
    for i, farm in enumerate(farms[1:]):
        job = jobs[i % 3]
        hours = rng.choice([1.5, 2.0, 2.5, 3.0, 4.0])
        window = ((8 * H, 17 * H),) if rng.random() < 0.6 else ((13 * H, 18 * H),)
        optional = i >= 8
        visits.append(
            Visit(
                f"{job}-{farm.place_id}",
                farm.place_id,
                hours * H,
                window,
                skills=frozenset({job}),
                optional=optional,
                penalty=60.0 if optional else 0.0,
                priority=0 if optional else 1,
                name=f"{job} at {farm.name}",
            )
        )
    return Problem(
        tuple(_place(p) for p in farms),
        (depot,),
        tuple(tractors),
        tuple(visits),
        (),
        (),
        "farm_machines",
    )


def build_scenarios(places_csv: str | Path | None = None) -> dict[str, Problem]:
    """The three problems, from a demo territory's ``places.csv`` (or stand-in coordinates)."""
    places = read_places(places_csv)
    return {
        "home_care": home_care(places),
        "farm_goods": farm_goods(places),
        "farm_machines": farm_machines(places),
    }


def write_scenarios(out_dir: str | Path, places_csv: str | Path | None = None) -> dict[str, Path]:
    """Write each scenario as ``<name>.json`` and as a CSV folder ``<name>/``; return the JSON paths."""
    out_dir = Path(out_dir)
    paths = {}
    for name, problem in build_scenarios(places_csv).items():
        paths[name] = write_problem_json(problem, out_dir / f"{name}.json")
        write_problem_csv(problem, out_dir / name)
    return paths
