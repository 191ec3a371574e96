"""Random damage to a small clean feed: reading gives notices or a GtfsError, never a crash.

Damage kinds: cells, rows, headers and truncation (text), bytes of the zip, over-long values
against a small field limit, members that are not regular files, and zip members whose
announced size lies or whose inflation passes the limits. ``ARVERNE_FUZZ_SCALE=N`` multiplies
every budget (the suite runs at 1).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arverne.errors import GtfsError
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.limits import ReadLimits
from arverne.feeds.notices import Notice
from arverne.feeds.validate import validate_feed
from arverne.network.timetable import build_timetable
from tests.feeds.gtfs_fixtures import BASE, write_feed
from tests.feeds.test_bounds_zip import MIB, ROW, bomb_feed, deflated_rows

SCALE = max(int(os.environ.get("ARVERNE_FUZZ_SCALE", "1")), 1)

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


@settings(max_examples=50 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


@settings(max_examples=40 * SCALE, deadline=None)
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


FIELD_LIMIT = 64
"""max_field_bytes of the long-value damage: values around it are cheap to write."""


@st.composite
def long_values(draw):
    """``damaged()`` plus a few cells replaced by values around :data:`FIELD_LIMIT` bytes:
    plain, quoted, with commas or quotes inside, or a whole line that long."""
    files = draw(damaged())
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(BASE)))
        text = files.get(name) or BASE[name]
        assert isinstance(text, str)
        lines = text.rstrip("\n").split("\n")
        row = draw(st.integers(0, len(lines) - 1))
        cells = lines[row].split(",")
        col = draw(st.integers(0, len(cells) - 1))
        length = draw(st.integers(FIELD_LIMIT - 2, 3 * FIELD_LIMIT))
        body = draw(st.sampled_from(["x", "é", "x,", '"', '""', "x\n"])) * length
        value = draw(st.sampled_from([body, f'"{body}"', f'"{body}', f'{body}"']))
        cells[col] = value[: 4 * FIELD_LIMIT]
        lines[row] = ",".join(cells)
        files[name] = "\n".join(lines) + "\n"
    return files


def _longest_cell(feed) -> int:
    """Longest text value, in UTF-8 bytes, in the tables a feed keeps."""
    longest = 0
    for table in (feed.agency, feed.stops, feed.routes, feed.trips, feed.stop_times):
        for column in table.columns:
            values = table[column]
            if values.dtype == object or str(values.dtype) in ("string", "str", "category"):
                texts = values.astype(str)
                longest = max(longest, max((len(t.encode()) for t in texts), default=0))
    return longest


@settings(max_examples=30 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(long_values())
def test_long_values_never_kept(files):
    """With max_field_bytes=64, any damage with values around that length reads or is
    refused with GtfsError, and no table keeps a value over the limit."""
    limits = ReadLimits(max_field_bytes=FIELD_LIMIT)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_feed(Path(tmp), files)
        try:
            feed = read_gtfs(path, limits=limits)
        except GtfsError as exc:
            assert str(exc)
        else:
            _check_notices(feed.notices)
            assert _longest_cell(feed) <= FIELD_LIMIT
            build_timetable([feed])


def _alarm(seconds: int) -> None:
    """Fail instead of hanging (POSIX): a read that blocks raises after ``seconds``."""

    def fail(*_: object) -> None:
        raise TimeoutError("the read blocked")

    signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)


SPECIAL = ["fifo", "dangling", "folder", "device"]


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes")
@settings(max_examples=20 * SCALE, deadline=None)
@given(st.sampled_from(sorted(BASE) + sorted(OPTIONAL) + ["notes.txt"]), st.sampled_from(SPECIAL))
def test_special_members_refused_or_ignored(member, kind):
    """A file of a folder feed replaced by a named pipe, a dangling link, a folder or a link to
    /dev/zero: the feed reads (a file never read, or a folder, which is no file) or is refused
    with GtfsError naming that file, at once."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_feed(Path(tmp), {**OPTIONAL, member: None})
        target = path / member
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "dangling":
            target.symlink_to(Path(tmp) / "nowhere")
        elif kind == "folder":
            target.mkdir()
        elif Path("/dev/zero").exists():
            target.symlink_to("/dev/zero")
        else:
            return
        _alarm(20)
        try:
            feed = read_gtfs(path)
        except GtfsError as exc:
            assert member in str(exc)
        else:
            assert kind == "folder" or member == "notes.txt"  # never read, or not a file
            _check_notices(feed.notices)
        finally:
            signal.alarm(0)


@settings(max_examples=20 * SCALE, deadline=None)
@given(
    mebibytes=st.integers(1, 24),
    announced=st.sampled_from(["true", "smaller", "larger", "tiny", "huge"]),
    ratio=st.sampled_from([5.0, 100.0, 1_000.0]),
    member_mib=st.sampled_from([2, 8, 32]),
)
def test_zip_members_bounded(mebibytes, announced, ratio, member_mib):
    """stop_times.txt of ``mebibytes`` MiB of one repeated row (ratio ~400) announced with its
    true size or a lie, under random limits: the feed reads exactly when the true size is
    announced and within the limits; otherwise GtfsError names stop_times.txt (a lie is found
    when the inflater stops one byte past the announced size, or when it ends short)."""
    limits = ReadLimits(
        max_member_bytes=member_mib * MIB, max_inflation_ratio=ratio, ratio_from_bytes=MIB
    )
    deflated, crc, size = deflated_rows(mebibytes)
    told = {
        "true": size,
        "smaller": size - len(ROW),
        "larger": size + len(ROW),
        "tiny": 10,
        "huge": 1 << 31,
    }[announced]
    fits = size <= limits.max_member_bytes and (
        size <= limits.ratio_from_bytes or size / len(deflated) <= ratio
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = bomb_feed(Path(tmp) / "bomb.zip", (deflated, crc, told))
        try:
            feed = read_gtfs(path, limits=limits)
        except GtfsError as exc:
            assert "stop_times.txt" in str(exc)
            assert not (announced == "true" and fits), str(exc)
        else:
            assert announced == "true" and fits
            _check_notices(feed.notices)
