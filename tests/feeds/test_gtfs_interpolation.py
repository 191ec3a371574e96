"""Interpolation of missing stop times against a plain per-trip loop (hypothesis)."""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.feeds.gtfs import EARTH_RADIUS_M, read_gtfs
from tests.feeds.gtfs_fixtures import write_feed


def _step_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance between two (lat, lon) points, metres."""
    east = (b[1] - a[1]) * math.cos((b[0] + a[0]) * math.radians(0.5))
    return math.hypot(east, b[0] - a[0]) * (math.radians(1.0) * EARTH_RADIUS_M)


def _reference(
    points: list[tuple[float, float]], times: list[int | None]
) -> list[tuple[float, int]]:
    """Plain loop: each untimed stop gets prev_time + share of distance between timed stops.

    Returns (exact value before rounding, rounded value) per stop.
    """
    along = [0.0]
    for a, b in itertools.pairwise(points):
        along.append(along[-1] + _step_m(a, b))
    out: list[tuple[float, int]] = []
    for i, t in enumerate(times):
        if t is not None:
            out.append((float(t), t))
            continue
        p = max(j for j in range(i) if times[j] is not None)
        q = min(j for j in range(i + 1, len(times)) if times[j] is not None)
        tp, tq = times[p], times[q]
        assert tp is not None and tq is not None
        if along[q] > along[p]:
            share = (along[i] - along[p]) / (along[q] - along[p])
        else:
            share = (i - p) / (q - p)
        exact = tp + share * (tq - tp)
        out.append((exact, tp + round(share * (tq - tp))))
    return out


@st.composite
def trips(draw):
    """1-3 trips of 2-7 stops over 6 stops; first and last stops timed, times non-decreasing."""
    stops = [
        (
            draw(st.floats(45.70, 45.80, allow_nan=False)),
            draw(st.floats(3.00, 3.20, allow_nan=False)),
        )
        for _ in range(6)
    ]
    result = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(2, 7))
        visits = [draw(st.integers(0, 5)) for _ in range(n)]
        clock = draw(st.integers(0, 100_000))
        times: list[int | None] = []
        for i in range(n):
            clock += draw(st.integers(0, 900))
            timed = i in (0, n - 1) or draw(st.booleans())
            times.append(clock if timed else None)
        result.append((visits, times))
    return stops, result


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@settings(max_examples=40, deadline=None)
@given(trips())
def test_interpolation_matches_plain_loop(case):
    """read_gtfs interpolates every untimed stop like the plain loop (ties at .5 aside)."""
    stops, trip_list = case
    stop_lines = ["stop_id,stop_name,stop_lat,stop_lon"]
    stop_lines += [f"P{i},Stop {i},{lat!r},{lon!r}" for i, (lat, lon) in enumerate(stops)]
    trip_lines = ["route_id,service_id,trip_id"]
    st_lines = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for k, (visits, times) in enumerate(trip_list):
        trip_lines.append(f"R1,WK,X{k}")
        for i, (stop, t) in enumerate(zip(visits, times, strict=True)):
            text = "" if t is None else _hms(t)
            st_lines.append(f"X{k},{text},{text},P{stop},{i + 1}")
    files: dict[str, str | bytes | None] = {
        "stops.txt": "\n".join(stop_lines) + "\n",
        "trips.txt": "\n".join(trip_lines) + "\n",
        "stop_times.txt": "\n".join(st_lines) + "\n",
    }
    with tempfile.TemporaryDirectory() as tmp:
        feed = read_gtfs(write_feed(Path(tmp), files))
    for k, (visits, times) in enumerate(trip_list):
        got = feed.stop_times[feed.stop_times["trip_id"] == f"X{k}"]
        reference = _reference([stops[v] for v in visits], times)
        assert got["arrival_s"].tolist() == got["departure_s"].tolist()
        for value, (exact, rounded), t in zip(
            got["arrival_s"].tolist(), reference, times, strict=True
        ):
            if abs((exact % 1.0) - 0.5) < 1e-6:
                assert abs(value - rounded) <= 1  # a tie: float sums may round either way
            else:
                assert value == rounded
            if t is not None:
                assert value == t  # given times are kept as they are
        assert got["timepoint"].tolist() == [int(t is not None) for t in times]
