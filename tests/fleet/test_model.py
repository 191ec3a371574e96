"""The tour problem model and its JSON / CSV readers: validation and error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.errors import ProblemError
from arverne.fleet.io import (
    parse_duration,
    parse_time,
    problem_from_dict,
    read_problem,
    write_problem_csv,
    write_problem_json,
)
from arverne.fleet.model import Break, Depot, Place, Problem, Shipment, Vehicle, Visit


def small_dict() -> dict:
    """A valid problem as JSON data."""
    return {
        "name": "small",
        "dimensions": ["crates"],
        "places": [
            {"id": "base", "lon": 3.10, "lat": 45.70},
            {"id": "a", "lon": 3.11, "lat": 45.70},
            {"id": "b", "lon": 3.12, "lat": 45.71},
        ],
        "depots": [{"id": "d", "place": "base", "open": "06:00", "close": "20:00"}],
        "vehicles": [
            {
                "id": "v1",
                "start_depot": "d",
                "capacity": [10],
                "shift": ["08:00", "12:00"],
                "skills": ["x"],
                "breaks": [{"earliest": "10:00", "latest": "11:00", "duration": "15min"}],
            }
        ],
        "visits": [
            {
                "id": "p1",
                "place": "a",
                "service": "0:20",
                "windows": [["08:00", "09:00"], ["10:00", "11:00"]],
                "demand": [2],
                "skills": ["x"],
            },
            {"id": "p2", "lon": 3.13, "lat": 45.72, "service": 600, "optional": True, "penalty": 5},
        ],
        "shipments": [
            {
                "id": "s1",
                "pickup_place": "a",
                "delivery_place": "b",
                "amount": [3],
                "pickup_window": ["08:00", "10:00"],
                "max_ride": "0:30",
            }
        ],
    }


def test_reads_valid_json(tmp_path: Path) -> None:
    """A complete JSON problem reads into the dataclasses with times in seconds."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps(small_dict()))
    problem = read_problem(path)
    assert [v.visit_id for v in problem.visits] == ["p1", "p2"]
    assert problem.visits[0].windows == ((8 * 3600.0, 9 * 3600.0), (10 * 3600.0, 11 * 3600.0))
    assert problem.visits[1].place_id == "p2"  # a place made from lon/lat
    assert problem.vehicles[0].breaks == (Break(36000.0, 39600.0, 900.0),)
    assert problem.shipments[0].max_ride_s == 1800.0
    assert problem.vehicles[0].end_depot == "d"


def test_json_csv_round_trip(tmp_path: Path) -> None:
    """Writing a problem as JSON and as CSV then reading both gives the same problem back."""
    problem = problem_from_dict(small_dict())
    a = read_problem(write_problem_json(problem, tmp_path / "p.json"))
    b = read_problem(write_problem_csv(problem, tmp_path / "small"))
    assert a == problem
    assert (
        b.visits == problem.visits
        and b.vehicles == problem.vehicles
        and b.shipments == problem.shipments
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["visits"][0].update(place="nowhere"),
            "problem.json visits[0]: field 'place' names unknown place 'nowhere'",
        ),
        (
            lambda d: d["visits"][0].update(windows=[["10:00", "09:00"]]),
            "visits[0]: field 'windows' window 10:00-09:00 ends before it starts",
        ),
        (
            lambda d: d["visits"][0].update(demand=[-1]),
            "visits[0]: field 'demand' is negative (-1)",
        ),
        (lambda d: d.update(vehicles=[]), "field 'vehicles' is empty"),
        (
            lambda d: d["vehicles"][0].update(start_depot="zz"),
            "vehicles[0]: field 'start_depot' names unknown depot 'zz'",
        ),
        (
            lambda d: d["vehicles"][0].update(profile="plane"),
            "field 'profile' 'plane' is not one of",
        ),
        (
            lambda d: d["vehicles"][0].update(capacity=[1, 2]),
            "has 2 values but the problem has 1 load dimensions",
        ),
        (
            lambda d: d["visits"][0].update(service="ten"),
            "visits[0]: field 'service' 'ten' is not a time",
        ),
        (
            lambda d: d["shipments"][0].update(delivery_place="zz"),
            "shipments[0]: field 'delivery_place' names unknown place 'zz'",
        ),
        (
            lambda d: d["places"].append({"id": "a", "lon": 1, "lat": 2}),
            "'a' is used by two places",
        ),
        (
            lambda d: d["visits"][0].update(windows=[["08:61", "09:00"]]),
            "is not a time (minutes and seconds go to 59)",
        ),
    ],
)
def test_json_errors_name_item_and_field(change, message: str) -> None:
    """Each kind of bad input gives one ProblemError naming the item and the field."""
    data = small_dict()
    change(data)
    with pytest.raises(ProblemError) as info:
        problem_from_dict(data)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_json_syntax(tmp_path: Path) -> None:
    """A file that is not JSON is refused with its name and line."""
    path = tmp_path / "p.json"
    path.write_text('{"places": [\n  {"id": }\n]}')
    with pytest.raises(ProblemError, match=r"p.json line 2: not valid JSON"):
        read_problem(path)


def write_csv_folder(
    folder: Path, visits_rows: str, vehicles_rows: str = "v1,d,08:00,12:00,x,car,10\n"
) -> Path:
    """A CSV problem folder with the given visits and vehicles rows."""
    folder.mkdir()
    (folder / "places.csv").write_text("id,lon,lat\nbase,3.10,45.70\na,3.11,45.70\n")
    (folder / "depots.csv").write_text("id,place,open,close\nd,base,06:00,20:00\n")
    (folder / "vehicles.csv").write_text(
        "id,start_depot,shift_start,shift_end,skills,profile,capacity_crates\n" + vehicles_rows
    )
    (folder / "visits.csv").write_text(
        "id,place,service,windows,skills,demand_crates\n" + visits_rows
    )
    return folder


def test_csv_folder_reads(tmp_path: Path) -> None:
    """A spreadsheet-style CSV folder reads; dimensions come from the capacity_* columns."""
    folder = write_csv_folder(
        tmp_path / "p", "p1,a,0:20,08:00-09:00|10:00-11:00,x,2\np2,a,10min,,,\n"
    )
    problem = read_problem(folder)
    assert problem.dimensions == ("crates",)
    assert problem.visits[0].windows == ((28800.0, 32400.0), (36000.0, 39600.0))
    assert problem.visits[1].demand == ()
    assert problem.vehicles[0].capacity == (10,)


def test_csv_semicolon_delimiter(tmp_path: Path) -> None:
    """A French spreadsheet export (semicolons, decimal comma in lon/lat quoted) reads too."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "places.csv").write_text('id;lon;lat\nbase;"3,10";"45,70"\na;3.11;45.70\n')
    (folder / "depots.csv").write_text("id;place\nd;base\n")
    (folder / "vehicles.csv").write_text("id;start_depot\nv1;d\n")
    (folder / "visits.csv").write_text("id;place;windows\np1;a;08:00-09:00|10:00-11:00\n")
    problem = read_problem(folder)
    assert problem.places[0].lon == pytest.approx(3.10)
    assert len(problem.visits[0].windows) == 2


@pytest.mark.parametrize(
    ("visits_rows", "vehicles_rows", "message"),
    [
        ("p1,zz,0:20,,,1\n", None, "visits.csv row 2: field 'place' names unknown place 'zz'"),
        (
            "p1,a,0:20,,,1\np2,a,0:20,09:00-08:00,,1\n",
            None,
            "visits.csv row 3: field 'windows' window 09:00-08:00 ends before it starts",
        ),
        ("p1,a,0:20,,,-4\n", None, "visits.csv row 2: field 'demand_crates' is negative (-4)"),
        (
            "p1,a,0:20,,,two\n",
            None,
            "visits.csv row 2: field 'demand_crates' 'two' is not a whole number",
        ),
        (
            "p1,a,0:20,,,1\n",
            "v1,nowhere,08:00,12:00,x,car,10\n",
            "vehicles.csv row 2: field 'start_depot' names unknown depot 'nowhere'",
        ),
        (
            "p1,a,0:20,,,1\n",
            "v1,d,25:xx,12:00,x,car,10\n",
            "vehicles.csv row 2: field 'shift_start' '25:xx' is not a time",
        ),
        (
            "p1,a,0:20,,,1\n",
            "v1,d,08:00,12:00,x,boat,10\n",
            "vehicles.csv row 2: vehicle v1: field 'profile' 'boat'",
        ),
        ("p1,a,0:20,,,1\n", "", "field 'vehicles' is empty"),
    ],
)
def test_csv_errors_name_file_row_field(
    tmp_path: Path, visits_rows: str, vehicles_rows: str | None, message: str
) -> None:
    """Bad CSV rows are refused with file, row (line number) and field in one sentence."""
    folder = write_csv_folder(
        tmp_path / "p", visits_rows, *([vehicles_rows] if vehicles_rows is not None else [])
    )
    with pytest.raises(ProblemError) as info:
        read_problem(folder)
    assert message in str(info.value)


def test_missing_csv_file(tmp_path: Path) -> None:
    """A folder without vehicles.csv is refused naming the file."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "places.csv").write_text("id,lon,lat\n")
    (folder / "depots.csv").write_text("id,place\n")
    with pytest.raises(ProblemError, match=r"vehicles\.csv is missing"):
        read_problem(folder)


def test_dataclass_validation() -> None:
    """The dataclasses check themselves on construction, with one-sentence messages."""
    with pytest.raises(ProblemError, match="visit v: field 'windows' window ends"):
        Visit("v", "a", windows=((100.0, 50.0),))
    with pytest.raises(ProblemError, match="visit v: field 'demand' is negative"):
        Visit("v", "a", demand=(-1,))
    with pytest.raises(ProblemError, match="field 'service_s' is negative"):
        Visit("v", "a", service_s=-5)
    with pytest.raises(ProblemError, match="shift_start_s/shift_end_s"):
        Vehicle("v", "d", shift_start_s=10, shift_end_s=5)
    with pytest.raises(ProblemError, match="shipment s: field 'max_ride_s' is negative"):
        Shipment("s", "a", "b", max_ride_s=-1)
    with pytest.raises(ProblemError, match="id '' is empty"):
        Place("", 1.0, 2.0)
    place = Place("a", 3.1, 45.7)
    with pytest.raises(ProblemError, match="field 'vehicles' is empty"):
        Problem((place,), (Depot("d", "a"),), ())
    with pytest.raises(ProblemError, match="visit v: field 'place_id' names unknown place 'b'"):
        Problem((place,), (Depot("d", "a"),), (Vehicle("k", "d"),), (Visit("v", "b"),))


def test_time_parsing() -> None:
    """Times accept seconds and H:MM[:SS] past midnight; durations also accept units."""
    from arverne.fleet._fields import Where

    w = Where("f.csv", 3)
    assert parse_time("07:30", w, "t") == 27000.0
    assert parse_time("25:00:30", w, "t") == 90030.0
    assert parse_time(60, w, "t") == 60.0
    assert parse_duration("20min", w, "t") == 1200.0
    assert parse_duration("1.5h", w, "t") == 5400.0
    with pytest.raises(ProblemError, match=r"f\.csv row 3: field 't' '-5' is not a time"):
        parse_time("-5", w, "t")


seconds = st.floats(0, 86_400, allow_nan=False).map(lambda x: round(x, 3) if x % 7 else x)


@settings(max_examples=40, deadline=None)
@given(
    service=seconds,
    window=st.tuples(seconds, seconds).map(sorted),
    shift_end=st.floats(50_000, 86_400, allow_nan=False),
    brk=st.tuples(seconds, seconds, st.floats(0, 3600, allow_nan=False)),
    cost=st.floats(0, 1e6, allow_nan=False),
    lon=st.floats(-180, 180, allow_nan=False),
)
def test_fractional_values_survive_writing(
    tmp_path_factory: pytest.TempPathFactory, service, window, shift_end, brk, cost, lon
) -> None:
    """Fractional service times, windows, shifts, breaks, costs and coordinates written as JSON
    and as CSV read back exactly (12.5 s stayed 12.5 s, no window widened)."""
    earliest, latest = sorted(brk[:2])
    problem = Problem(
        (Place("base", lon, 45.5), Place("a", 3.1, 45.7)),
        (Depot("d", "base", 0.0, 90_000.5),),
        (
            Vehicle(
                "v",
                "d",
                shift_start_s=12.5,
                shift_end_s=shift_end,
                cost_per_km=cost,
                breaks=(Break(earliest, latest, brk[2]),),
                max_duration_s=service + 0.25,
            ),
        ),
        (Visit("x", "a", service, (tuple(window),), penalty=cost),),
        (Shipment("s", "a", "base", (), tuple(window), None, service, 0.5, max_ride_s=99.75),),
    )
    tmp = tmp_path_factory.mktemp("exact")
    assert read_problem(write_problem_json(problem, tmp / "p.json")) == problem
    back = read_problem(write_problem_csv(problem, tmp / "p"))
    assert (back.places, back.depots, back.vehicles, back.visits, back.shipments) == (
        problem.places,
        problem.depots,
        problem.vehicles,
        problem.visits,
        problem.shipments,
    )
