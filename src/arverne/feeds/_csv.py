"""Low-level GTFS reading: CSV files as Arrow string columns (the files come from ``_source``).

No Python loop touches every row of a big file: a regular file with typed columns goes through
one compiled pass (``_scan``), the others through pyarrow's CSV reader, small files through the
csv module.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from arverne.errors import GtfsError
from arverne.feeds._fields import check_long_values, cut_long_runs, leave_out_cut_rows
from arverne.feeds._scan import rescan_text, scan_csv
from arverne.feeds.limits import ReadLimits
from arverne.feeds.notices import Notice, Notices, Severity, short

SMALL_FILE_BYTES = 16_384
"""Files up to this size are parsed with the csv module: pyarrow's thread hand-offs cost more."""


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
        notice (values over ``_fields.FIELD_TOO_LONG`` bytes are kept with ``field_too_long``).

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
        data, cut = cut_long_runs(data, max_field_bytes)
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
            check_long_values(file, text, rows, notices, len(data), max_field_bytes)
            # where the rows start in the bytes that ``read`` gives
            read, offset = (lambda: data, 0) if reread is None else (reread, trimmed)
            return CsvTable(names, text, rows, scanned.typed, (read, offset + header_length))
    table, rows = parsed if parsed is not None else _parse(file, data, names, notices)
    if cut:
        table, rows = leave_out_cut_rows(file, names, table, rows, cut, notices, max_field_bytes)
    return CsvTable(
        names, *check_long_values(file, table, rows, notices, len(data), max_field_bytes)
    )


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
