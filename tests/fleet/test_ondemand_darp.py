"""Static dial-a-ride (Cordeau's instances) through the on-demand kernels, checked by the
independent checker; bad instance files give one-sentence errors."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.cli import main
from arverne.errors import FallbackWarning, ProblemError
from arverne.fleet.ondemand_darp import read_cordeau, solve_darp
from tests.conftest import shared_path
from tests.fleet.darp_check import check_darp


def test_read_every_instance() -> None:
    """Every file of vrp/darp-cordeau reads with the counts of its bks_summary.csv line."""
    folder = shared_path("vrp/darp-cordeau")
    summary = {}
    for line in (folder / "bks_summary.csv").read_text().splitlines()[1:]:
        name, veh, _n, dur, cap, ride, lines = line.split(",")
        summary[name] = (int(veh), float(dur), int(cap), float(ride), int(lines))
    files = sorted(folder.glob("*.txt"))
    assert len(files) == 68
    for path in files:
        inst = read_cordeau(path)
        veh, dur, cap, ride, lines = summary[path.stem]
        assert (inst.n_vehicles, inst.max_route_duration, inst.capacity, inst.max_ride_time) == (
            veh,
            dur,
            cap,
            ride,
        )
        assert inst.n_requests == (lines - 1) // 2
        assert inst.x.shape == (2 * inst.n_requests + 2,)


@pytest.mark.parametrize(("name", "best"), [("a2-16", 294.2480), ("b2-16", 309.4057)])
def test_small_instances_reach_best_known(name: str, best: float) -> None:
    """a2-16 and b2-16: every request served, every constraint (ride times included) met, and the
    best-known routing cost of bks_partial.csv reached within 20 s."""
    inst = read_cordeau(shared_path(f"vrp/darp-cordeau/{name}.txt"))
    sol = solve_darp(inst, max_runtime=20.0, seed=3, target_cost=best + 5e-5)
    assert check_darp(inst, sol) == []
    assert sol.unserved == []
    assert sol.cost <= best + 5e-5


def test_larger_instance_all_served() -> None:
    """R1a (Cordeau-Laporte 2003, format without end-depot line): every request served, checker
    finds every constraint met after 2 s."""
    inst = read_cordeau(shared_path("vrp/darp-cordeau/R1a.txt"))
    sol = solve_darp(inst, max_runtime=2.0, seed=1)
    assert sol.unserved == [] and check_darp(inst, sol) == []


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("2 2 480\n", "header must hold"),
        ("x 2 480 3 30\n", "header fields"),
        ("0 2 480 3 30\n0 0 0 0 0 0 480\n", "empty fleet"),
        ("2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 1 3 1 0\n", "row 3: a node needs 7"),
        (
            "2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 1 3 1 50 10\n2 1 1 3 -1 0 9\n3 0 0 0 0 0 480\n",
            "row 3: time window",
        ),
        (
            "2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 1 3 -1 0 100\n2 1 1 3 1 0 90\n3 0 0 0 0 0 480\n",
            "loads",
        ),
        ("2 1 480 3 30\n0 0 0 0 0 0 480\n1 1 a 3 1 0 100\n", "row 3: field y 'a' is not a number"),
    ],
)
def test_bad_instance_files(tmp_path: Path, text: str, match: str) -> None:
    """Malformed instance files raise ProblemError naming the file and row."""
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ProblemError, match=match):
        read_cordeau(path)


# A valid instance (2 vehicles, 2 requests); the bad-input corpus below breaks one field of it.
GOOD = [
    "2 2 480 3 30",
    "0 0.0 0.0 0 0 0 480",
    "1 1.0 1.0 3 1 0 480",
    "2 2.0 1.0 3 2 0 480",
    "3 1.5 -1.0 3 -1 0 480",
    "4 -1.0 2.0 3 -2 0 480",
    "5 0.0 0.0 0 0 0 480",
]
HEADER = ("vehicles", "requests", "max_route_duration", "capacity", "max_ride_time")
NODE = ("id", "x", "y", "service", "load", "tw_start", "tw_end")
WHOLE = {"vehicles", "requests", "capacity", "id", "load"}
BAD_VALUES = [
    "nan", "NaN", "inf", "-inf", "1e300", "-1e300", "1" * 5000, "-" + "9" * 5000, "1e99999",
    "abc", "true", "1,5", "0x1F", "--1", "1..2", "\u0661", "1\xe9",  # the last: Windows-1252
]  # fmt: skip
BAD_WHOLE = ["1.5", "2e0", "9" * 11]


def _corpus() -> list[tuple[int, str, str]]:
    """(line index, field name, bad value) for every field of the header, a pickup and a
    drop-off line: every bad value, plus fractions and huge counts for whole-number fields."""
    cases = []
    for line, names in ((0, HEADER), (2, NODE), (4, NODE)):
        for name in names:
            for value in BAD_VALUES + (BAD_WHOLE if name in WHOLE else []):
                cases.append((line, name, value))
    return cases


CORPUS = _corpus()
ARVERNE = [sys.executable, "-c", "from arverne.cli import main; main()"]


def _write_bad(tmp_path: Path, line: int, name: str, value: str) -> Path:
    lines = [row.split() for row in GOOD]
    lines[line][(HEADER if line == 0 else NODE).index(name)] = value
    path = tmp_path / "bad.txt"
    text = "\n".join(" ".join(row) for row in lines) + "\n"
    path.write_bytes(text.encode("cp1252" if "\xe9" in value else "utf-8"))
    return path


def test_good_corpus_base_solves(tmp_path: Path) -> None:
    """The base of the bad-input corpus is itself valid: it reads and every request is served."""
    path = tmp_path / "good.txt"
    path.write_text("\n".join(GOOD) + "\n")
    inst = read_cordeau(path)
    sol = solve_darp(inst, max_runtime=0.2)
    assert sol.unserved == [] and check_darp(inst, sol) == []


@pytest.mark.parametrize(("line", "name", "value"), CORPUS, ids=lambda v: str(v)[:12])
def test_bad_field_refused_by_the_cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    line: int,
    name: str,
    value: str,
) -> None:
    """Generated corpus (344 files): one field of a valid instance replaced by NaN, infinity,
    1e300, a 5,000-digit integer, a word, a fraction where a count is due, another script's
    digit or Windows-1252 bytes: `arverne darp` exits 3 with one line naming the file, the row
    and the field, never 4 and never 0 with NaN."""
    path = _write_bad(tmp_path, line, name, value)
    monkeypatch.setattr(sys, "argv", ["arverne", "darp", str(path), "--time", "0.2"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    assert exit_info.value.code == 3, captured.err
    if "\xe9" in value:  # read as Windows-1252, which one warning line says
        assert re.search(r"^warning: .*Windows-1252", captured.err, re.M), captured.err
    refusal = "\n".join(x for x in captured.err.splitlines() if not x.startswith("warning:"))
    assert re.search(rf"bad\.txt row {line + 1}: field {name}\b", refusal), captured.err
    assert len(refusal) < 300, "a bad value is shown shortened"
    assert "nan" not in captured.out.lower()


def test_bad_files_end_to_end(tmp_path: Path) -> None:
    """The installed command on three bad files (NaN coordinate, 5,000-digit vehicle count,
    Windows-1252 bytes in a time window), a directory and a --time of nan: exit 3 naming the
    file, row and field (2 for the bad option), no traceback."""
    cases = [(2, "x", "nan"), (0, "vehicles", "1" * 5000), (4, "tw_end", "1\xe9")]
    for line, name, value in cases:
        path = _write_bad(tmp_path, line, name, value)
        run = subprocess.run(
            [*ARVERNE, "darp", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 3, run.stderr
        assert f"bad.txt row {line + 1}: field {name}" in run.stderr
        assert "Traceback" not in run.stderr
    run = subprocess.run(
        [*ARVERNE, "darp", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 3 and "not a regular file" in run.stderr
    good = tmp_path / "good.txt"
    good.write_text("\n".join(GOOD) + "\n")
    run = subprocess.run(
        [*ARVERNE, "darp", str(good), "--time", "nan"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "--time" in run.stderr


def test_markup_in_a_field_is_refused(tmp_path: Path) -> None:
    """Text that looks like terminal markup in a field is refused like any other word, the
    message naming file, row and field."""
    path = _write_bad(tmp_path, 2, "x", "[/x]")
    with pytest.raises(ProblemError, match=r"bad\.txt row 3: field x '\[/x\]' is not a number"):
        read_cordeau(path)


def test_depots_out_of_reach_refused(tmp_path: Path) -> None:
    """A start depot 1,000 units from the end depot with windows of 480 (found by the fuzz
    test): no route at all is feasible, and the solver refuses the instance instead of returning
    routes that break the depots' windows."""
    lines = list(GOOD)
    lines[1] = "0 1E3 0.0 0 0 0 480"
    path = tmp_path / "far.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ProblemError, match="cannot even drive from the start depot"):
        solve_darp(read_cordeau(path), max_runtime=0.1)


def test_too_many_requests_refused(tmp_path: Path) -> None:
    """A file with more requests than max_requests is refused before its matrix is built."""
    path = tmp_path / "big.txt"
    path.write_text("\n".join(GOOD) + "\n")
    with pytest.raises(ProblemError, match="more than 1 requests"):
        read_cordeau(path, max_requests=1)


@st.composite
def _damaged_instance(draw: st.DrawFn) -> bytes:
    """The corpus base with a few tokens replaced, lines cut or repeated, or bytes inserted."""
    lines = [row.split() for row in GOOD]
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        move = draw(st.sampled_from(["token", "cut", "repeat", "drop_token"]))
        k = draw(st.integers(0, len(lines) - 1))
        if move == "token" and lines[k]:
            j = draw(st.integers(0, len(lines[k]) - 1))
            lines[k][j] = draw(
                st.one_of(
                    st.text(
                        alphabet=st.characters(blacklist_categories=["Zs", "Cc"]), max_size=8
                    ).filter(bool),
                    st.sampled_from(BAD_VALUES + BAD_WHOLE + ["0", "-1", "1e9", "480", "3"]),
                )
            )
        elif move == "cut":
            del lines[k:]
        elif move == "repeat":
            lines.insert(k, list(lines[k]))
        elif lines[k]:
            lines[k].pop()
    data = "\n".join(" ".join(row) for row in lines).encode("utf-8")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=4)) + data[at:]
    return data


@settings(max_examples=300, deadline=None)
@given(_damaged_instance())
def test_damaged_instances_fuzz(data: bytes) -> None:
    """Hypothesis damages a valid instance (tokens, lines, bytes): read_cordeau either refuses
    it with a ProblemError naming the file, or returns an instance whose numbers are all finite
    and whose loads pair up, which the solver then solves feasibly (or refuses with a
    ProblemError when not even an empty route fits the depots' windows)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.txt"
        path.write_bytes(data)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FallbackWarning)
                inst = read_cordeau(path)
        except ProblemError as exc:
            assert str(exc).startswith("fuzz.txt"), str(exc)
            return
    arrays = (inst.x, inst.y, inst.service, inst.tw_start, inst.tw_end)
    assert all(np.isfinite(a).all() for a in arrays)
    n = inst.n_requests
    assert (inst.load[1 : n + 1] > 0).all() and (inst.load[n + 1 : 2 * n + 1] < 0).all()
    try:
        sol = solve_darp(inst, max_runtime=0.02)
    except ProblemError as exc:
        assert "cannot even drive from the start depot" in str(exc)
        return
    assert check_darp(inst, sol) == []
