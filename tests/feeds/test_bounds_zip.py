"""Zip bombs and oversized files: refused past ReadLimits, with bounded memory, limits raisable.

The bombs are made here at test time: a deflate stream of one compressed mebibyte of stop times
repeated (each piece ends on a full flush, so pieces concatenate), in a zip written by hand so
that its directory can announce any size.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from arverne.errors import GtfsError
from arverne.feeds._source import Source
from arverne.feeds.gtfs import read_gtfs
from arverne.feeds.limits import ReadLimits
from arverne.feeds.validate import validate_feed
from tests.conftest import SHARED_DATA
from tests.feeds.gtfs_fixtures import BASE, write_feed
from tests.peak import PEAK_AT_EXIT, PEAK_ENV, read_peak

MIB = 1 << 20
ROW = b"T1,08:00:00,08:00:00,S1,1,0,0\n"
"""One stop time; a mebibyte of them deflates to 2.5 kB."""


def deflated_rows(mebibytes: int) -> tuple[bytes, int, int]:
    """A stop_times.txt of the header and ``mebibytes`` MiB of :data:`ROW` lines (whole lines
    per MiB), as a raw deflate stream, with its CRC-32 and size."""
    header = BASE["stop_times.txt"].split("\n", 1)[0].encode() + b"\n"
    block = ROW * (MIB // len(ROW))
    pieces = []
    for text in (header, block):
        piece = zlib.compressobj(9, zlib.DEFLATED, -15)
        pieces.append(piece.compress(text) + piece.flush(zlib.Z_FULL_FLUSH))
    end = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc = zlib.crc32(header)
    for _ in range(mebibytes if mebibytes <= 64 else 0):  # a CRC only for what may be read
        crc = zlib.crc32(block, crc)
    deflated = pieces[0] + pieces[1] * mebibytes + end.compress(b"") + end.flush()
    return deflated, crc, len(header) + mebibytes * len(block)


def write_zip(path: Path, members: list[tuple[str, int, bytes, int, int]]) -> Path:
    """Write a zip by hand: ``(name, method, payload, crc, announced size)`` per member."""
    body = bytearray()
    directory = bytearray()
    for name, method, payload, crc, size in members:
        raw = name.encode()
        fields = struct.pack("<HHHHHIII", 20, 0, method, 0, 0, crc, len(payload), size)
        directory += b"PK\x01\x02" + struct.pack("<H", 20) + fields
        directory += struct.pack("<HHHHHII", len(raw), 0, 0, 0, 0, 0, len(body)) + raw
        body += b"PK\x03\x04" + fields + struct.pack("<HH", len(raw), 0) + raw + payload
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), 0, 0, 0)
    end = end[:12] + struct.pack("<II", len(directory), len(body)) + end[20:]
    path.write_bytes(bytes(body + directory + end))
    return path


def bomb_feed(path: Path, stop_times: tuple[bytes, int, int]) -> Path:
    """BASE stored as is, with stop_times.txt replaced by ``(deflated, crc, announced size)``."""
    members = [
        (name, 0, text.encode(), zlib.crc32(text.encode()), len(text.encode()))
        for name, text in BASE.items()
        if name != "stop_times.txt"
    ]
    deflated, crc, size = stop_times
    return write_zip(path, [*members, ("stop_times.txt", 8, deflated, crc, size)])


def run_validate(path: Path, *options: str, timeout: float = 300) -> tuple[int, str, int]:
    """``arverne validate`` in a fresh process: exit code, output, and peak memory in MB."""
    peak_path = path.parent / f"{path.name}.peak"
    script = (
        f"{PEAK_AT_EXIT}"
        "import sys\n"
        "from arverne.cli import main\n"
        "sys.argv = ['arverne', 'validate', *sys.argv[1:]]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), *options],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, PEAK_ENV: str(peak_path)},
    )
    peak = read_peak(peak_path) // 2**20
    return done.returncode, done.stdout + done.stderr, peak


def test_honest_bomb_refused_by_ratio(tmp_path):
    """A 2.6 MB zip whose stop_times.txt announces 1 GiB (ratio ~400): exit 3 naming the
    member, the ratio and the limit, and the process stays far below 1 GB."""
    path = bomb_feed(tmp_path / "bomb.zip", deflated_rows(1024))
    assert path.stat().st_size < 3 * MIB
    code, text, peak = run_validate(path)
    assert code == 3, text
    assert "stop_times.txt inflates" in text and "ReadLimits.max_inflation_ratio" in text
    assert peak < 1000


def test_lying_bomb_stops_inflating(tmp_path):
    """stop_times.txt announces 8 MiB but inflates to 1 GiB: the inflater stops one byte past
    the announced size; exit 3 (corrupt member), peak memory far below 1 GB."""
    deflated, crc, _ = deflated_rows(1024)
    path = bomb_feed(tmp_path / "liar.zip", (deflated, crc, 8 * MIB))
    code, text, peak = run_validate(path)
    assert code == 3, text
    assert "stop_times.txt is corrupt" in text and "size or CRC-32" in text
    assert peak < 1000


def test_ratio_limit_can_be_raised(tmp_path):
    """A 20 MiB stop_times.txt of one repeated row inflates ~400 times: refused by default,
    read with ReadLimits(max_inflation_ratio=5000)."""
    path = bomb_feed(tmp_path / "dense.zip", deflated_rows(20))
    with pytest.raises(GtfsError, match=r"stop_times\.txt inflates .* limit of 100 "):
        read_gtfs(path)
    feed = read_gtfs(path, limits=ReadLimits(max_inflation_ratio=5000))
    assert feed.raw_counts["stop_times.txt"] == 20 * (MIB // len(ROW))


def test_member_size_limit_zip_and_folder(tmp_path):
    """A member past max_member_bytes is refused, zipped (deflated or stored) or in a folder,
    naming the file, its size and the limit; the same feeds read under the default limits."""
    limits = ReadLimits(max_member_bytes=200)  # agency, calendar files pass; stops.txt not
    stops_size = len(BASE["stops.txt"].encode())
    zipped = write_feed(tmp_path, as_zip=True)
    stored = write_zip(
        tmp_path / "stored.zip",
        [(n, 0, t.encode(), zlib.crc32(t.encode()), len(t.encode())) for n, t in BASE.items()],
    )
    folder = write_feed(tmp_path)
    for path in (zipped, stored, folder):
        read_gtfs(path)
        with pytest.raises(
            GtfsError, match=rf"stops\.txt is {stops_size} bytes, over the limit of 200 "
        ):
            read_gtfs(path, limits=limits)


def test_limits_checked_on_creation():
    """ReadLimits refuses limits that bound nothing or everything (0, negative, NaN, bool)."""
    for bad in (
        {"max_member_bytes": 0},
        {"max_field_bytes": -1},
        {"notices_per_code": 0},
        {"ratio_from_bytes": True},
        {"max_inflation_ratio": float("nan")},
        {"max_inflation_ratio": 0.5},
    ):
        with pytest.raises(ValueError, match="ReadLimits"):
            ReadLimits(**bad)
    assert ReadLimits(max_inflation_ratio=float("inf")).max_member_bytes == 4 << 30


def _shared_feeds() -> list[Path]:
    roots = [SHARED_DATA / "gtfs", SHARED_DATA / "bundles", SHARED_DATA / "france"]
    zips = [p for root in roots if root.is_dir() for p in sorted(root.rglob("*.zip"))]
    folders = [p for p in sorted((SHARED_DATA / "gtfs").glob("*-dir")) if p.is_dir()]
    return zips + folders


def test_every_shared_feed_passes_default_limits():
    """Every member of every shared feed (zips and folders) is read under ReadLimits(); the
    largest, hart's 21 MB stop_times.txt, and the most compressed, 51:1, among them."""
    feeds = _shared_feeds()
    if not feeds:
        pytest.skip("no shared data")
    read = 0
    for path in feeds:
        try:
            source = Source(path)
        except GtfsError:
            continue  # not a feed (an unrelated zip in a bundle); its refusal is not a limit
        try:
            for name in source.names:
                if name.endswith(".txt"):
                    read += len(source.read(name))
        finally:
            source.close()
    assert read > 20 * MIB


def test_shared_feeds_validate_under_default_limits():
    """validate_feed reads hart (the largest shared feed) with no limit notice."""
    path = SHARED_DATA / "gtfs" / "hart" / "hart.zip"
    if not path.exists():
        pytest.skip("no shared data")
    report = validate_feed(path)
    assert report.counts["stop_times"] > 300_000
    assert not report.omitted
    assert not any(n.code == "field_over_limit" for n in report.notices)


def test_member_with_empty_name_ignored(tmp_path):
    """A zip whose directory holds a member with an empty name (found by the fuzz test: it
    made zipfile raise IndexError, exit 4) reads as the feed without it."""
    members = [
        (name, 0, text.encode(), zlib.crc32(text.encode()), len(text.encode()))
        for name, text in BASE.items()
    ]
    path = write_zip(tmp_path / "noname.zip", [("", 0, b"x", zlib.crc32(b"x"), 1), *members])
    assert len(read_gtfs(path).stop_times) == 6
