"""Low-level GTFS reading: the zip or folder, CSV files as Arrow string columns, notices.

No Python loop touches every row of a big file: a regular file with typed columns goes through
one compiled pass (``_scan``), the others through pyarrow's CSV reader, small files through the
csv module.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from isal import isal_zlib

from arverne.errors import GtfsError
from arverne.feeds._scan import rescan_text, scan_csv
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
SMALL_FILE_BYTES = 16_384
"""Files up to this size are parsed with the csv module: pyarrow's thread hand-offs cost more."""


class Source:
    """The files of a feed, from a zip archive or a folder, read as bytes on demand.

    Parameters
    ----------
    path
        A ``.zip`` file or a directory.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        self._pending: dict[str, Future[bytes]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self.subfolder: str | None = None
        if not path.exists():
            raise GtfsError(f"{path}: no such file or directory")
        if path.is_dir():
            self._members = {p.name: p.name for p in path.iterdir() if p.is_file()}
        else:
            try:
                self._zip = zipfile.ZipFile(path)
                infos = [i for i in self._zip.infolist() if not i.is_dir()]
            except _ZIP_ERRORS as exc:
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
            When the archive member is corrupt or truncated.
        """
        pending = self._pending.pop(name, None)
        return self._read(name) if pending is None else pending.result()

    def _read(self, name: str) -> bytes:
        member = self._members[name]
        if self._zip is None:
            return (self.path / member).read_bytes()
        try:
            info = self._zip.getinfo(member)
            if (
                info.compress_type == zipfile.ZIP_DEFLATED
                and not info.flag_bits & _ZIP_FLAGS_FOR_ZIPFILE
            ):
                return self._inflate(info)
            return self._zip.read(member)
        except _ZIP_ERRORS as exc:
            raise GtfsError(f"{self.path}: {name} is corrupt in the zip archive ({exc})") from None

    def _inflate(self, info: zipfile.ZipInfo) -> bytes:
        """A deflated member, inflated by ISA-L: about twice zlib's speed on big stop_times."""
        with self.path.open("rb") as handle:
            handle.seek(info.header_offset)
            header = handle.read(30)
            if len(header) < 30 or header[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile("bad local file header")
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            handle.seek(info.header_offset + 30 + name_len + extra_len)
            deflated = handle.read(info.compress_size)
        if len(deflated) < info.compress_size:
            raise EOFError("the archive is truncated")
        # an output buffer of the announced size: no regrowth, so no second copy at the peak
        data = isal_zlib.decompress(deflated, -15, max(1, info.file_size))
        if len(data) != info.file_size or isal_zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile("size or CRC-32 does not match the archive's directory")
        return data

    def close(self) -> None:
        """Stop the background reads and close the archive, if any."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._zip is not None:
            self._zip.close()


class Notices:
    """A list of notices with helpers to add many at once from boolean masks."""

    def __init__(self) -> None:
        self.items: list[Notice] = []

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
        self.items.append(Notice(code, severity, file, row, field, message))

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
        """Append one notice per row.

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
        vals: Iterable[object] = values if values is not None else [""] * len(rows)
        for row, value in zip(rows.tolist(), vals, strict=True):
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

    if len(data) <= SMALL_FILE_BYTES:
        small = _parse_small(file, data, names, notices)
        if small is not None:
            return CsvTable(names, *small)
    elif types and b"\r" not in data[: header_length - 2]:  # the header is one line
        scanned = scan_csv(data, header_length, names, types)
        if scanned is not None:
            rows = np.arange(2, scanned.n_rows + 2, dtype=np.int32)
            text = pa.table(scanned.text)
            _check_long_values(file, text, rows, notices, len(data))
            # where the rows start in the bytes that ``read`` gives
            read, offset = (lambda: data, 0) if reread is None else (reread, trimmed)
            return CsvTable(names, text, rows, scanned.typed, (read, offset + header_length))
    return CsvTable(names, *_parse(file, data, names, notices))


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
    notices.items.extend(found)
    table = pa.table(
        {name: pa.array(col, pa.string()) for name, col in zip(names, columns, strict=True)}
    )
    row_numbers = np.array(numbers, dtype=np.int32)
    _check_long_values(file, table, row_numbers, notices, len(data))
    return table, row_numbers


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
    _check_long_values(file, table, row_numbers, notices, len(data))
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
    file: str, table: pa.Table, row_numbers: np.ndarray, notices: Notices, size: int
) -> None:
    """Flag (but keep) values longer than :data:`FIELD_TOO_LONG` characters.

    ``size`` is the file's: no value is longer than its file (and Arrow's ``Table.nbytes``,
    the other bound at hand, costs 5 ms at its first use in a process).
    """
    if table.num_rows == 0 or size <= FIELD_TOO_LONG:
        return
    for name in table.column_names:
        column = table.column(name)
        lengths = pc.binary_length(column)
        longest = pc.max(lengths).as_py()
        if longest is None or longest <= FIELD_TOO_LONG:
            continue
        mask = np.asarray(pc.greater(lengths, FIELD_TOO_LONG).to_numpy(zero_copy_only=False))
        rows = row_numbers[mask]
        notices.add_rows(
            "field_too_long",
            Severity.WARNING,
            file,
            rows,
            name,
            _too_long_message(file, name),
        )


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
