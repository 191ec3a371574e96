"""Orders by id (code points): rows by (id, sequence) for the reader and the compile, and id
columns as categories in that order.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sort_rank(ids: Any) -> np.ndarray:
    """int64 rank of each string of the Arrow array ``ids`` in sorted (code point) order."""
    import pyarrow.compute as pc  # a loaded network never sorts: keep its imports light

    rank = np.empty(len(ids), np.int64)
    rank[np.asarray(pc.sort_indices(ids).to_numpy(), np.int64)] = np.arange(len(ids))
    return rank


def sort_trip_blocks(codes: np.ndarray, rank: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """Order of rows sorted by (trip rank, stop_sequence), stable.

    Rows usually come in *blocks*: runs of one trip with rising ``seq`` (a whole trip, or a
    few pieces of one). Then only the blocks are sorted, by (trip rank, first ``seq``), which
    is much cheaper than sorting the rows; when the pieces of a trip overlap in ``seq`` (or
    repeat a key), the rows are sorted.

    Parameters
    ----------
    codes
        int[n]: trip code of each row (an index into ``rank``).
    rank
        int64[n_codes]: sort rank of each trip code (by trip_id, see :func:`sort_rank`).
    seq
        int[n]: stop_sequence of each row.

    Returns
    -------
    numpy.ndarray
        int[n] row order.
    """
    n = len(codes)
    if n < 2:
        return np.arange(n)
    cut = np.empty(n, dtype=bool)
    cut[0] = True
    np.not_equal(codes[1:], codes[:-1], out=cut[1:])
    cut[1:] |= seq[1:] <= seq[:-1]
    starts = np.flatnonzero(cut)
    del cut
    if len(starts) > n // 4:  # barely any blocks: sort the rows
        return _sort_by_rank_seq(rank[codes], seq)
    block_rank = rank[codes[starts]]
    first_seq = seq[starts]
    last_seq = seq[np.r_[starts[1:], n] - 1]
    block_order = np.lexsort((first_seq, block_rank))  # ranks are unique per trip
    same_trip = block_rank[block_order[1:]] == block_rank[block_order[:-1]]
    if np.any(same_trip & (last_seq[block_order[:-1]] >= first_seq[block_order[1:]])):
        return _sort_by_rank_seq(rank[codes], seq)  # pieces of a trip interleave
    if np.all(np.diff(block_order) > 0):
        return np.arange(n)
    lengths = np.diff(np.r_[starts, n])
    new_lengths = lengths[block_order]
    # row i of a moved block comes from i + (its old start - its new start)
    shift = starts[block_order] - (np.cumsum(new_lengths) - new_lengths)
    dtype = np.int32 if n < 2**31 else np.int64  # half the memory of the row-sized arrays
    order: np.ndarray = np.arange(n, dtype=dtype)
    order += np.repeat(shift.astype(dtype), new_lengths)
    return order


def _sort_by_rank_seq(rank: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """Stable order by (rank, seq): ``np.lexsort((seq, rank))``, as one int64 key when it fits."""
    seq_lo = int(seq.min())
    span = int(seq.max()) - seq_lo + 1
    if int(rank.min()) < 0 or (int(rank.max()) + 1) * span >= 2**62:
        return np.lexsort((seq, rank))
    key = rank * span + (seq - seq_lo)
    return np.argsort(key, kind="stable")


def id_categories(codes: np.ndarray, ids: Any) -> Any:
    """An id column as a pandas Categorical: codes into the ids it uses, in code-point order.

    A big table repeats a few thousand ids over millions of rows: one small code per row and
    one string per id, instead of a string per row (and the compile maps ids, not rows).

    Parameters
    ----------
    codes
        int[n]: index into ``ids`` of each row.
    ids
        Arrow strings, without repeats.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    used = np.bincount(codes, minlength=len(ids)) > 0
    order = np.asarray(pc.sort_indices(ids).to_numpy(), np.int64)
    order = order[used[order]]  # the used ids, sorted
    new_code = np.full(len(ids), -1, np.int32)
    new_code[order] = np.arange(len(order), dtype=np.int32)
    categories = pd.CategoricalDtype(ids.take(pa.array(order)).to_pandas())
    return pd.Categorical.from_codes(new_code[codes], dtype=categories, validate=False)
