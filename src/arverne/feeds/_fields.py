"""Field lengths: values over ``ReadLimits.max_field_bytes`` found, before a parser copies
them when they can be, and their rows left out with a ``field_over_limit`` notice; values over
:data:`FIELD_TOO_LONG` kept with a ``field_too_long`` warning.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arverne.feeds.notices import Notices, Severity, short

FIELD_TOO_LONG = 4096
"""Values longer than this many characters get a ``field_too_long`` notice (they are kept)."""
_SEPARATORS = (b",", b"\n", b"\r")
"""Bytes that end an unquoted CSV value."""


def cut_long_runs(data: bytes, limit: int) -> tuple[bytes, list[tuple[int, int, int]]]:
    """Take out of ``data`` every run of more than ``limit`` bytes holding no comma and no line
    end (so inside one field), before a parser copies it.

    A run that long contains a whole aligned window of ``limit // 2`` bytes, so only those
    windows are searched, each search stopping at its first comma or line end: on a file
    without such a run this costs ``2 * size / limit`` short searches. A run is replaced by a
    quote if it holds an odd number of them (the quoting state after it is unchanged), else by
    nothing; its row is then left out (:func:`leave_out_cut_rows`).

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
    separator absent for long is never looked for past the one found).
    """
    span = 1 << 16
    while lo < len(data):
        hi = min(lo + span, len(data))
        found = _separator(data, lo, hi)
        if found >= 0:
            return found
        lo, span = hi, span * 2
    return len(data)


def leave_out_cut_rows(
    file: str,
    names: list[str],
    table: pa.Table,
    rows: np.ndarray,
    cut: list[tuple[int, int, int]],
    notices: Notices,
    limit: int,
) -> tuple[pa.Table, np.ndarray]:
    """Drop the rows whose over-long values :func:`cut_long_runs` took out, with a notice."""
    for row, column, length in cut:
        name = short(names[column]) if column < len(names) else None
        message = _over_limit_message(file, name or f"value {column + 1}", limit)
        notices.add("field_over_limit", Severity.ERROR, file, row, name, message(row, str(length)))
    keep = ~np.isin(rows, np.array([row for row, _, _ in cut], dtype=np.int32))
    return table.filter(pa.array(keep)), rows[keep]


def check_long_values(
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
