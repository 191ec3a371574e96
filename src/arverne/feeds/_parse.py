"""Vectorised parsers for GTFS field types over Arrow string arrays.

Each parser returns numpy values plus boolean masks ``missing`` (empty field) and ``invalid``
(present but not of the type); callers turn masks into notices.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_INT_RE = r"^\s*[+-]?\d{1,18}\s*$"
_FLOAT_RE = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_DATE_RE = r"^\s*\d{8}\s*$"
_SLICE = 1 << 16
"""Values decoded per step of the vectorised time parser."""


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
        if isinstance(array, pa.ChunkedArray):
            missing |= short & _np_bool(pc.utf8_is_space(array))
            return np.asarray(missing, dtype=bool)
        # only a value starting with a control, space or non-ASCII byte can be all spaces
        data, offsets = string_buffers(array)
        used = data[offsets[0] : offsets[-1]]
        if not len(used) or (used.min() > 0x20 and used.max() < 0x7F):
            return np.asarray(missing, dtype=bool)  # no such byte at all
        where = np.flatnonzero(short)
        first = data[offsets[where]]
        where = where[(first <= 0x20) | (first >= 0x7F)]
        if len(where):
            blank = _np_bool(pc.utf8_is_space(array.take(pa.array(where))))
            missing[where[blank]] = True
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
    cleaned = pc.if_else(pa.array(valid), pc.utf8_trim_whitespace(array), "0")
    cleaned = pc.replace_substring_regex(cleaned, r"^\+", "")
    values = pc.cast(cleaned, pa.int64()).to_numpy(zero_copy_only=False)
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
    cleaned = pc.if_else(
        pa.array(valid), pc.utf8_trim_whitespace(array), pa.scalar(None, pa.string())
    )
    values = pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False)
    values = np.array(values, dtype=np.float64)
    values[~valid] = np.nan
    return values, missing, invalid


def parse_time(array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse GTFS times ``H:MM:SS`` / ``HH:MM:SS`` (hours may exceed 23).

    Values of 7 or 8 characters (all usual times) are padded to 8 bytes and read as one
    little-endian 64-bit word each, checked and decoded with vectorised bit operations; the
    rare others (spaces around, three-digit hours, garbage) go through a per-value parser.

    Parameters
    ----------
    array
        Arrow string array.

    Returns
    -------
    tuple of numpy.ndarray
        ``(seconds int32 (-1 where missing/invalid), missing, invalid)``.
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    n = len(array)
    lengths = np.asarray(pc.binary_length(array).to_numpy(zero_copy_only=False))
    regular = (lengths == 7) | (lengths == 8)
    seconds = np.full(n, -1, dtype=np.int32)
    ok = np.zeros(n, dtype=bool)
    if regular.any():
        # the 8 bytes ending at each value's end, read as one word (a value of 7 bytes gets the
        # byte before it, replaced by "0" below: the same as left-padding with "0")
        data, offsets = string_buffers(array)
        buf = np.zeros(len(data) + 8, dtype=np.uint8)
        buf[8:] = data
        unaligned = np.ndarray(shape=(len(data) + 1,), dtype="<u8", buffer=buf, strides=(1,))
        # in slices, so the decoding temporaries stay small on a big stop_times.txt
        for lo in range(0, n, _SLICE):
            hi = min(n, lo + _SLICE)
            words = unaligned[offsets[lo + 1 : hi + 1]]
            seven = lengths[lo:hi] == 7
            if seven.any():
                words[seven] = (words[seven] & ~np.uint64(0xFF)) | np.uint64(0x30)
            value, good = _decode_time_words(words)
            good &= regular[lo:hi]
            seconds[lo:hi][good] = value[good]
            ok[lo:hi] |= good
    odd = np.flatnonzero(~ok & (lengths > 0))
    if len(odd):
        texts = array.take(pa.array(odd)).to_pylist()
        for i, text in zip(odd.tolist(), texts, strict=True):
            parsed = _parse_time_text(text)
            if parsed >= 0:
                seconds[i] = parsed
                ok[i] = True
    missing = lengths == 0
    if len(odd):
        blank = np.array([not t.strip() for t in array.take(pa.array(odd)).to_pylist()])
        missing[odd[blank]] = True
    invalid = ~ok & ~missing
    return seconds, missing, invalid


_DIGIT_BYTES = np.uint64(0xFFFF00FFFF00FFFF)
_HIGH_NIBBLES = np.uint64(0xF0F000F0F000F0F0)
_DIGIT_HIGH = np.uint64(0x3030003030003030)
_OVER_NINE = np.uint64(0x4646004646004646)
_SIGN_BITS = np.uint64(0x8080008080008080)
_COLONS_MASK = np.uint64(0x0000FF0000FF0000)
_COLONS = np.uint64(0x00003A00003A0000)
_ZEROS = np.uint64(0x3030303030303030)


def _decode_time_words(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``HH:MM:SS`` held as little-endian uint64 words (byte 0 = first character)."""
    good = (words & _HIGH_NIBBLES) == _DIGIT_HIGH  # digit bytes are 0x30-0x3F
    good &= (((words & _DIGIT_BYTES) + _OVER_NINE) & _SIGN_BITS) == 0  # ... and not above 0x39
    good &= (words & _COLONS_MASK) == _COLONS
    digits = words - _ZEROS

    def byte(k: int) -> np.ndarray:
        return ((digits >> np.uint64(8 * k)) & np.uint64(0xFF)).view(np.int64)

    minutes = byte(3) * 10 + byte(4)
    secs = byte(6) * 10 + byte(7)
    good &= (minutes < 60) & (secs < 60)
    return (byte(0) * 10 + byte(1)) * 3600 + minutes * 60 + secs, good


def _parse_time_text(text: str) -> int:
    """Seconds of one ``H:MM:SS`` text (spaces around allowed, 1-3 hour digits), else -1."""
    parts = text.strip().split(":")
    if len(parts) != 3:
        return -1
    h, m, s = parts
    if not (1 <= len(h) <= 3 and len(m) == 2 and len(s) == 2):
        return -1
    if not (h.isascii() and m.isascii() and s.isascii()):
        return -1
    if not (h.isdigit() and m.isdigit() and s.isdigit()):
        return -1
    if int(m) >= 60 or int(s) >= 60:
        return -1
    return int(h) * 3600 + int(m) * 60 + int(s)


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
    width: np.dtype = np.dtype(np.int64 if array.type == pa.large_string() else np.int32)
    if array.type not in (pa.string(), pa.large_string()):
        array = array.cast(pa.string())
    offsets_buffer = array.buffers()[1]
    if n == 0 or offsets_buffer is None:
        return np.zeros(1, np.uint8), np.zeros(n + 1, width)
    size = width.itemsize
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
    # the regex allows ASCII spaces only: ASCII trimming (utf8's costs 2 ms to set up)
    cleaned = pc.if_else(pa.array(shape_ok), pc.ascii_trim_whitespace(array), "19700101")
    number = np.asarray(pc.cast(cleaned, pa.int64()).to_numpy(zero_copy_only=False))
    year, month_day = np.divmod(number, 10_000)
    month, day = np.divmod(month_day, 100)
    ok = shape_ok & (month >= 1) & (month <= 12) & (day >= 1)
    # calendar arithmetic in numpy (proleptic Gregorian, year 0 included, as Arrow's strptime)
    first = ((year - 1970) * 12 + np.where(ok, month, 1) - 1).astype("datetime64[M]")
    month_days = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(int)
    ok &= day <= month_days
    values = np.where(ok, first.astype("datetime64[D]") + (day - 1), np.datetime64("NaT"))
    return values, missing, ~ok & ~missing


def format_hms(seconds: np.ndarray) -> np.ndarray:
    """Seconds as ``HH:MM:SS`` strings (hours may exceed 23), vectorised."""
    seconds = np.asarray(seconds, dtype=np.int64)
    if seconds.size == 0:  # np.char.zfill fails on an empty array (it takes a max of widths)
        return np.zeros(seconds.shape, dtype="<U8")
    h = seconds // 3600
    m = (seconds // 60) % 60
    s = seconds % 60
    hh = np.char.zfill(h.astype(str), 2)
    mm = np.char.zfill(m.astype(str), 2)
    ss = np.char.zfill(s.astype(str), 2)
    return np.char.add(np.char.add(np.char.add(np.char.add(hh, ":"), mm), ":"), ss)
