"""Every GTFS feed listed in ../shared/data/README.md: counts, expansion and notice snapshots.

The counts below are the README's table (rows as read from the files). The notice snapshots
live in ``tests/feeds/snapshots/<feed>.json`` as ``{code: count}``. To refresh them after an
intended change in validation, run::

    ARVERNE_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/feeds/test_gtfs_real_feeds.py -p no:xdist

and review the diff of the JSON files before committing them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from arverne.feeds.gtfs import GtfsFeed, load_feed
from arverne.feeds.notices import count_by_code
from arverne.feeds.validate import expanded_counts, validate_feed
from tests.conftest import shared_path

SNAPSHOTS = Path(__file__).parent / "snapshots"

# path under ../shared/data: (routes, trips, stops, stop_times) as in the README table
README_COUNTS: dict[str, tuple[int, int, int, int]] = {
    "bundles/bart-rt/bart-rt.zip": (8, 2641, 48, 32185),
    "bundles/bullrunner-rt/bullrunner-gtfs.zip": (6, 15, 125, 473),
    "bundles/caltrain-rt/ct.zip": (9, 176, 109, 3498),
    "bundles/herrenberg/vvs-bus-751-only.gtfs.zip": (1, 134, 47, 1495),
    "bundles/herrenberg/vvs-bus-764-only.gtfs.zip": (1, 26, 17, 271),
    "bundles/portland/trimet-2routes.zip": (2, 2341, 103, 43813),
    "bundles/porto-alegre/poa_eptc.zip": (115, 2374, 3986, 130019),
    "bundles/porto-alegre/poa_trensurb.zip": (2, 1248, 24, 14855),
    "bundles/sao-paulo/spo.zip": (19, 36, 654, 860),
    "gtfs/caltrain-2017-dir": (4, 188, 64, 2697),
    "gtfs/example/example.zip": (5, 11, 9, 28),
    "gtfs/gtfstools/ber_gtfs.zip": (6, 348, 211, 8865),
    "gtfs/gtfstools/ggl_gtfs.zip": (1, 2, 16, 11),
    "gtfs/gtfstools/poa_gtfs.zip": (4, 387, 212, 23040),
    "gtfs/gtfstools/spo_gtfs.zip": (19, 36, 654, 860),
    "gtfs/hart/hart.zip": (37, 13217, 2349, 438421),
    "gtfs/transitland/bart.zip": (6, 2525, 50, 33167),
    "gtfs/transitland/caltrain.zip": (6, 185, 64, 2853),
    "gtfs/transitland/cdmx.zip": (145, 1741, 6021, 70714),
    "gtfs/transitland/ctran-flex.zip": (6, 1389, 293, 2778),
    "gtfs/trimet-vermont-dir": (1, 78, 102, 4133),
}

# feeds whose rows the validation leaves out, with the reason (everything else loads whole)
QUARANTINED_TRIPS: dict[str, int] = {
    # ten trips whose last stop is at 00:02:00 after 23:xx (should be 24:02:00)
    "gtfs/gtfstools/poa_gtfs.zip": 10,
    # every stop_time refers to stops S1..S6 that stops.txt lacks (the spec's broken example)
    "gtfs/gtfstools/ggl_gtfs.zip": 0,
}


def _key(relative: str) -> str:
    return relative.replace("/", "__").replace(".", "_")


@pytest.fixture(scope="module")
def loaded() -> dict[str, GtfsFeed]:
    """Cache of feeds read once per module (validation mode: never refused for quarantine)."""
    return {}


def _feed(loaded: dict[str, GtfsFeed], relative: str) -> GtfsFeed:
    if relative not in loaded:
        loaded[relative] = load_feed(shared_path(relative), strict=False)
    return loaded[relative]


@pytest.mark.parametrize("relative", sorted(README_COUNTS))
def test_counts_equal_readme(relative, loaded):
    """Rows read from routes/trips/stops/stop_times equal the README; clean feeds load whole."""
    feed = _feed(loaded, relative)
    routes, trips, stops, stop_times = README_COUNTS[relative]
    read = feed.raw_counts
    assert (read["routes.txt"], read["trips.txt"], read["stops.txt"], read["stop_times.txt"]) == (
        routes,
        trips,
        stops,
        stop_times,
    )
    assert len(feed.routes) == routes
    assert len(feed.stops) == stops
    if relative == "gtfs/gtfstools/ggl_gtfs.zip":
        assert len(feed.stop_times) == 0  # all 11 refer to unknown stops
        return
    dropped = QUARANTINED_TRIPS.get(relative, 0)
    assert len(feed.trips) == trips - dropped
    if dropped == 0:
        assert len(feed.stop_times) + len(feed.flex_stop_times) == stop_times


def _reference_expansion(feed: GtfsFeed) -> tuple[int, int]:
    """Plain-Python count of trips and stop_times once frequencies are expanded."""
    rows_per_trip: dict[str, int] = {}
    for trip in feed.stop_times["trip_id"].tolist():
        rows_per_trip[trip] = rows_per_trip.get(trip, 0) + 1
    known = set(feed.trips["trip_id"].tolist())
    starts: dict[str, set[int]] = {}
    for trip, start, end, headway in zip(
        feed.frequencies["trip_id"].tolist(),
        feed.frequencies["start_s"].tolist(),
        feed.frequencies["end_s"].tolist(),
        feed.frequencies["headway_s"].tolist(),
        strict=True,
    ):
        if trip in rows_per_trip and trip in known:
            t = start
            while t < end:
                starts.setdefault(trip, set()).add(t)
                t += headway
    trips = len(feed.trips) - len(starts) + sum(len(s) for s in starts.values())
    stop_times = len(feed.stop_times) + sum(
        (len(s) - 1) * rows_per_trip[trip] for trip, s in starts.items()
    )
    return trips, stop_times


FREQUENCY_FEEDS = [
    "bundles/bart-rt/bart-rt.zip",
    "bundles/bullrunner-rt/bullrunner-gtfs.zip",
    "bundles/sao-paulo/spo.zip",
    "gtfs/example/example.zip",
    "gtfs/gtfstools/spo_gtfs.zip",
    "gtfs/transitland/bart.zip",
    "gtfs/transitland/caltrain.zip",
    "gtfs/transitland/cdmx.zip",
]


@pytest.mark.parametrize("relative", FREQUENCY_FEEDS)
def test_frequency_expansion_counts(relative, loaded):
    """expanded() gives the trips/stop_times a plain loop over frequencies.txt predicts."""
    feed = _feed(loaded, relative)
    reference = _reference_expansion(feed)
    assert expanded_counts(feed) == reference
    if len(feed.frequencies) and reference[1] < 500_000:
        expanded = feed.expanded()
        assert (len(expanded.trips), len(expanded.stop_times)) == reference
        assert expanded.stop_times["trip_id"].isin(expanded.trips["trip_id"]).all()


def test_example_expansion_by_hand(loaded):
    """example.zip: 32 STBA + 2 x 52 CITY departures replace 3 templates (by hand: 144/600)."""
    feed = _feed(loaded, "gtfs/example/example.zip").expanded()
    assert len(feed.trips) == 144
    assert len(feed.stop_times) == 600
    stba = feed.trips[feed.trips["trip_id"].str.startswith("STBA@")]["trip_id"].tolist()
    assert stba[0] == "STBA@06:00:00" and stba[-1] == "STBA@21:30:00"


@pytest.mark.parametrize("relative", sorted(README_COUNTS))
def test_notice_snapshot(relative):
    """Each feed's notices found per code (kept or only counted) equal its snapshot (refresh:
    see the module docstring)."""
    report = validate_feed(shared_path(relative))
    counts = count_by_code(report.notices, report.omitted)
    path = SNAPSHOTS / f"{_key(relative)}.json"
    if os.environ.get("ARVERNE_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n", "utf-8")
    assert path.exists(), f"no snapshot {path.name}: run with ARVERNE_UPDATE_SNAPSHOTS=1"
    assert counts == json.loads(path.read_text("utf-8"))


def test_ctran_flex_kept(loaded):
    """ctran-flex: the four GTFS-Flex files are kept verbatim and flex stop_times set apart."""
    feed = _feed(loaded, "gtfs/transitland/ctran-flex.zip")
    assert set(feed.flex) == {
        "booking_rules.txt",
        "location_groups.txt",
        "location_group_stops.txt",
        "locations.geojson",
    }
    assert feed.flex["locations.geojson"].lstrip().startswith(b"{")
    assert len(feed.flex_stop_times) + len(feed.stop_times) == 2778


def test_poa_eptc_interpolated_and_timezone(loaded):
    """poa_eptc: 125,271 stop times without a time are interpolated within each trip."""
    feed = _feed(loaded, "bundles/porto-alegre/poa_eptc.zip")
    st = feed.stop_times
    assert int((st["timepoint"] == 0).sum()) == 125_271
    assert feed.timezone == "America/Sao_Paulo"
    same_trip = st["trip_id"].to_numpy()[1:] == st["trip_id"].to_numpy()[:-1]
    steps = st["arrival_s"].to_numpy()[1:] - st["departure_s"].to_numpy()[:-1]
    assert (steps[same_trip] >= 0).all()
    first = st.groupby("trip_id", sort=False)["departure_s"].first()
    assert first.between(11 * 3600 + 20 * 60, 17 * 3600 + 50 * 60).all()


def test_service_days_real_feed(loaded):
    """hart: service days span the README's dates and every trip's service is known."""
    feed = _feed(loaded, "gtfs/hart/hart.zip")
    days = feed.service_days()
    assert days.first_date.isoformat() == "2020-11-15"
    assert days.dates()[-1].isoformat() == "2021-04-24"
    assert set(feed.trips["service_id"]) <= set(days.service_id.tolist())
    assert days.active.any(axis=1).all()
