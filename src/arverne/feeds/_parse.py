"""Vectorised parsers for GTFS field types over Arrow string arrays.

Each parser returns numpy values plus boolean masks ``missing`` (empty field) and ``invalid``
(present but not of the type); callers turn masks into notices.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_INT_RE = r"^\s*[+-]?\d{1,12}\s*$"
_FLOAT_RE = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_DATE_RE = r"^\s*\d{8}\s*$"


def _np_bool(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Arrow boolean array (nulls as False) as a numpy bool array."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def missing_mask(array: pa.Array) -> np.ndarray:
    """True where the field is empty or only spaces."""
    lengths = pc.binary_length(array).to_numpy(zero_copy_only=False)
    missing = lengths == 0
    # whitespace-only values count as missing; only look at short values for speed
    short = (lengths > 0) & (lengths <= 4)
    if short.any():
        blank = _np_bool(pc.utf8_is_space(array))
        missing |= short & blank
    return np.asarray(missing, dtype=bool)


def parse_int(array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse integers.

    Parameters
    ----------
    array
        Arrow string array.

    Returns
    -------
    tuple of numpy.ndarray
        ``(values int64 (0 where missing/invalid), missing, invalid)``.
    """
    missing = missing_mask(array)
    try:  # fast path: every present value is a plain integer
        filled = pc.if_else(pa.array(missing), "0", array) if missing.any() else array
        values = pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False)
        return np.array(values, dtype=np.int64), missing, np.zeros(len(array), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    valid = _np_bool(pc.match_substring_regex(array, _INT_RE))
    invalid = ~valid & ~missing
    if valid.all():
        values = pc.cast(pc.utf8_trim_whitespace(array), pa.int64()).to_numpy()
    else:
        cleaned = pc.if_else(pa.array(valid), pc.utf8_trim_whitespace(array), "0")
        values = pc.cast(cleaned, pa.int64()).to_numpy()
    return np.array(values, dtype=np.int64), missing, invalid


def parse_float(array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse decimal numbers.

    Parameters
    ----------
    array
        Arrow string array.

    Returns
    -------
    tuple of numpy.ndarray
        ``(values float64 (NaN where missing/invalid), missing, invalid)``.
    """
    missing = missing_mask(array)
    try:  # fast path: every present value is a plain finite number
        filled = pc.if_else(pa.array(missing), "0", array) if missing.any() else array
        fast = np.array(pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False))
        if np.isfinite(fast).all():
            fast[missing] = np.nan
            return fast, missing, np.zeros(len(array), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    valid = _np_bool(pc.match_substring_regex(array, _FLOAT_RE))
    invalid = ~valid & ~missing
    cleaned = pc.if_else(pa.array(valid), pc.utf8_trim_whitespace(array), pa.scalar(None, pa.string()))
    values = pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False)
    values = np.array(values, dtype=np.float64)
    values[~valid] = np.nan
    return values, missing, invalid


def parse_time(array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse GTFS times ``H:MM:SS`` / ``HH:MM:SS`` (hours may exceed 23).

    Parameters
    ----------
    array
        Arrow string array.

    Returns
    -------
    tuple of numpy.ndarray
        ``(seconds int64 (-1 where missing/invalid), missing, invalid)``.
    """
    n = len(array)
    missing = missing_mask(array)
    if n == 0:
        return np.zeros(0, np.int64), missing, np.zeros(0, bool)
    seconds, ok = _time_bytes(array)
    bad = ~ok & ~missing
    if bad.any():
        # second chance for values with spaces around them
        trimmed = pc.utf8_trim_whitespace(array.filter(pa.array(bad)))
        sec2, ok2 = _time_bytes(trimmed)
        idx = np.flatnonzero(bad)
        seconds[idx[ok2]] = sec2[ok2]
        ok[idx[ok2]] = True
    invalid = ~ok & ~missing
    seconds[~ok] = -1
    return seconds, missing, invalid


def _time_bytes(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and validity of time strings, from their bytes (no Python loop over rows)."""
    n = len(array)
    lengths = pc.binary_length(array).to_numpy(zero_copy_only=False)
    fits = (lengths >= 7) & (lengths <= 9)
    padded = pc.utf8_lpad(array, width=9, padding="0")
    fixed = pc.if_else(pa.array(fits), padded, "000000000")
    if isinstance(fixed, pa.ChunkedArray):
        fixed = fixed.combine_chunks()
    offsets = np.frombuffer(fixed.buffers()[1], dtype=np.int32, count=n + 1, offset=fixed.offset * 4)
    data = np.frombuffer(fixed.buffers()[2], dtype=np.uint8)
    start = int(offsets[0])
    mat = data[start : start + 9 * n].reshape(n, 9).astype(np.int16) - 48
    digit_cols = mat[:, [0, 1, 2, 4, 5, 7, 8]]
    ok = fits & np.all((digit_cols >= 0) & (digit_cols <= 9), axis=1)
    ok &= (mat[:, 3] == ord(":") - 48) & (mat[:, 6] == ord(":") - 48)
    hours = mat[:, 0] * 100 + mat[:, 1] * 10 + mat[:, 2]
    minutes = mat[:, 4] * 10 + mat[:, 5]
    secs = mat[:, 7] * 10 + mat[:, 8]
    ok &= (minutes < 60) & (secs < 60)
    total = hours.astype(np.int64) * 3600 + minutes * 60 + secs
    return np.where(ok, total, -1).astype(np.int64), np.asarray(ok, dtype=bool)


def parse_date(array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse GTFS dates ``YYYYMMDD``.

    Parameters
    ----------
    array
        Arrow string array.

    Returns
    -------
    tuple of numpy.ndarray
        ``(datetime64[D] (NaT where missing/invalid), missing, invalid)``.
    """
    missing = missing_mask(array)
    shape_ok = _np_bool(pc.match_substring_regex(array, _DATE_RE))
    cleaned = pc.if_else(pa.array(shape_ok), pc.utf8_trim_whitespace(array), "19700101")
    stamps = pc.strptime(cleaned, format="%Y%m%d", unit="s", error_is_null=True)
    # strptime is lenient (20200231 -> March 2); a round trip catches impossible dates
    again = pc.strftime(stamps, format="%Y%m%d")
    ok = shape_ok & _np_bool(pc.equal(again, cleaned))
    values = (
        pc.fill_null(stamps, pa.scalar(0, pa.timestamp("s")))
        .to_numpy(zero_copy_only=False)
        .astype("datetime64[D]")
    )
    values = np.where(ok, values, np.datetime64("NaT"))
    return values, missing, ~ok & ~missing


def format_hms(seconds: np.ndarray) -> np.ndarray:
    """Seconds as ``HH:MM:SS`` strings (hours may exceed 23), vectorised."""
    seconds = np.asarray(seconds, dtype=np.int64)
    h = seconds // 3600
    m = (seconds // 60) % 60
    s = seconds % 60
    hh = np.char.zfill(h.astype(str), 2)
    mm = np.char.zfill(m.astype(str), 2)
    ss = np.char.zfill(s.astype(str), 2)
    return np.char.add(np.char.add(np.char.add(np.char.add(hh, ":"), mm), ":"), ss)
