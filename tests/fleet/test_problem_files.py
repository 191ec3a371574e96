"""Damaged tour problem files, generated at test time: each is refused with a ProblemError naming
the file, the row (or item) and the field, or read with a warning; never a traceback, a hang or a
NaN that reaches the plan. The command line gives exit 3 for each refusal."""

from __future__ import annotations

import copy
import json
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from arverne.errors import FallbackWarning, ProblemError
from arverne.fleet.io import read_problem, write_problem_csv
from tests.fleet.test_model import small_dict

Edit = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Edit:
    """An edit setting ``path`` (keys and list indices joined by dots) to ``value``."""

    def edit(data: dict[str, Any]) -> dict[str, Any]:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value
        return data

    return edit


def _raw(text: str) -> Edit:
    """An edit replacing the whole file by ``text``."""
    return lambda data: text


HUGE = "9" * 5000
JSON_CASES: list[tuple[str, Edit, str]] = [
    ("capacity-true", _set("vehicles.0.capacity", True), r"vehicles\[0\]: field 'capacity'"),
    ("windows-5", _set("visits.0.windows", 5), r"visits\[0\]: field 'windows' 5 is not a list"),
    ("window-3-values", _set("visits.0.windows", [[1, 2, 3]]), r"visits\[0\]: field 'windows'"),
    ("breaks-not-objects", _set("vehicles.0.breaks", [5]), r"vehicles\[0\]: field 'breaks'"),
    ("dimensions-7", _set("dimensions", 7), r"problem.json: field 'dimensions'"),
    ("amount-object", _set("shipments.0.amount", {"a": 1}), r"shipments\[0\]: field 'amount'"),
    ("places-text", _set("places", "abc"), r"problem.json: 'places' must be a list"),
    ("top-level-list", lambda d: [d], r"problem.json: the top level must be an object"),
    ("nested-deeply", _raw("[" * 200_000 + "]" * 200_000), r"problem.json: .*nested too deeply"),
    ("int-5000-digits", _raw('{"a": ' + HUGE + "}"), r"problem.json: .*'vehicles' is empty"),
    (
        "capacity-5000-digits",
        _set("vehicles.0.capacity", "@HUGE@"),
        r"vehicles\[0\]: field 'capacity' inf is not a whole number",
    ),
    (
        "priority-31-digits",
        _set("visits.0.priority", 10**30),
        r"visits\[0\]: visit p1: field 'priority' is beyond",
    ),
    (
        "demand-1e300",
        _set("visits.0.demand", [1e300]),
        r"visits\[0\]: visit p1: field 'demand' holds a number above",
    ),
    ("service-1e300", _set("visits.0.service", 1e300), r"visits\[0\]: visit p1: field 'service_s'"),
    ("shift-end-1e300", _set("vehicles.0.shift", ["08:00", 1e300]), r"vehicles\[0\]: .*'shift"),
    (
        "cost-1e300",
        _set("vehicles.0.cost_per_km", 1e300),
        r"vehicles\[0\]: vehicle v1: field 'cost_per_km' 1e\+300 is more than",
    ),
    ("penalty-nan", _set("visits.1.penalty", float("nan")), r"visits\[1\]: field 'penalty' nan"),
    ("lon-nan", _set("places.0.lon", float("nan")), r"places\[0\]: field 'lon' nan"),
    ("lat-inf", _set("places.1.lat", float("inf")), r"places\[1\]: field 'lat' inf"),
    ("lon-1e300", _set("places.2.lon", 1e300), r"places\[2\]: place b: field 'lon' .* is beyond"),
    ("service-true", _set("visits.0.service", True), r"visits\[0\]: field 'service' True"),
    ("optional-maybe", _set("visits.0.optional", "maybe"), r"visits\[0\]: field 'optional'"),
    (
        "max-ride-nan",
        _set("shipments.0.max_ride", float("nan")),
        r"shipments\[0\]: field 'max_ride'",
    ),
    ("open-huge-int", _set("depots.0.open", 10**25), r"depots\[0\]: field 'open'"),
]


@pytest.mark.parametrize(
    ("edit", "message"), [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES]
)
def test_bad_json_is_refused_naming_item_and_field(
    tmp_path: Path, edit: Edit, message: str
) -> None:
    """Each damaged JSON problem is a ProblemError naming the file, the item and the field."""
    data = edit(copy.deepcopy(small_dict()))
    text = data if isinstance(data, str) else json.dumps(data).replace('"@HUGE@"', HUGE)
    path = tmp_path / "problem.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProblemError, match=message):
        read_problem(path)


CSV_CASES: list[tuple[str, str, str, str, str]] = [
    # (id, file, column, value, expected message)
    (
        "capacity-true",
        "vehicles.csv",
        "capacity_crates",
        "true",
        r"vehicles.csv row 2: field 'capacity_crates'",
    ),
    (
        "windows-5",
        "visits.csv",
        "windows",
        "5",
        r"visits.csv row 2: field 'windows' '5' is not a window",
    ),
    (
        "demand-5000-digits",
        "visits.csv",
        "demand_crates",
        HUGE,
        r"visits.csv row 2: field 'demand_crates'",
    ),
    (
        "demand-1e300",
        "visits.csv",
        "demand_crates",
        "1e300",
        r"visits.csv row 2: field 'demand_crates'",
    ),
    (
        "service-1e300",
        "visits.csv",
        "service",
        "1e300",
        r"visits.csv row 2: visit p1: field 'service_s'",
    ),
    ("penalty-nan", "visits.csv", "penalty", "NaN", r"visits.csv row 2: field 'penalty' 'NaN'"),
    ("lon-nan", "places.csv", "lon", "nan", r"places.csv row 2: field 'lon' 'nan'"),
    ("priority-1e300", "visits.csv", "priority", "1e300", r"visits.csv row 2: field 'priority'"),
    ("cell-too-long", "places.csv", "name", "x" * 200_000, r"places.csv row 2: not readable CSV"),
    ("cost-1e300", "vehicles.csv", "cost_per_km", "1e300", r"vehicles.csv row 2: .*'cost_per_km'"),
]


def _csv_folder(tmp_path: Path) -> Path:
    """The small problem as a CSV folder."""
    folder = tmp_path / "csv"
    write_problem_csv(read_problem(_write_json(tmp_path, small_dict())), folder)
    return folder


def _write_json(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _set_cell(path: Path, column: str, value: str) -> None:
    """Set ``column`` of the first data row of a CSV file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    import csv
    import io

    row = next(csv.reader(io.StringIO(lines[1])))
    row[header.index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(row)
    lines[1] = buffer.getvalue()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "column", "value", "message"),
    [c[1:] for c in CSV_CASES],
    ids=[c[0] for c in CSV_CASES],
)
def test_bad_csv_is_refused_naming_row_and_field(
    tmp_path: Path, file: str, column: str, value: str, message: str
) -> None:
    """Each damaged cell of a CSV problem is a ProblemError naming the file, the row and the
    field."""
    folder = _csv_folder(tmp_path)
    _set_cell(folder / file, column, value)
    with pytest.raises(ProblemError, match=message):
        read_problem(folder)


def test_windows_1252_csv_reads_with_a_warning(tmp_path: Path) -> None:
    """A CSV folder saved by a spreadsheet in Windows-1252 reads, with a FallbackWarning naming
    the file, and the accented names come out right."""
    folder = _csv_folder(tmp_path)
    _set_cell(folder / "places.csv", "name", "Maison de santé à Vernac")
    places = folder / "places.csv"
    places.write_bytes(places.read_text(encoding="utf-8").encode("cp1252"))
    with pytest.warns(
        FallbackWarning, match=r"places.csv is not UTF-8; it was decoded as Windows-1252"
    ):
        problem = read_problem(folder)
    assert problem.places[0].name == "Maison de santé à Vernac"


def test_windows_1252_json_reads_with_a_warning(tmp_path: Path) -> None:
    """The same fallback holds for a JSON problem file."""
    data = small_dict()
    data["name"] = "tournée"
    path = tmp_path / "problem.json"
    path.write_bytes(json.dumps(data, ensure_ascii=False).encode("cp1252"))
    with pytest.warns(FallbackWarning, match="problem.json is not UTF-8"):
        assert read_problem(path).name == "tournée"


def test_bytes_that_are_no_text_are_refused(tmp_path: Path) -> None:
    """A file neither UTF-8 nor Windows-1252 (bytes cp1252 leaves undefined) is refused."""
    path = tmp_path / "problem.json"
    path.write_bytes(b'{"name": "\x81\x8d\x8f\x90\x9d"}')
    with pytest.raises(
        ProblemError, match=r"problem.json: the file is neither UTF-8 nor Windows-1252"
    ):
        read_problem(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_named_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    """A named pipe given as the problem file is refused at once (reading it would block)."""
    pipe = tmp_path / "problem.json"
    os.mkfifo(pipe)
    with pytest.raises(ProblemError, match="not a regular file"):
        read_problem(pipe)


def test_files_past_max_bytes_are_refused(tmp_path: Path) -> None:
    """A file bigger than max_bytes is refused with its size and how to raise the limit."""
    path = _write_json(tmp_path, small_dict())
    with pytest.raises(ProblemError, match=r"more than max_bytes=100 \(raise it"):
        read_problem(path, max_bytes=100)


@pytest.mark.parametrize("case", ["capacity-true", "windows-5", "cost-1e300", "nested-deeply"])
def test_cli_refuses_bad_problems_with_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """`arverne tours NET bad.json` exits 3 with the one-sentence reason (the problem is read
    before the network, so a bad file is refused first)."""
    from arverne.cli import main

    _, edit, _ = next(c for c in JSON_CASES if c[0] == case)
    data = edit(copy.deepcopy(small_dict()))
    path = tmp_path / "problem.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["arverne", "tours", str(tmp_path / "net"), str(path)])
    with warnings.catch_warnings(), pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "Traceback" not in err and "problem.json" in err
