"""One compiled pass over a big CSV file: split the fields, parse the typed columns, copy the rest.

The pass takes only *regular* files: every row has the header's number of fields, lines end
with LF or CRLF, no blank line inside, and a quoted field holds neither a quote nor a line end.
Anything else returns None and the file goes to the general reader (pyarrow, with its notices
on bad rows). Typed columns hold the values a plain parser reads exactly: integers of at most
nine digits, times ``H:MM:SS`` / ``HH:MM:SS``, decimals ``-?D+(.D+)?`` of at most 17 digits.
A typed column with any other value (spaces, signs, exponents, garbage) is copied as text
instead, so the general validation sees it exactly as written; a typed column that parsed
cleanly keeps no text, and its text is read again on demand (rare: a notice quoting one of its
values). Typed values never hold the file's bytes: on stop_times.txt this is what keeps the
reader's peak near the size of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numba import njit

TEXT, INT, TIME, REAL = 1, 2, 3, 4
"""Column kinds; 0 skips a column (used to re-read one column's text)."""
KINDS = {"text": TEXT, "int": INT, "time": TIME, "real": REAL}
MISSING = -1
"""Integer and time value of an empty field (decimals: NaN)."""
_ODD = -2
_MAX_INT_DIGITS = 9  # below 2**31: a value needs no check before it lands in int32
_MAX_REAL_DIGITS = 17
_COMMA, _QUOTE, _LF, _CR, _DOT, _COLON, _MINUS = 44, 34, 10, 13, 46, 58, 45
_SPLIT_BYTES = 1 << 20
"""Bodies from this size on are read in two halves, one per thread."""
_POW10 = np.array([10.0**k for k in range(23)])  # exact doubles: m / 10**k rounds correctly


@njit(cache=True, nogil=True)
def _field_end(data: np.ndarray, pos: int, n: int) -> int:
    """End of an unquoted field starting at ``pos`` (-1 on a quote inside it)."""
    while pos < n:
        b = data[pos]
        if b in (_COMMA, _LF, _CR):
            return pos
        if b == _QUOTE:
            return -1
        pos += 1
    return pos


@njit(cache=True, nogil=True)
def _parse_int(data: np.ndarray, lo: int, hi: int) -> int:
    if hi == lo:
        return MISSING
    if hi - lo > _MAX_INT_DIGITS:
        return _ODD
    value = 0
    for i in range(lo, hi):
        d = data[i] - 48
        if d < 0 or d > 9:
            return _ODD
        value = value * 10 + d
    return value


@njit(cache=True, nogil=True)
def _parse_time(data: np.ndarray, lo: int, hi: int) -> int:
    length = hi - lo
    if length == 0:
        return MISSING
    if length != 7 and length != 8:
        return _ODD
    hours = 0
    for i in range(lo, hi - 6):
        d = data[i] - 48
        if d < 0 or d > 9:
            return _ODD
        hours = hours * 10 + d
    if data[hi - 6] != _COLON or data[hi - 3] != _COLON:
        return _ODD
    m1, m2, s1, s2 = data[hi - 5] - 48, data[hi - 4] - 48, data[hi - 2] - 48, data[hi - 1] - 48
    if max(m1, m2, s1, s2) > 9 or min(m1, m2, s1, s2) < 0:
        return _ODD
    minutes = m1 * 10 + m2
    seconds = s1 * 10 + s2
    if minutes >= 60 or seconds >= 60:
        return _ODD
    return hours * 3600 + minutes * 60 + seconds


@njit(cache=True, nogil=True)
def _parse_real(data: np.ndarray, lo: int, hi: int, pow10: np.ndarray) -> float:
    """Value of ``-?D+(.D+)?`` (NaN when empty, inf when odd)."""
    if hi == lo:
        return np.nan
    negative = data[lo] == _MINUS
    i = lo + 1 if negative else lo
    mantissa = 0
    digits = 0
    decimals = -1  # digits after the point; -1 before it
    while i < hi:
        b = data[i]
        if b == _DOT:
            if decimals >= 0 or digits == 0:
                return np.inf
            decimals = 0
        else:
            d = b - 48
            if d < 0 or d > 9:
                return np.inf
            mantissa = mantissa * 10 + d
            digits += 1
            if decimals >= 0:
                decimals += 1
        i += 1
    if digits == 0 or decimals == 0 or digits > _MAX_REAL_DIGITS or mantissa > 1 << 53:
        return np.inf
    value = float(mantissa) / pow10[max(decimals, 0)]
    return -value if negative else value


@njit(cache=True, nogil=True)
def _scan(
    data: np.ndarray,
    start: int,
    n: int,
    row: int,
    text_at: int,
    longest: np.ndarray,
    kinds: np.ndarray,
    slots: np.ndarray,
    whole: np.ndarray,
    reals: np.ndarray,
    offsets: np.ndarray,
    text: np.ndarray,
    pow10: np.ndarray,
) -> int:
    """Fill the outputs from rows ``data[start:n]``; the number of rows, or -1 if irregular.

    Rows are numbered from ``row`` and their text is written from ``text_at`` on; ``longest[0]``
    gets the length of the longest field. Column ``c`` of
    kind INT or TIME goes to ``whole[slots[c]]`` (int32; -1 empty, -2 odd), REAL to
    ``reals[slots[c]]`` (NaN empty, inf odd), TEXT to ``text[slots[c]]`` with Arrow offsets
    ``offsets[slots[c]]``. Blank lines may only end the file.
    """
    n_columns = len(kinds)
    filled = np.full(text.shape[0], text_at, np.int64)
    pos = start
    first = row
    widest = 0
    while pos < n:
        b = data[pos]
        if b in (_LF, _CR):  # blank lines: allowed only at the end of the file
            while pos < n and (data[pos] == _LF or data[pos] == _CR):
                pos += 1
            if pos < n or n < len(data):
                return -1
            break
        for c in range(n_columns):
            if pos < n and data[pos] == _QUOTE:
                lo = pos + 1
                hi = lo
                while hi < n and data[hi] != _QUOTE:
                    if data[hi] == _LF or data[hi] == _CR:
                        return -1
                    hi += 1
                if hi >= n:
                    return -1
                pos = hi + 1
                if pos < n and data[pos] != _COMMA and data[pos] != _LF and data[pos] != _CR:
                    return -1  # an escaped quote, or text after the closing quote
            else:
                lo = pos
                hi = _field_end(data, pos, n)
                if hi < 0:
                    return -1
                pos = hi
            if c < n_columns - 1:
                if pos >= n or data[pos] != _COMMA:
                    return -1  # too few fields
                pos += 1
            elif pos < n:
                if data[pos] == _LF:
                    pos += 1
                elif data[pos] == _CR and pos + 1 < n and data[pos + 1] == _LF:
                    pos += 2
                else:
                    return -1  # too many fields, or a lone carriage return
            widest = max(widest, hi - lo)
            kind = kinds[c]
            slot = slots[c]
            if kind == TEXT:
                at = filled[slot]
                for i in range(lo, hi):
                    text[slot, at] = data[i]
                    at += 1
                filled[slot] = at
                offsets[slot, row + 1] = at
            elif kind == INT:
                whole[slot, row] = _parse_int(data, lo, hi)
            elif kind == TIME:
                whole[slot, row] = _parse_time(data, lo, hi)
            elif kind == REAL:
                reals[slot, row] = _parse_real(data, lo, hi, pow10)
        row += 1
    longest[0] = widest
    return row - first


@dataclass
class Scanned:
    """A regular CSV file after the pass: text columns and cleanly parsed typed columns."""

    text: dict[str, pa.Array]
    typed: dict[str, np.ndarray]
    """int32 (-1 when empty) or float64 (NaN when empty) values per typed column."""
    n_rows: int


def scan_csv(
    data: bytes,
    start: int,
    names: list[str],
    types: Mapping[str, str],
    max_field_bytes: int | None = None,
) -> Scanned | None:
    """Read a CSV body in one pass, or None when the file is not regular or has a value
    longer than ``max_field_bytes`` (the general reader leaves its row out).

    Parameters
    ----------
    data
        The file's bytes (UTF-8, BOM removed).
    start
        Offset of the first row after the header.
    names
        Column names, in file order.
    types
        ``{name: "int" | "time" | "real"}``; other columns are text.
    max_field_bytes
        Longest value the pass accepts (None: any).

    Returns
    -------
    Scanned or None
        The columns; a typed column with a value the pass does not parse comes as text.
    """
    kinds = np.array([KINDS[types.get(name, "text")] for name in names], dtype=np.int8)
    scanned = _run(data, start, kinds)
    if scanned is None:
        return None
    n_rows, columns, longest = scanned
    if max_field_bytes is not None and longest > max_field_bytes:
        return None
    text: dict[str, pa.Array] = {}
    typed: dict[str, np.ndarray] = {}
    odd: list[int] = []
    for c, (name, kind, column) in enumerate(zip(names, kinds, columns, strict=True)):
        if kind == TEXT:
            text[name] = column
        elif bool((np.isinf(column) if kind == REAL else column == _ODD).any()):
            odd.append(c)
        else:
            typed[name] = column
    if odd:  # read those columns again, as text
        again = np.zeros(len(names), dtype=np.int8)
        again[odd] = TEXT
        rescanned = _run(data, start, again)
        assert rescanned is not None  # the same bytes were regular a moment ago
        for c in odd:
            text[names[c]] = rescanned[1][c]
    if not data.isascii():
        try:
            for array in text.values():
                array.validate(full=True)  # Arrow strings must be UTF-8
        except pa.ArrowInvalid:
            return None
    return Scanned({name: text[name] for name in names if name in text}, typed, n_rows)


def rescan_text(data: bytes, start: int, n_columns: int, column: int) -> pa.Array:
    """Text of one column of a file that :func:`scan_csv` read (for a notice quoting values)."""
    kinds = np.zeros(n_columns, dtype=np.int8)
    kinds[column] = TEXT
    scanned = _run(data, start, kinds)
    assert scanned is not None
    return scanned[1][column]


def _run(data: bytes, start: int, kinds: np.ndarray) -> tuple[int, list[Any], int] | None:
    """Call the kernel with outputs sized for the file: the rows, each column's output
    (int32 or float64 values, an Arrow string array, or None for a skipped column), and the
    length of the longest field.

    A big file is read in two halves on two threads, split at a line end: a regular file's
    line ends all end rows, and a half that starts or ends inside a quoted value is irregular.
    The second half writes its text after the room the first half could need, then moves it
    down against the first half's.
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    middle = data.find(b"\n", (start + len(data)) // 2) + 1
    halves = len(data) - start >= _SPLIT_BYTES and middle > 0
    first_rows = data.count(b"\n", start, middle) if halves else 0
    capacity = first_rows + data.count(b"\n", middle if halves else start) + 1
    slots = np.zeros(len(kinds), dtype=np.int64)
    counts = {kind: 0 for kind in (TEXT, INT, REAL)}
    for c, kind in enumerate(kinds.tolist()):
        group = INT if kind == TIME else kind
        if group:
            slots[c] = counts[group]
            counts[group] += 1
    whole = np.empty((counts[INT], capacity), dtype=np.int32)
    reals = np.empty((counts[REAL], capacity), dtype=np.float64)
    offsets = np.zeros((counts[TEXT], capacity + 1), dtype=np.int32)
    # one row of the size of the body per text column: only the pages written are ever mapped
    text = np.empty((counts[TEXT], len(data) - start), dtype=np.uint8)
    outputs = (kinds, slots, whole, reals, offsets, text, _POW10)
    longest = np.zeros(2, dtype=np.int64)  # one per half
    if not halves:
        n_rows = _scan(buffer, start, len(data), 0, 0, longest[:1], *outputs)
    else:
        with ThreadPoolExecutor(1) as pool:
            second = pool.submit(
                _scan, buffer, middle, len(data), first_rows, middle - start, longest[1:], *outputs
            )
            first = _scan(buffer, start, middle, 0, 0, longest[:1], *outputs)
            rest = second.result()
        if first != first_rows or rest < 0:
            return None
        n_rows = first_rows + rest
        base = middle - start  # where the second half's text begins
        for slot in range(counts[TEXT] if rest else 0):  # close the gap between the halves
            end, gap = int(offsets[slot, n_rows]), base - int(offsets[slot, first_rows])
            _move_down(text[slot], base, end, gap)
            offsets[slot, first_rows + 1 : n_rows + 1] -= gap
    if n_rows < 0:
        return None
    columns: list[Any] = []
    for c, kind in enumerate(kinds.tolist()):
        slot = int(slots[c])
        if kind in (INT, TIME):
            columns.append(whole[slot, :n_rows])
        elif kind == REAL:
            columns.append(reals[slot, :n_rows])
        elif kind == TEXT:
            ends = offsets[slot, : n_rows + 1]
            body = text[slot, : int(ends[-1])]
            columns.append(
                pa.Array.from_buffers(
                    pa.string(), n_rows, [None, pa.py_buffer(ends), pa.py_buffer(body)]
                )
            )
        else:
            columns.append(None)
    return n_rows, columns, int(longest.max())


def _move_down(row: np.ndarray, begin: int, end: int, gap: int) -> None:
    """Move ``row[begin:end]`` to ``begin - gap``, in pieces that do not overlap (so numpy
    copies without a temporary) unless the gap is small.
    """
    if gap <= 0:
        return
    if gap < (end - begin) // 8:
        row[begin - gap : end - gap] = row[begin:end]
        return
    for lo in range(begin, end, gap):
        hi = min(lo + gap, end)
        row[lo - gap : hi - gap] = row[lo:hi]
