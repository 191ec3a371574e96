"""What a network offers a traveller (routing/catalog.py), on the small hand-written network."""

from __future__ import annotations

import datetime as dt

import pytest

from arverne.errors import InputError
from arverne.network.network import Network
from arverne.network.timetable import Timetable
from arverne.routing.catalog import find_stops, fold, lines, next_departures
from tests.network.small_network import LAT0, LON0, build_small


@pytest.fixture(scope="module")
def tt(tmp_path_factory: pytest.TempPathFactory) -> Timetable:
    """The small network's timetable: station Jaude (platform A), B, C, D; trips T1 (A-B-C,
    08:00), T2 (C-D, 08:12, the same block as T1) and T3 (A-B-C, 09:00), Monday to Friday
    4-8 March 2024."""
    root = tmp_path_factory.mktemp("catalog")
    timetable = Network.load(build_small(root / "in", root / "net")).timetable
    assert timetable is not None
    return timetable


def _times(tt: Timetable, stop_id: str, after: dt.datetime, **kw: object) -> list[str]:
    found = next_departures(tt, tt.stop_index(stop_id), after, **kw)  # type: ignore[arg-type]
    return [f"{d.departure:%d %H:%M} {tt.trip_id[d.trip_idx]}" for d in found]


def test_station_lists_its_platforms_departures(tt: Timetable) -> None:
    """From the station Jaude on Monday 07:00: T1 at 08:00 and T3 at 09:00 (from platform A);
    the in-seat chain T1+T2 is not listed again."""
    assert _times(tt, "t2c:STA", dt.datetime(2024, 3, 4, 7)) == [
        "04 08:00 t2c:T1",
        "04 09:00 t2c:T3",
    ]


def test_last_stop_and_through_stop(tt: Timetable) -> None:
    """Delille (C) is T1's and T3's last stop: only T2 leaves it; Carmes (D) sees none."""
    assert _times(tt, "t2c:C", dt.datetime(2024, 3, 4, 7)) == ["04 08:12 t2c:T2"]
    assert _times(tt, "t2c:D", dt.datetime(2024, 3, 4, 7)) == []


def test_span_crosses_midnight_and_limit(tt: Timetable) -> None:
    """Monday 23:00 for 12 h reaches Tuesday's two departures; limit 1 keeps the first; the
    weekend has none; a span over two days is refused."""
    late = dt.datetime(2024, 3, 4, 23)
    span = dt.timedelta(hours=12)
    assert _times(tt, "t2c:A", late, span=span) == ["05 08:00 t2c:T1", "05 09:00 t2c:T3"]
    assert _times(tt, "t2c:A", late, span=span, limit=1) == ["05 08:00 t2c:T1"]
    assert _times(tt, "t2c:A", dt.datetime(2024, 3, 9, 0), span=dt.timedelta(hours=47)) == []
    with pytest.raises(InputError):
        next_departures(tt, 0, late, span=dt.timedelta(days=3))


def test_find_stops_by_name_and_box(tt: Timetable) -> None:
    """'JAUDE' finds the station and its platform; a box around B finds B only."""
    names = [str(tt.stop_name[i]) for i in find_stops(tt, name="JAUDE")]
    assert names == ["Jaude", "Jaude quai A"]
    box = (LON0 + 0.0049, LAT0 + 0.0006, LON0 + 0.0051, LAT0 + 0.0008)
    assert [str(tt.stop_id[i]) for i in find_stops(tt, bbox=box)] == ["t2c:B"]
    assert fold("Église Saint-Pierre") == "eglise saint-pierre"


def test_lines_draw_shapes_or_stop_sequences(tt: Timetable) -> None:
    """Line 1 draws its shape SH1 (3 points); line 2, without a shape, its stops C then D."""
    by_name = {line.short_name: line for line in lines(tt)}
    assert by_name["1"].paths == [
        [
            (LON0 + 0.001, LAT0 + 0.0007),
            (LON0 + 0.005, LAT0 + 0.0007),
            (LON0 + 0.005, LAT0 + 0.0035),
        ]
    ]
    assert by_name["2"].paths == [[(LON0 + 0.005, LAT0 + 0.0035), (LON0 + 0.001, LAT0 + 0.0035)]]
    assert by_name["2"].mode == "bus"
