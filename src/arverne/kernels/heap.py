"""The one binary heap of the kernels: node ids in an array, positions beside them, keys apart.

Layout: ``heap_node[:size]`` is a min-heap of node ids ordered by ``dist[node]``;
``heap_pos[node]`` is the node's index in ``heap_node`` (callers keep their own sentinels for
nodes outside the heap). Keys live in the caller's ``dist`` array, so decrease-key is a write to
``dist`` followed by :func:`sift_up` at the node's position. Dijkstra, RAPTOR's lower bounds,
the contraction hierarchy and the capped reach searches share it, with :func:`push`/:func:`pop`
for callers that keep ``pos = -1`` outside the heap, and :func:`grow` for their buffers.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def sift_up(heap_node: np.ndarray, heap_pos: np.ndarray, dist: np.ndarray, i: int) -> None:
    """Move the node at heap index ``i`` up to its place (after an insert or a decrease-key)."""
    v = heap_node[i]
    key = dist[v]
    while i > 0:
        parent = (i - 1) >> 1
        p = heap_node[parent]
        if dist[p] <= key:
            break
        heap_node[i] = p
        heap_pos[p] = i
        i = parent
    heap_node[i] = v
    heap_pos[v] = i


@njit(cache=True, inline="always")
def sift_down(heap_node: np.ndarray, heap_pos: np.ndarray, dist: np.ndarray, size: int) -> None:
    """Move the node at the root down to its place in ``heap_node[:size]`` (after a pop)."""
    i = 0
    v = heap_node[0]
    key = dist[v]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and dist[heap_node[right]] < dist[heap_node[child]]:
            child = right
        c = heap_node[child]
        if dist[c] >= key:
            break
        heap_node[i] = c
        heap_pos[c] = i
        i = child
    heap_node[i] = v
    heap_pos[v] = i


@njit(cache=True, inline="always")
def push(heap: np.ndarray, pos: np.ndarray, key: np.ndarray, size: int, v: int) -> int:
    """Insert v (or lower its key: the caller wrote it in ``key``); returns the new size."""
    if pos[v] < 0:
        heap[size] = v
        pos[v] = size
        size += 1
    sift_up(heap, pos, key, pos[v])
    return size


@njit(cache=True, inline="always")
def pop(heap: np.ndarray, pos: np.ndarray, key: np.ndarray, size: int) -> int:
    """Remove the root (the caller read it first); returns the new size."""
    pos[heap[0]] = -1
    size -= 1
    if size > 0:
        heap[0] = heap[size]
        pos[heap[0]] = 0
        sift_down(heap, pos, key, size)
    return size


@njit(cache=True)
def grow(a: np.ndarray, size: int) -> np.ndarray:
    """A longer copy of ``a`` (same dtype; the tail is uninitialised) for a buffer that filled."""
    out = np.empty(size, a.dtype)
    out[: a.shape[0]] = a
    return out
