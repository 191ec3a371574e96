"""The GTFS reference's example feed (ggl_gtfs.zip) and its deliberate integrity errors.

Its content, read by hand: agency_timezone is "PST" (not an IANA zone); stop_times.txt refers
to stops S1..S6 that stops.txt does not define (11 rows) and to a trip AWD1 that trips.txt
lacks (6 rows); transfers.txt refers to S6, S7 and S23 (6 values, none in stops.txt).
"""

from __future__ import annotations

from collections import Counter

import pytest

from arverne.errors import GtfsError
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.notices import Severity
from arverne.feeds.validate import validate_feed
from tests.conftest import shared_path

GGL = "gtfs/gtfstools/ggl_gtfs.zip"


def test_ggl_expected_errors():
    """The ERROR notices are exactly the integrity errors listed in the module docstring."""
    report = validate_feed(shared_path(GGL))
    errors = [n for n in report.notices if n.severity == Severity.ERROR]
    by_place = Counter((n.code, n.file, n.field) for n in errors)
    assert by_place == {
        ("foreign_key_violation", "stop_times.txt", "stop_id"): 11,
        ("foreign_key_violation", "stop_times.txt", "trip_id"): 6,
        ("foreign_key_violation", "transfers.txt", "from_stop_id"): 3,
        ("foreign_key_violation", "transfers.txt", "to_stop_id"): 3,
        ("invalid_timezone", "agency.txt", "agency_timezone"): 1,
        ("no_usable_service", None, None): 1,
    }
    stop_rows = sorted(n.row for n in errors if n.file == "stop_times.txt" and n.field == "stop_id")
    assert stop_rows == list(range(2, 13))
    assert any("'PST'" in n.message for n in errors)
    assert report.has_notices_at_or_above("ERROR")
    assert report.rows_read["stop_times.txt"] == 11


def test_ggl_refused_for_routing():
    """read_gtfs refuses ggl: no valid time zone and no stop time left."""
    with pytest.raises(GtfsError):
        read_gtfs(shared_path(GGL))
