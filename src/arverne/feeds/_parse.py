"""Vectorised parsers for GTFS field types over Arrow string arrays.

Each parser returns numpy values plus boolean masks ``missing`` (empty field) and ``invalid``
(present but not of the type); callers turn masks into notices.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
    from arverne.feeds._kernels import INVALID, MISSING, parse_ints_kernel

    data, offsets = string_buffers(array)
    n = len(offsets) - 1
    values = np.empty(n, dtype=np.int64)
    status = np.empty(n, dtype=np.int8)
    parse_ints_kernel(data, offsets, values, status)
    return values, status == MISSING, status == INVALID


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
    cleaned = pc.if_else(
        pa.array(valid), pc.utf8_trim_whitespace(array), pa.scalar(None, pa.string())
    )
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
    from arverne.feeds._kernels import INVALID, MISSING, parse_times_kernel

    data, offsets = string_buffers(array)
    n = len(offsets) - 1
    seconds = np.empty(n, dtype=np.int64)
    status = np.empty(n, dtype=np.int8)
    parse_times_kernel(data, offsets, seconds, status)
    return seconds, status == MISSING, status == INVALID


def string_buffers(array: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Raw bytes and int64 offsets of a string array (zero-copy for the bytes).

    Parameters
    ----------
    array
        Arrow ``string`` or ``large_string`` array (chunked arrays are combined).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        ``(uint8 data, int32 or int64 offsets[n + 1])``; value i is
        ``data[offsets[i]:offsets[i + 1]]``.
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    n = len(array)
    if array.type == pa.large_string():
        width = np.int64
    else:
        if array.type != pa.string():
            array = array.cast(pa.string())
        width = np.int32
    offsets_buffer = array.buffers()[1]
    if n == 0 or offsets_buffer is None:
        return np.zeros(1, np.uint8), np.zeros(n + 1, width)
    size = np.dtype(width).itemsize
    offsets = np.frombuffer(offsets_buffer, dtype=width, count=n + 1, offset=array.offset * size)
    data_buffer = array.buffers()[2]
    if data_buffer is None or data_buffer.size == 0:
        data = np.zeros(1, np.uint8)
    else:
        data = np.frombuffer(data_buffer, dtype=np.uint8)
    return data, offsets


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
