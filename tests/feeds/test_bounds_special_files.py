"""A feed, or a file inside a folder feed, that is not a regular file (a named pipe, a device,
a socket) is refused at once with exit 3: reading one would block forever or never end."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from arverne.errors import GtfsError
from arverne.feeds.gtfs import read_gtfs
from tests.feeds.gtfs_fixtures import write_feed
from tests.feeds.test_bounds_zip import run_validate

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="named pipes and sockets")


@posix_only
def test_named_pipe_as_feed(tmp_path):
    """`arverne validate PIPE` (a FIFO nobody writes to): exit 3 naming a named pipe, within
    the timeout (it blocked forever)."""
    pipe = tmp_path / "feed.zip"
    os.mkfifo(pipe)
    code, text, _ = run_validate(pipe, timeout=60)
    assert code == 3, text
    assert "is a named pipe, not a regular file" in text


@posix_only
@pytest.mark.parametrize("member", ["stops.txt", "shapes.txt", "notes.txt"])
def test_named_pipe_inside_folder(tmp_path, member):
    """A FIFO named like a feed file inside a folder: a file the reader reads (stops.txt, or
    the optional shapes.txt, formerly skipped in silence) refuses the feed with exit 3; an
    unknown name is only an unknown_file notice, as it is never read."""
    path = write_feed(tmp_path, {member: None} if member != "notes.txt" else {})
    os.mkfifo(path / member)
    code, text, _ = run_validate(path, timeout=60)
    if member == "notes.txt":
        assert code == 0, text
        assert "unknown_file" in text
    else:
        assert code == 3, text
        assert f"{member} is a named pipe, not a regular file" in text


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_device_as_feed_or_member(tmp_path):
    """/dev/zero as the feed, or linked as shapes.txt in a folder: refused as a device."""
    with pytest.raises(GtfsError, match="is a device, not a regular file"):
        read_gtfs("/dev/zero")
    path = write_feed(tmp_path)
    (path / "shapes.txt").symlink_to("/dev/zero")
    with pytest.raises(GtfsError, match=r"shapes\.txt is a device"):
        read_gtfs(path)


@posix_only
def test_socket_as_feed(tmp_path):
    """A Unix socket given as the feed: refused as a socket."""
    path = tmp_path / "s.zip"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(GtfsError, match="is a socket, not a regular file"):
            read_gtfs(path)
    finally:
        server.close()


def test_unreadable_and_dangling(tmp_path):
    """A dangling link as the feed is 'no such file'; as stops.txt in a folder it is refused
    naming the file."""
    with pytest.raises(GtfsError, match="no such file or directory"):
        link = tmp_path / "gone.zip"
        link.symlink_to(tmp_path / "nowhere.zip")
        read_gtfs(link)
    path = write_feed(tmp_path, {"stops.txt": None})
    (path / "stops.txt").symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(GtfsError, match=r"stops\.txt: cannot be read"):
        read_gtfs(path)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads anything")
def test_unlistable_folder(tmp_path):
    """A folder feed that cannot be listed (no read permission) is refused naming it."""
    path = write_feed(tmp_path)
    path.chmod(0o300)
    try:
        with pytest.raises(GtfsError, match="cannot be read"):
            read_gtfs(path)
    finally:
        path.chmod(0o700)
