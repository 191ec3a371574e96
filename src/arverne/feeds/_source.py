"""The files of a GTFS feed, from a zip archive or a folder, read as bytes within limits.

Only regular files are read: a named pipe or a device given as the feed, or found in a folder
feed, would block or never end. Each file is held to ``ReadLimits``: its size, and in a zip its
compression ratio, announced by the archive and checked again while inflating.
"""

from __future__ import annotations

import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, cast

from isal import isal_zlib

from arverne.errors import GtfsError
from arverne.feeds.limits import ReadLimits

_ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    cast(type[Exception], isal_zlib.error),  # its stub declares an instance
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,  # zipfile: unsupported version, compression or strong encryption
    RuntimeError,  # zipfile: an encrypted member
)
"""What zipfile and the inflater raise on a damaged or unsupported archive."""
_ZIP_FLAGS_FOR_ZIPFILE = 0x1 | 0x20 | 0x40
"""Encrypted, patched or strongly encrypted members: left to zipfile, which refuses them."""


class Source:
    """The files of a feed, from a zip archive or a folder, read as bytes on demand.

    Only a regular file or a folder is read (a named pipe or a device would block the read or
    never end), and within a folder only regular files; each file is held to ``limits``.

    Parameters
    ----------
    path
        A ``.zip`` file or a directory.
    limits
        Bounds on each file's size (and, in a zip, its compression ratio).
    """

    def __init__(self, path: Path, limits: ReadLimits | None = None) -> None:
        self.path = path
        self.limits = limits if limits is not None else ReadLimits()
        self._zip: zipfile.ZipFile | None = None
        self._handle: BinaryIO | None = None
        self._members: dict[str, str] = {}
        self._pending: dict[str, Future[bytes]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self.subfolder: str | None = None
        try:
            if stat.S_ISDIR(path.stat().st_mode):
                self._members = {p.name: p.name for p in path.iterdir() if not p.is_dir()}
                return
        except FileNotFoundError:
            raise GtfsError(f"{path}: no such file or directory") from None
        except OSError as exc:
            raise GtfsError(f"{path}: cannot be read ({exc.strerror})") from None
        self._handle = open_regular(path)
        try:
            self._zip = zipfile.ZipFile(self._handle)
            # a member with an empty name (zipfile's is_dir fails on it) is no file of a feed
            infos = [i for i in self._zip.infolist() if i.filename and not i.is_dir()]
        except _ZIP_ERRORS as exc:
            self.close()
            raise GtfsError(f"{path}: not a readable zip archive ({exc})") from None
        top = {i.filename: i.filename for i in infos if "/" not in i.filename.strip("/")}
        if "stop_times.txt" not in top and "stops.txt" not in top:
            # the canonical validator flags files inside a single sub-folder; we read them
            nested = [i.filename for i in infos if i.filename.endswith("/stops.txt")]
            if len(nested) == 1:
                prefix = nested[0][: -len("stops.txt")]
                self.subfolder = prefix
                top = {
                    i.filename[len(prefix) :]: i.filename
                    for i in infos
                    if i.filename.startswith(prefix) and "/" not in i.filename[len(prefix) :]
                }
        self._members = top

    @property
    def names(self) -> list[str]:
        """File names at the feed's root, sorted."""
        return sorted(self._members)

    def prefetch(self, names: Iterable[str]) -> None:
        """Start reading files, in this order, on a background thread.

        Inflating a big member (20 MB of stop_times.txt: ~20 ms) then overlaps the parsing of
        the files read before it; :meth:`read` waits for it and raises what it raised.
        """
        todo = [n for n in names if n in self._members and n not in self._pending]
        if todo and self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="gtfs-read")
        for name in todo:
            assert self._pool is not None
            self._pending[name] = self._pool.submit(self._read, name)

    def read(self, name: str) -> bytes:
        """Bytes of one file.

        Parameters
        ----------
        name
            File name at the feed's root.

        Returns
        -------
        bytes
            The whole file.

        Raises
        ------
        GtfsError
            When the archive member is corrupt or truncated, when the file is not a regular
            file, or when it is larger (or, zipped, more compressed) than the limits allow.
        """
        pending = self._pending.pop(name, None)
        return self._read(name) if pending is None else pending.result()

    def _read(self, name: str) -> bytes:
        member = self._members[name]
        if self._zip is None:
            with open_regular(self.path / member) as handle:
                size = os.fstat(handle.fileno()).st_size
                self._check_size(name, size)
                data = handle.read(size + 1)  # a file that grew meanwhile shows one byte more
            self._check_size(name, len(data))
            return data
        info = self._zip.getinfo(member)
        self._check_size(name, info.file_size, info.compress_size)
        try:
            if (
                info.compress_type == zipfile.ZIP_DEFLATED
                and not info.flag_bits & _ZIP_FLAGS_FOR_ZIPFILE
            ):
                return self._inflate(info)
            # zipfile reads no more than the announced size, which was checked above
            return self._zip.read(member)
        except _ZIP_ERRORS as exc:
            raise GtfsError(f"{self.path}: {name} is corrupt in the zip archive ({exc})") from None

    def _check_size(self, name: str, size: int, compressed: int | None = None) -> None:
        """Refuse a file over :attr:`ReadLimits.max_member_bytes`, or a zip member that
        inflates more than :attr:`ReadLimits.max_inflation_ratio` times.
        """
        limits = self.limits
        if size > limits.max_member_bytes:
            raise GtfsError(
                f"{self.path}: {name} is {size:,} bytes, over the limit of "
                f"{limits.max_member_bytes:,} bytes (ReadLimits.max_member_bytes)"
            )
        if compressed is None or size <= limits.ratio_from_bytes:
            return
        ratio = size / max(compressed, 1)
        if ratio > limits.max_inflation_ratio:
            raise GtfsError(
                f"{self.path}: {name} inflates {ratio:,.0f} times ({compressed:,} to {size:,} "
                f"bytes), over the limit of {limits.max_inflation_ratio:,g} "
                "(ReadLimits.max_inflation_ratio): a zip bomb?"
            )

    def _inflate(self, info: zipfile.ZipInfo) -> bytes:
        """A deflated member, inflated by ISA-L: about twice zlib's speed on big stop_times.

        The archive's announced size is checked against the limits but not trusted: the
        inflater stops one byte past it, so a member that lies about its size costs no more.
        """
        with open_regular(self.path) as handle:
            handle.seek(info.header_offset)
            header = handle.read(30)
            if len(header) < 30 or header[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile("bad local file header")
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            handle.seek(info.header_offset + 30 + name_len + extra_len)
            deflated = handle.read(info.compress_size)
        if len(deflated) < info.compress_size:
            raise EOFError("the archive is truncated")
        data = isal_zlib.decompressobj(-15).decompress(deflated, info.file_size + 1)
        if len(data) != info.file_size or isal_zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile("size or CRC-32 does not match the archive's directory")
        return data

    def close(self) -> None:
        """Stop the background reads and close the archive, if any."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._zip is not None:
            self._zip.close()
        if self._handle is not None:
            self._handle.close()


def open_regular(path: Path) -> BinaryIO:
    """Open a file for reading if it is a regular file, else refuse it before any read.

    The file is opened without blocking and checked on its descriptor: a named pipe with no
    writer would block ``open`` itself, and a device (``/dev/zero``) never ends.

    Raises
    ------
    GtfsError
        When the path is not a regular file or cannot be opened.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        try:
            kind = _kind(path.stat().st_mode)
        except OSError:
            kind = None
        if kind is not None:
            raise GtfsError(f"{path} is {kind}, not a regular file") from None
        raise GtfsError(f"{path}: cannot be read ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise GtfsError(f"{path} is {_kind(mode) or 'a folder'}, not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _kind(mode: int) -> str | None:
    """What a file that is neither regular nor a folder is, in words (None otherwise)."""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return "a special file"
