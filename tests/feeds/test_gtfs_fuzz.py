"""Random damage to a small clean feed: reading gives notices or a GtfsError, never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.errors import GtfsError
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.notices import Notice
from arverne.feeds.validate import validate_feed
from arverne.network.timetable import build_timetable
from tests.feeds.gtfs_fixtures import BASE, write_feed

NASTY = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "-1",
            "99999999999999999999",
            "1e400",
            "nan",
            "25:61:00",
            "999:00:00",
            "20240230",
            '"',
            '""',
            ",",
            "\ufeff",
            "0",
            "1",
            "4",
            "x" * 10_000,
        ]
    ),
)


OPTIONAL = {
    "frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\n"
    "T1,06:00:00,07:00:00,1200,1\n",
    "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nS1,S2,2,120\n",
    "shapes.txt": "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
    "H1,45.777,3.082,1\nH1,45.783,3.112,2\n",
}
"""Optional files the damage may reach too."""


@st.composite
def damaged(draw):
    """BASE and OPTIONAL with a few cells replaced, rows cut or duplicated, or a file
    truncated."""
    clean = {**BASE, **OPTIONAL}
    files: dict[str, str | bytes | None] = dict(OPTIONAL)
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(clean)))
        text = files.get(name) or clean[name]
        assert isinstance(text, str)
        lines = text.rstrip("\n").split("\n")
        action = draw(st.sampled_from(["cell", "cell", "cell", "drop", "dup", "cut", "header"]))
        row = draw(st.integers(0, len(lines) - 1))
        if action == "cell":
            cells = lines[row].split(",")
            col = draw(st.integers(0, len(cells) - 1))
            cells[col] = draw(NASTY)
            lines[row] = ",".join(cells)
        elif action == "drop" and len(lines) > 1:
            del lines[row]
        elif action == "dup":
            lines.insert(row, lines[row])
        elif action == "cut":
            joined = "\n".join(lines)
            lines = [joined[: draw(st.integers(0, len(joined)))]]
        elif action == "header":
            lines[0] = lines[0].replace(draw(st.sampled_from(lines[0].split(","))), "zz", 1)
        files[name] = "\n".join(lines) + "\n"
    return files


def _check_notices(notices: list[Notice]) -> None:
    for n in notices:
        assert n.code and n.message and len(n.message) < 1000
        assert n.row is None or n.row >= 1


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_feeds_never_crash(files):
    """Any damaged feed gives a report or a GtfsError naming the problem (no other exception),
    and a feed that reads compiles into a timetable."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_feed(Path(tmp), files)
        try:
            report = validate_feed(path)
        except GtfsError as exc:
            assert str(exc)
        else:
            _check_notices(report.notices)
            report.to_text()
            report.to_json()
        try:
            feed = read_gtfs(path)
        except GtfsError as exc:
            assert str(exc)
        else:
            _check_notices(feed.notices)
            st_ = feed.stop_times
            assert (st_["arrival_s"] >= 0).all() and (st_["departure_s"] >= st_["arrival_s"]).all()
            assert set(st_["trip_id"]) <= set(feed.trips["trip_id"])
            assert set(st_["stop_id"]) <= set(feed.stops["stop_id"])
            feed.service_days()
            feed.expanded()
            build_timetable([feed])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_damaged_zip_bytes(data):
    """A zip cut short or with flipped bytes is read or refused with GtfsError, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_feed(Path(tmp), as_zip=True)
        raw = bytearray(path.read_bytes())
        if data.draw(st.booleans()):
            raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
        else:
            for _ in range(data.draw(st.integers(1, 5))):
                raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        path.write_bytes(bytes(raw))
        try:
            feed = read_gtfs(path)
        except GtfsError as exc:
            assert str(exc)
        else:
            _check_notices(feed.notices)
