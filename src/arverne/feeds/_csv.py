"""Low-level GTFS reading: the zip or folder, CSV files as Arrow string columns, notices.

No Python loop touches every row of a big file: a regular file with typed columns goes through
one compiled pass (``_scan``), the others through pyarrow's CSV reader, small files through the
csv module.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from isal import isal_zlib

from arverne.errors import GtfsError
from arverne.feeds._scan import rescan_text, scan_csv
from arverne.feeds.limits import ReadLimits
from arverne.feeds.notices import Notice, Severity

MAX_EXAMPLE_CHARS = 60
"""Longest excerpt of a value quoted in a notice message."""
FIELD_TOO_LONG = 4096
"""Values longer than this many characters get a ``field_too_long`` notice (they are kept)."""
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
_SEPARATORS = (b",", b"\n", b"\r")
"""Bytes that end an unquoted CSV value."""
SMALL_FILE_BYTES = 16_384
"""Files up to this size are parsed with the csv module: pyarrow's thread hand-offs cost more."""


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
            is_dir = stat.S_ISDIR(path.stat().st_mode)
        except FileNotFoundError:
            raise GtfsError(f"{path}: no such file or directory") from None
        except OSError as exc:
            raise GtfsError(f"{path}: cannot be read ({exc.strerror})") from None
        if is_dir:
            self._members = {p.name: p.name for p in path.iterdir() if not p.is_dir()}
            return
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
        inflates more than :attr:`ReadLimits.max_inflation_ratio` times."""
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


class Notices:
    """Notices of one reading, at most ``per_code`` of each code kept, the rest counted.

    Every notice goes through :meth:`add`, :meth:`add_rows` or :meth:`extend`, so the bound
    holds wherever a notice comes from.

    Parameters
    ----------
    per_code
        Notices kept per code (``ReadLimits.notices_per_code``).

    Attributes
    ----------
    items
        The notices kept, in the order found.
    per_code
        The bound (a caller quoting values needs no more than this many of them).
    omitted
        ``{code: count}`` of the notices found past the bound.
    """

    def __init__(self, per_code: int = ReadLimits.notices_per_code) -> None:
        self.items: list[Notice] = []
        self.omitted: dict[str, int] = {}
        self.per_code = per_code
        self._kept: dict[str, int] = {}

    def _room(self, code: str, wanted: int) -> int:
        """How many of ``wanted`` notices of ``code`` to keep; the rest are counted."""
        kept = self._kept.get(code, 0)
        room = min(wanted, max(self.per_code - kept, 0))
        self._kept[code] = kept + room
        if room < wanted:
            self.omitted[code] = self.omitted.get(code, 0) + wanted - room
        return room

    def add(
        self,
        code: str,
        severity: Severity,
        file: str | None,
        row: int | None,
        field: str | None,
        message: str,
    ) -> None:
        """Append one notice."""
        if self._room(code, 1):
            self.items.append(Notice(code, severity, file, row, field, message))

    def extend(self, notices: Iterable[Notice]) -> None:
        """Append notices made elsewhere."""
        for notice in notices:
            if self._room(notice.code, 1):
                self.items.append(notice)

    def add_rows(
        self,
        code: str,
        severity: Severity,
        file: str,
        rows: np.ndarray,
        field: str | None,
        message: Callable[[int, str], str],
        values: Iterable[object] | None = None,
    ) -> None:
        """Append one notice per row (the first ones, up to the bound).

        Parameters
        ----------
        code, severity, file, field
            As in :class:`Notice`.
        rows
            CSV row numbers of the flagged rows.
        message
            ``message(row, value)`` -> sentence; ``value`` is the (shortened) field value.
        values
            The flagged values, one per row, or None.
        """
        room = self._room(code, len(rows))
        vals: Iterable[object] = values if values is not None else [""] * room
        for row, value in zip(rows[:room].tolist(), vals, strict=False):
            self.items.append(
                Notice(code, severity, file, int(row), field, message(int(row), short(value)))
            )


def short(value: object) -> str:
    """A value as text, cut to :data:`MAX_EXAMPLE_CHARS` characters for messages."""
    text = "" if value is None else str(value)
    if len(text) > MAX_EXAMPLE_CHARS:
        return text[:MAX_EXAMPLE_CHARS] + "..."
    return text


def _decode_header(data: bytes) -> tuple[str, int]:
    """First line of a CSV file as text, and its byte length including the line end."""
    end = data.find(b"\n")
    line = data if end < 0 else data[:end]
    length = len(data) if end < 0 else end + 1
    try:
        return line.decode("utf-8"), length
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace"), length


@dataclass
class CsvTable:
    """One CSV file read: its columns as text, except typed columns parsed on the way.

    Attributes
    ----------
    names
        Column names in file order (stripped; unnamed and repeated ones renamed ``__...``).
    text
        Arrow string columns, in file order.
    rows
        CSV row number of each row (int32; the header is row 1).
    typed
        Typed columns every value of which parsed: int32 (-1 when empty) or float64 (NaN when
        empty). Their text is not kept; :meth:`reread` gives it back.
    """

    names: list[str]
    text: pa.Table
    rows: np.ndarray
    typed: dict[str, np.ndarray] = field(default_factory=dict)
    _source: tuple[Callable[[], bytes], int] | None = None
    """How to get the file's bytes again, and where its rows start in them."""

    def release(self, names: Iterable[str]) -> None:
        """Drop columns; the file's bytes go with the last typed column."""
        names = list(names)
        self.text = self.text.drop_columns([n for n in names if n in self.text.column_names])
        for name in names:
            self.typed.pop(name, None)
        if not self.typed:
            self._source = None

    def reread(self, name: str) -> pa.Array:
        """The text of a typed column, read again from the file's bytes."""
        assert self._source is not None, "only a scanned file has typed columns"
        read, start = self._source
        return rescan_text(read(), start, len(self.names), self.names.index(name))


def read_csv_table(
    file: str,
    data: bytes,
    notices: Notices,
    types: Mapping[str, str] | None = None,
    reread: Callable[[], bytes] | None = None,
    max_field_bytes: int = ReadLimits.max_field_bytes,
) -> CsvTable | None:
    """Read one GTFS CSV file.

    Parameters
    ----------
    file
        File name (for notices).
    data
        The file's bytes.
    notices
        Where notices go.
    types
        ``{column: "int" | "time" | "real"}``: columns a regular big file may give parsed (see
        ``_scan``); without it, or when a column does not parse cleanly, the column is text.
    reread
        Gives ``data`` again: then the table does not hold on to the bytes for the rare re-read
        of a typed column's text.
    max_field_bytes
        Longest value kept: a row holding a longer one is left out with a ``field_over_limit``
        notice (values over :data:`FIELD_TOO_LONG` bytes are kept with ``field_too_long``).

    Returns
    -------
    CsvTable or None
        The columns and the CSV row number of each row; None when the file has no header
        (``empty_file``).
    """
    size = len(data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data[:4096].strip() and not data.strip():  # strip() copies: look at the head first
        notices.add("empty_file", Severity.ERROR, file, None, None, f"{file} is empty.")
        return None
    if data[:1] in (b"\n", b"\r"):
        data = data.lstrip(b"\r\n")  # blank lines before the header
    trimmed = size - len(data)  # bytes cut from the front
    if b"\x00" in data[:4096] and data[:4096].count(b"\x00") > 8:
        reread = None  # the bytes read are not the bytes parsed
        # UTF-16 or binary: try UTF-16, else give up on the file
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            notices.add(
                "csv_parsing_failed",
                Severity.ERROR,
                file,
                None,
                None,
                f"{file} is not a text file and was ignored.",
            )
            return None
        data = text.encode("utf-8").lstrip(b"\xef\xbb\xbf")
        notices.add(
            "non_utf8_encoding",
            Severity.WARNING,
            file,
            None,
            None,
            f"{file} is UTF-16 encoded, not UTF-8; it was decoded as UTF-16.",
        )
    cut: list[tuple[int, int, int]] = []
    if len(data) > max_field_bytes:
        data, cut = _cut_long_runs(data, max_field_bytes)
        if cut:
            reread = None  # the bytes read are not the bytes parsed
        if cut and cut[0][0] == 1:
            notices.add(
                "field_over_limit",
                Severity.ERROR,
                file,
                1,
                None,
                f"{file} header: a column name is {cut[0][2]:,} bytes long, over the limit of "
                f"{max_field_bytes:,} (ReadLimits.max_field_bytes); the file was ignored.",
            )
            return None
    header_text, header_length = _decode_header(data)
    header_text = header_text.rstrip("\r")
    try:
        raw_names = next(csv.reader(io.StringIO(header_text))) if header_text.strip() else []
    except csv.Error:
        # a lone carriage return: it ends the line for both body parsers, so the header too
        header_text = header_text.split("\r", 1)[0]
        raw_names = next(csv.reader(io.StringIO(header_text))) if header_text.strip() else []
    if not raw_names or all(not n.strip() for n in raw_names):
        notices.add("empty_file", Severity.ERROR, file, None, None, f"{file} has no header.")
        return None
    names: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_names):
        name = raw.strip()
        if name != raw:
            notices.add(
                "leading_or_trailing_whitespaces",
                Severity.WARNING,
                file,
                1,
                short(name),
                f"{file} header: column name {short(raw)!r} has leading or trailing spaces.",
            )
        if not name:
            notices.add(
                "empty_column_name",
                Severity.ERROR,
                file,
                1,
                None,
                f"{file} header: column {i + 1} has no name and was ignored.",
            )
            name = f"__empty_{i}"
        elif name in seen:
            notices.add(
                "duplicated_column",
                Severity.ERROR,
                file,
                1,
                short(name),
                f"{file} header: column {short(name)!r} appears twice; the later one was ignored.",
            )
            name = f"__duplicate_{i}_{name}"
        seen.add(name)
        names.append(name)

    parsed = None
    if len(data) <= SMALL_FILE_BYTES:
        parsed = _parse_small(file, data, names, notices)
    elif types and b"\r" not in data[: header_length - 2]:  # the header is one line
        scanned = scan_csv(data, header_length, names, types, max_field_bytes)
        if scanned is not None:  # no value is over the limit: nothing to leave out
            rows = np.arange(2, scanned.n_rows + 2, dtype=np.int32)
            text = pa.table(scanned.text)
            _check_long_values(file, text, rows, notices, len(data), max_field_bytes)
            # where the rows start in the bytes that ``read`` gives
            read, offset = (lambda: data, 0) if reread is None else (reread, trimmed)
            return CsvTable(names, text, rows, scanned.typed, (read, offset + header_length))
    table, rows = parsed if parsed is not None else _parse(file, data, names, notices)
    if cut:
        table, rows = _leave_out_cut_rows(file, names, table, rows, cut, notices, max_field_bytes)
    return CsvTable(
        names, *_check_long_values(file, table, rows, notices, len(data), max_field_bytes)
    )


def _cut_long_runs(data: bytes, limit: int) -> tuple[bytes, list[tuple[int, int, int]]]:
    """Take out of ``data`` every run of more than ``limit`` bytes holding no comma and no line
    end (so inside one field), before a parser copies it.

    A run that long contains a whole aligned window of ``limit // 2`` bytes, so only those
    windows are searched, each search stopping at its first comma or line end: on a file
    without such a run this costs ``2 * size / limit`` short searches. A run is replaced by a
    quote if it holds an odd number of them (the quoting state after it is unchanged), else by
    nothing; its row is then left out (:func:`_leave_out_cut_rows`).

    Returns
    -------
    tuple
        The bytes left, and ``(row, column, length)`` of each run (row 1 is the header; the
        column is counted by commas, quoted commas included).
    """
    window = max(limit // 2, 1)
    runs: list[tuple[int, int]] = []
    at = 0
    while at + window <= len(data):
        end = at + window
        if any(data.find(sep, at, end) >= 0 for sep in _SEPARATORS):  # stops at the first
            at = end
            continue
        # the window before held a separator (or this is the first), so the run starts there
        start = _separator(data, max(at - window, 0), at, last=True) + 1
        stop = _separator(data, end, start + limit + 1)  # is the run longer than the limit?
        if stop < 0:
            stop = _next_separator(data, start + limit + 1)
            if stop - start > limit:  # not when the data ended first
                runs.append((start, stop))
        at = stop
    if not runs:
        return data, []
    pieces: list[bytes] = []
    found: list[tuple[int, int, int]] = []
    previous = 0
    row = 1
    for start, stop in runs:
        line = data.rfind(b"\n", 0, start) + 1
        row += data.count(b"\n", previous, start)
        found.append((row, data.count(b",", line, start), stop - start))
        pieces.append(data[previous:start])
        odd = data.find(b'"', start, stop) >= 0 and data.count(b'"', start, stop) % 2  # find: fast
        pieces.append(b'"' if odd else b"")
        previous = stop
    pieces.append(data[previous:])
    return b"".join(pieces), found


def _separator(data: bytes, lo: int, hi: int, *, last: bool = False) -> int:
    """First (or last) comma, line feed or carriage return in ``data[lo:hi]``, or -1."""
    best = -1
    for sep in _SEPARATORS:  # each search only where it could beat the best so far
        if last:
            found = data.rfind(sep, max(lo, best + 1), hi)
        else:
            found = data.find(sep, lo, hi if best < 0 else best)
        best = found if found >= 0 else best
    return best


def _next_separator(data: bytes, lo: int) -> int:
    """First separator from ``lo`` on, or the end of ``data``, searched in doubling spans (a
    separator absent for long is never looked for past the one found)."""
    span = 1 << 16
    while lo < len(data):
        hi = min(lo + span, len(data))
        found = _separator(data, lo, hi)
        if found >= 0:
            return found
        lo, span = hi, span * 2
    return len(data)


def _leave_out_cut_rows(
    file: str,
    names: list[str],
    table: pa.Table,
    rows: np.ndarray,
    cut: list[tuple[int, int, int]],
    notices: Notices,
    limit: int,
) -> tuple[pa.Table, np.ndarray]:
    """Drop the rows whose over-long values :func:`_cut_long_runs` took out, with a notice."""
    for row, column, length in cut:
        name = short(names[column]) if column < len(names) else None
        message = _over_limit_message(file, name or f"value {column + 1}", limit)
        notices.add("field_over_limit", Severity.ERROR, file, row, name, message(row, str(length)))
    keep = ~np.isin(rows, np.array([row for row, _, _ in cut], dtype=np.int32))
    return table.filter(pa.array(keep)), rows[keep]


def _parse_small(
    file: str, data: bytes, names: list[str], notices: Notices
) -> tuple[pa.Table, np.ndarray] | None:
    """Parse a small file with the csv module (no thread hand-offs); None to use pyarrow."""
    try:
        text = data.decode("utf-8")
        recoded = False
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        recoded = True
    width = len(names)
    columns: list[list[str]] = [[] for _ in names]
    numbers: list[int] = []
    found: list[Notice] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        next(reader, None)  # the header, parsed by the caller
        for number, record in enumerate(reader, start=2):
            if not record:
                continue  # blank line
            if len(record) != width:
                message = (
                    f"{file} row {number}: {len(record)} values for the header's {width} columns; "
                )
                if len(record) > width:
                    found.append(
                        Notice(
                            "invalid_row_length",
                            Severity.ERROR,
                            file,
                            number,
                            None,
                            f"{file} row {number}: the number of values differs from the "
                            f"header's {width} columns; the row was ignored "
                            f"({short(','.join(record))!r}).",
                        )
                    )
                    continue
                found.append(
                    Notice(
                        "invalid_row_length",
                        Severity.ERROR,
                        file,
                        number,
                        None,
                        message + "the missing trailing values were read as empty "
                        f"({short(','.join(record))!r}).",
                    )
                )
                record = record + [""] * (width - len(record))
            for column, value in zip(columns, record, strict=True):
                column.append(value)
            numbers.append(number)
    except csv.Error:
        return None
    if recoded:
        notices.add(
            "non_utf8_encoding",
            Severity.WARNING,
            file,
            None,
            None,
            f"{file} is not UTF-8; it was decoded as Windows-1252 (cp1252).",
        )
    notices.extend(found)
    table = pa.table(
        {name: pa.array(col, pa.string()) for name, col in zip(names, columns, strict=True)}
    )
    return table, np.array(numbers, dtype=np.int32)


def _parse(
    file: str, data: bytes, names: list[str], notices: Notices
) -> tuple[pa.Table, np.ndarray]:
    """Parse the CSV body with pyarrow, handling bad rows, encodings and huge values."""
    bad_rows: list[tuple[int | None, str, int]] = []
    padded: list[tuple[int, str, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append((row.number, row.text, row.actual_columns))
        return "skip"

    encoding_fixed = False
    use_threads = len(data) > 1 << 20  # threads only pay off on big files
    block_size: int | None = None
    newlines = False
    for _attempt in range(6):
        bad_rows.clear()
        read_options = pacsv.ReadOptions(
            column_names=names,
            skip_rows=1,
            use_threads=use_threads,
            block_size=block_size if block_size else 1 << 22,
        )
        parse_options = pacsv.ParseOptions(
            invalid_row_handler=on_invalid, newlines_in_values=newlines
        )
        convert_options = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        try:
            table = pacsv.read_csv(
                pa.BufferReader(data),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        except pa.ArrowInvalid as exc:
            text = str(exc).lower()
            if "utf8" in text or "utf-8" in text:
                if encoding_fixed:
                    raise GtfsError(f"{file} cannot be decoded as UTF-8 nor cp1252") from None
                data = data.decode("cp1252", errors="replace").encode("utf-8")
                encoding_fixed = True
                notices.add(
                    "non_utf8_encoding",
                    Severity.WARNING,
                    file,
                    None,
                    None,
                    f"{file} is not UTF-8; it was decoded as Windows-1252 (cp1252).",
                )
                continue
            if "straddl" in text or "block" in text:
                block_size = len(data) + 1
                if "straddl" in text:
                    newlines = True
                continue
            if not newlines:
                newlines = True
                continue
            notices.add(
                "csv_parsing_failed",
                Severity.ERROR,
                file,
                None,
                None,
                f"{file} could not be parsed as CSV ({short(exc)}); it was ignored.",
            )
            return pa.table({n: pa.array([], pa.string()) for n in names}), np.zeros(0, np.int32)
        if bad_rows and use_threads and any(n is None for n, _, _ in bad_rows):
            use_threads = False  # re-read to learn the row numbers of the bad rows
            continue
        short_rows = [b for b in bad_rows if b[0] is not None and b[2] < len(names)]
        if short_rows and not padded:
            # rows with too few values: pad them with empty trailing fields (as most readers
            # do) and read again; rows with too many values stay out
            data, padded = _pad_short_rows(data, short_rows, len(names))
            if padded:
                continue
        break
    else:  # pragma: no cover - every path above ends with break, continue bounded, or return
        raise GtfsError(f"{file} could not be parsed as CSV")

    table = table.combine_chunks() if table.num_columns else table
    row_numbers = np.arange(2, table.num_rows + 2, dtype=np.int32)
    for number, text, actual in padded:
        notices.add(
            "invalid_row_length",
            Severity.ERROR,
            file,
            number,
            None,
            f"{file} row {number}: {actual} values for the header's {len(names)} columns; "
            f"the missing trailing values were read as empty ({short(text)!r}).",
        )
    if bad_rows:
        skipped = np.array(sorted(n for n, _, _ in bad_rows if n is not None), dtype=np.int32)
        if len(skipped):
            # shift row numbers past every skipped row: the k-th kept row is the k-th number
            # in 2.. that is not skipped
            candidates = np.arange(2, table.num_rows + len(skipped) + 2, dtype=np.int32)
            candidates = candidates[~np.isin(candidates, skipped)]
            row_numbers = candidates[: table.num_rows]
        for bad_number, text, _ in bad_rows:
            notices.add(
                "invalid_row_length",
                Severity.ERROR,
                file,
                bad_number,
                None,
                f"{file} row {bad_number}: the number of values differs from the header's "
                f"{len(names)} columns; the row was ignored ({short(text)!r}).",
            )
    return table, row_numbers


def _pad_short_rows(
    data: bytes, short_rows: list[tuple[int | None, str, int]], n_columns: int
) -> tuple[bytes, list[tuple[int, str, int]]]:
    """Append empty fields to rows with too few values (located by line number and text)."""
    lines = data.split(b"\n")
    done: list[tuple[int, str, int]] = []
    for number, text, actual in short_rows:
        if number is None or not 1 <= number <= len(lines):
            continue
        line = lines[number - 1]
        body = line[:-1] if line.endswith(b"\r") else line
        if body.decode("utf-8", errors="replace").strip() != text.strip():
            continue  # a quoted value spans lines: leave the row out
        lines[number - 1] = body + b"," * (n_columns - actual) + line[len(body) :]
        done.append((number, text, actual))
    return b"\n".join(lines), done


def _check_long_values(
    file: str,
    table: pa.Table,
    row_numbers: np.ndarray,
    notices: Notices,
    size: int,
    max_field_bytes: int,
) -> tuple[pa.Table, np.ndarray]:
    """Flag values longer than :data:`FIELD_TOO_LONG` bytes (kept) and leave out the rows
    holding a value longer than ``max_field_bytes``; the table and row numbers kept.

    ``size`` is the file's: no value is longer than its file (and Arrow's ``Table.nbytes``,
    the other bound at hand, costs 5 ms at its first use in a process).
    """
    if table.num_rows == 0 or size <= min(FIELD_TOO_LONG, max_field_bytes):
        return table, row_numbers
    over = np.zeros(table.num_rows, dtype=bool)
    for name in table.column_names:
        lengths = pc.binary_length(table.column(name))
        longest = pc.max(lengths).as_py()
        if longest is None or longest <= min(FIELD_TOO_LONG, max_field_bytes):
            continue
        length = np.asarray(lengths.to_numpy(zero_copy_only=False), dtype=np.int64)
        too_long = (length > FIELD_TOO_LONG) & (length <= max_field_bytes) & ~over
        notices.add_rows(
            "field_too_long",
            Severity.WARNING,
            file,
            row_numbers[too_long],
            name,
            _too_long_message(file, name),
        )
        out = (length > max_field_bytes) & ~over
        notices.add_rows(
            "field_over_limit",
            Severity.ERROR,
            file,
            row_numbers[out],
            name,
            _over_limit_message(file, short(name), max_field_bytes),
            length[out].tolist(),
        )
        over |= out
    if not over.any():
        return table, row_numbers
    return table.filter(pa.array(~over)), row_numbers[~over]


def _over_limit_message(file: str, name: str, limit: int) -> Callable[[int, str], str]:
    """Message builder for ``field_over_limit`` notices of one column (the value: a length)."""

    def message(row: int, length: str) -> str:
        return (
            f"{file} row {row}: {name} is {int(length):,} bytes long, over the limit of "
            f"{limit:,} (ReadLimits.max_field_bytes); the row was ignored."
        )

    return message


def _too_long_message(file: str, name: str) -> Callable[[int, str], str]:
    """Message builder for ``field_too_long`` notices of one column."""

    def message(row: int, _value: str) -> str:
        return f"{file} row {row}: {name} is longer than {FIELD_TOO_LONG} characters."

    return message


def string_array(table: pa.Table, name: str) -> pa.Array | None:
    """One column as a single (non-chunked) string array, or None when absent."""
    if name not in table.column_names:
        return None
    column = table.column(name)
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            return column.chunk(0)
        return column.combine_chunks()
    return column
