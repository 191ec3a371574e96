"""numba kernels for GTFS parsing: one pass over an Arrow string array's raw buffers."""

from __future__ import annotations

import numpy as np
from numba import njit

OK = 0
MISSING = 1
INVALID = 2


@njit(cache=True)
def parse_times_kernel(
    data: np.ndarray, offsets: np.ndarray, seconds: np.ndarray, status: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Parse ``H:MM:SS`` values (1-3 hour digits, spaces around allowed).

    Parameters
    ----------
    data
        uint8[bytes]: the string array's data buffer.
    offsets
        int64[n + 1]: start of each value in ``data`` (value i is ``data[offsets[i]:offsets[i+1]]``).
    seconds
        int64[n], written: seconds after midnight, -1 unless ``status`` is OK.
    status
        int8[n], written: OK, MISSING (empty or spaces only) or INVALID.
    """
    n = len(offsets) - 1
    for i in range(n):
        a = offsets[i]
        b = offsets[i + 1]
        while a < b and (data[a] == 32 or data[a] == 9):
            a += 1
        while b > a and (data[b - 1] == 32 or data[b - 1] == 9 or data[b - 1] == 13):
            b -= 1
        seconds[i] = -1
        length = b - a
        if length == 0:
            status[i] = MISSING
            continue
        if length < 7 or length > 9 or data[b - 3] != 58 or data[b - 6] != 58:
            status[i] = INVALID
            continue
        good = True
        hours = 0
        for k in range(a, b - 6):
            d = data[k] - 48
            if d < 0 or d > 9:
                good = False
                break
            hours = hours * 10 + d
        m1 = data[b - 5] - 48
        m2 = data[b - 4] - 48
        s1 = data[b - 2] - 48
        s2 = data[b - 1] - 48
        if not good or m1 < 0 or m1 > 5 or m2 < 0 or m2 > 9 or s1 < 0 or s1 > 5 or s2 < 0 or s2 > 9:
            status[i] = INVALID
            continue
        seconds[i] = hours * 3600 + (m1 * 10 + m2) * 60 + s1 * 10 + s2
        status[i] = OK


@njit(cache=True)
def parse_ints_kernel(
    data: np.ndarray, offsets: np.ndarray, values: np.ndarray, status: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Parse decimal integers (optional sign, spaces around allowed, at most 18 digits).

    Parameters
    ----------
    data, offsets
        As in :func:`parse_times_kernel`.
    values
        int64[n], written: the value, 0 unless ``status`` is OK.
    status
        int8[n], written: OK, MISSING or INVALID.
    """
    n = len(offsets) - 1
    for i in range(n):
        a = offsets[i]
        b = offsets[i + 1]
        while a < b and (data[a] == 32 or data[a] == 9):
            a += 1
        while b > a and (data[b - 1] == 32 or data[b - 1] == 9 or data[b - 1] == 13):
            b -= 1
        values[i] = 0
        if a == b:
            status[i] = MISSING
            continue
        sign = 1
        if data[a] == 45 or data[a] == 43:
            if data[a] == 45:
                sign = -1
            a += 1
        if a == b or b - a > 18:
            status[i] = INVALID
            continue
        value = 0
        good = True
        for k in range(a, b):
            d = data[k] - 48
            if d < 0 or d > 9:
                good = False
                break
            value = value * 10 + d
        if good:
            values[i] = sign * value
            status[i] = OK
        else:
            status[i] = INVALID
