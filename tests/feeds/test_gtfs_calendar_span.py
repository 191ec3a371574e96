"""The service calendar spans only the dates of the services trips use, within a limit."""

from __future__ import annotations

import datetime as dt
import json
import sys
import tracemalloc

import pytest

from arverne import cli
from arverne.errors import GtfsError
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.limits import ReadLimits
from arverne.network.build import BuildParams, build_network
from arverne.network.timetable import build_timetable
from tests.feeds.gtfs_fixtures import BASE, write_feed

CALENDAR_HEADER = (
    "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
)


def _millennium_feed(root, n_services: int):
    """A ~50 KB feed like the one that took a build to 4.9 GB: ``n_services`` services, each
    daily from 1900 to 2999, each used by one two-stop trip."""
    calendar = CALENDAR_HEADER + "".join(
        f"M{k},1,1,1,1,1,1,1,19000101,29991231\n" for k in range(n_services)
    )
    trips = "route_id,service_id,trip_id\n" + "".join(f"R1,M{k},T{k}\n" for k in range(n_services))
    stop_times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + "".join(
        f"T{k},08:00:00,08:00:00,S1,1\nT{k},08:10:00,08:10:00,S2,2\n" for k in range(n_services)
    )
    files = {"calendar.txt": calendar, "calendar_dates.txt": None, "trips.txt": trips}
    return write_feed(root, {**files, "stop_times.txt": stop_times}, as_zip=True)


def test_millennium_calendar_refused_before_any_allocation(tmp_path):
    """4,000 services running daily from 1900 to 2999: the feed reads, and building its
    timetable is refused with a GtfsError naming calendar.txt, a service and the limit,
    without the gigabytes the day matrix would take."""
    path = _millennium_feed(tmp_path, 4_000)
    assert path.stat().st_size < 100_000
    feed = read_gtfs(path)
    tracemalloc.start()
    with pytest.raises(GtfsError) as refused:
        build_timetable([feed])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    message = str(refused.value)
    assert message.startswith("calendar.txt: service 'M")
    assert "1900-01-01 to 2999-12-31" in message and "401,767 days" in message
    assert "36,525 days" in message and "ReadLimits.max_service_days" in message
    assert peak < 50_000_000


def _century_and_a_year_feed(root):
    """The shared small feed with its weekday service running from 2000 to 2100 (36,890 days,
    over the default century)."""
    calendar = CALENDAR_HEADER + "WK,1,1,1,1,1,0,0,20000101,21001231\n"
    return write_feed(root, {"calendar.txt": calendar, "calendar_dates.txt": None})


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["arverne", *args])
    with pytest.raises(SystemExit) as stop:
        cli.main()
        raise SystemExit(0)  # main() returns normally when the command succeeds
    out = capsys.readouterr()
    return int(stop.value.code or 0), out.out + out.err


def test_limit_can_be_raised(tmp_path):
    """A service from 2000 to 2100 (36,890 days) is over the default century; read with
    ReadLimits(max_service_days=40,000) its calendar is built, one column per day."""
    path = _century_and_a_year_feed(tmp_path)
    with pytest.raises(GtfsError, match="36,890 days"):
        read_gtfs(path).service_days()
    days = read_gtfs(path, limits=ReadLimits(max_service_days=40_000)).service_days()
    assert days.n_days == 36_890
    assert days.first_date == dt.date(2000, 1, 1)
    assert not days.active[0, 0]  # Saturday 1 January 2000
    assert days.active[0, 2]  # Monday 3 January 2000


def test_services_no_trip_uses_do_not_stretch_the_calendar(tmp_path):
    """An unused service running from 1900 to 2999 and an unused exception in 1950 leave the
    calendar at January 2024 (the dates of the service the trips use); the unused service
    keeps its row, with its January days."""
    calendar = BASE["calendar.txt"] + "OLD,1,1,1,1,1,1,1,19000101,29991231\n"
    dates = BASE["calendar_dates.txt"] + "OLD,19500101,2\n"
    feed = read_gtfs(write_feed(tmp_path, {"calendar.txt": calendar, "calendar_dates.txt": dates}))
    days = feed.service_days()
    assert days.first_date == dt.date(2024, 1, 1) and days.n_days == 31
    assert days.service_id.tolist() == ["OLD", "WK"]
    assert days.active[0].all()


def test_limit_is_a_read_limit():
    """max_service_days is one of the ReadLimits: default a century, set by NAME=VALUE, and
    a value below one day is refused."""
    assert ReadLimits().max_service_days == 36_525
    assert ReadLimits.parse(["max_service_days=40000"]).max_service_days == 40_000
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="max_service_days"):
            ReadLimits(max_service_days=bad)


def test_validate_reports_the_span_and_limit_option_raises_it(tmp_path, monkeypatch, capsys):
    """`arverne validate` on the 2000-2100 feed: a service_calendar_too_long ERROR naming the
    service and the limit (exit 1); with --limit max_service_days=40000 the feed is clean
    (exit 0)."""
    path = str(_century_and_a_year_feed(tmp_path))
    report = tmp_path / "r.json"
    code, text = _cli(monkeypatch, capsys, "validate", path, "--json", str(report))
    assert code == 1 and "service_calendar_too_long" in text
    (notice,) = json.loads(report.read_text("utf-8"))["notices"]
    assert notice["code"] == "service_calendar_too_long" and notice["severity"] == "ERROR"
    assert "service 'WK'" in notice["message"] and "36,890 days" in notice["message"]
    code, text = _cli(monkeypatch, capsys, "validate", path, "--limit", "max_service_days=40000")
    assert code == 0 and "no notices" in text


def test_build_takes_the_read_limits(tmp_path, monkeypatch, capsys):
    """build_network reads its feeds with BuildParams.limits: the 2000-2100 feed is refused
    at the default limit and builds (36,890 days, the limit in the manifest) with it raised;
    `arverne build --limit` does the same (exit 3, then 0) and a bad --limit exits 2."""
    path = _century_and_a_year_feed(tmp_path)
    with pytest.raises(GtfsError, match="36,890 days"):
        build_network([path], None, tmp_path / "refused")
    raised = BuildParams(limits=ReadLimits(max_service_days=40_000))
    network = build_network([path], None, tmp_path / "net", params=raised)
    assert network.manifest["counts"]["days"] == 36_890
    assert network.manifest["params"]["limits"]["max_service_days"] == 40_000
    build = ["build", "--gtfs", str(path), "-o", str(tmp_path / "cli")]
    code, text = _cli(monkeypatch, capsys, *build)
    assert code == 3 and "ReadLimits.max_service_days" in text
    code, text = _cli(monkeypatch, capsys, *build, "--limit", "max_service_days=40000")
    assert code == 0, text
    code, text = _cli(monkeypatch, capsys, *build, "--limit", "max_service_days=0")
    assert code == 2 and "Traceback" not in text
