"""Nearest street segment of points, on a uniform grid of metric cells (numba).

Layout (built by :mod:`arverne.network.street_search`):

- a *segment* is the street between two graph nodes, drawn by the points
  ``pt_x/pt_y[seg_ptr[s]:seg_ptr[s + 1]]`` (metric CRS, at least two points);
- a *piece* j is the straight line from point j to point j + 1 of the same segment, so pieces
  are numbered in (segment, position along the segment) order;
- the grid has ``nx * ny`` square cells of side ``cell_m``, cell (i, k) covering
  ``[x0 + i cell_m, x0 + (i + 1) cell_m) x [y0 + k cell_m, ...)``; ``cell_piece[cell_ptr[c]:
  cell_ptr[c + 1]]`` lists the pieces whose bounding box meets cell ``c = k * nx + i``.

Distances and positions along a segment repeat GEOS's arithmetic operation for operation
(``Distance::pointToSegment``, ``LengthIndexOfPoint``, ``Length::ofLine``), so they equal
shapely's ``distance``, ``line_locate_point`` and ``length`` (the tests compare them).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

SLACK_M = 1e-3
"""Margin on the ring bound, metres: far above the rounding of metric coordinates (~1e-9 m)."""


@njit(cache=True)
def _point_piece_m(x: float, y: float, ax: float, ay: float, bx: float, by: float) -> float:
    """Distance from (x, y) to the piece a-b, as GEOS ``Distance::pointToSegment`` computes it."""
    if ax == bx and ay == by:
        return math.sqrt((x - ax) * (x - ax) + (y - ay) * (y - ay))
    len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    r = ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / len2
    if r <= 0.0:
        return math.sqrt((x - ax) * (x - ax) + (y - ay) * (y - ay))
    if r >= 1.0:
        return math.sqrt((x - bx) * (x - bx) + (y - by) * (y - by))
    s = ((ay - y) * (bx - ax) - (ax - x) * (by - ay)) / len2
    return abs(s) * math.sqrt(len2)


@njit(cache=True)
def _fraction_along(
    x: float, y: float, piece: int, lo: int, hi: int, pt_x: np.ndarray, pt_y: np.ndarray
) -> float:
    """Position of (x, y) projected on ``piece`` as a fraction of its segment's length.

    GEOS ``LengthIndexOfPoint`` (the measure of the first nearest piece) divided by
    ``Length::ofLine`` (the pieces' lengths summed in order); 0 for a segment of length 0.
    """
    total = 0.0
    along = 0.0
    for j in range(lo, hi - 1):
        ax, ay, bx, by = pt_x[j], pt_y[j], pt_x[j + 1], pt_y[j + 1]
        length = math.sqrt((ax - bx) * (ax - bx) + (ay - by) * (ay - by))
        if j == piece:
            if x == ax and y == ay:
                along = total
            elif x == bx and y == by:
                along = total + length
            else:
                dx = bx - ax
                dy = by - ay
                len2 = dx * dx + dy * dy
                if len2 == 0.0:
                    # GEOS divides by 0 here; every branch then gives the piece's start
                    along = total
                else:
                    r = ((x - ax) * dx + (y - ay) * dy) / len2
                    if r <= 0.0:
                        along = total
                    elif r <= 1.0:
                        along = total + r * length
                    else:
                        along = total + length
        total += length
    # along <= total (sums and products round monotonically), so the fraction is in [0, 1]
    return along / total if total > 0.0 else 0.0


@njit(cache=True)
def snap_to_segments(
    px: np.ndarray,
    py: np.ndarray,
    max_m: float,
    seg_arc: np.ndarray,
    seg_ptr: np.ndarray,
    pt_x: np.ndarray,
    pt_y: np.ndarray,
    mode_arc: np.ndarray,
    x0: float,
    y0: float,
    cell_m: float,
    nx: int,
    ny: int,
    cell_ptr: np.ndarray,
    cell_piece: np.ndarray,
    arc: np.ndarray,
    frac: np.ndarray,
    snap_m: np.ndarray,
) -> None:
    """Snap each point to the nearest segment a mode may use, within ``max_m``.

    The grid is searched in square rings of cells around the point's cell until the ring is
    farther than the best distance found: a piece at distance d has its nearest point in a
    cell of its bounding box, at most ``d / cell_m + 1`` rings away. Among pieces at exactly
    the same distance (a point nearest to a node shared by several segments) the first piece,
    hence the segment listed first, wins.

    Parameters
    ----------
    px, py
        float64[k]: metric coordinates of the points (non-finite ones are left unsnapped).
    max_m
        Points farther than this (>= 0, may be inf) from every usable segment are left
        unsnapped.
    seg_arc
        int32[s]: the arc whose geometry each segment's points follow (tail to head).
    seg_ptr
        int64[s + 1]: points of segment s are ``seg_ptr[s]:seg_ptr[s + 1]``.
    pt_x, pt_y
        float64[p]: metric coordinates of the segments' points.
    mode_arc
        int32[s]: the arc of each segment the mode may use (``seg_arc`` or its twin), -1 when
        the segment is not usable.
    x0, y0, cell_m, nx, ny, cell_ptr, cell_piece
        The grid (module docstring); ``cell_ptr`` is int64[nx * ny + 1], ``cell_piece`` int32.
    arc, frac, snap_m
        Outputs (int32, float32, float32 [k]), written only for snapped points: the usable arc,
        the position along it (0 tail, 1 head) and the distance to the point.
    """
    for i in range(px.size):
        x = px[i]
        y = py[i]
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        # the clamp keeps the int cast defined for absurd coordinates (metric CRS values of
        # real places are far inside it)
        ci = int(min(max(np.floor((x - x0) / cell_m), -1e15), 1e15))
        ck = int(min(max(np.floor((y - y0) / cell_m), -1e15), 1e15))
        # rings before the first one meeting the grid are empty, those after `last` too
        r = max(0, -ci, ci - (nx - 1), -ck, ck - (ny - 1))
        last = max(ci, nx - 1 - ci, ck, ny - 1 - ck)
        best_d = np.inf
        best_j = -1
        while r <= last and (r - 1) * cell_m <= min(best_d, max_m) + SLACK_M:
            for k in range(max(ck - r, 0), min(ck + r, ny - 1) + 1):
                if k == ck - r or k == ck + r:
                    start, step = max(ci - r, 0), 1  # the ring's bottom or top row
                else:
                    start, step = (ci - r if ci >= r else ci + r), 2 * r  # its two sides
                for ii in range(start, min(ci + r, nx - 1) + 1, step):
                    c = k * nx + ii
                    for slot in range(cell_ptr[c], cell_ptr[c + 1]):
                        j = cell_piece[slot]
                        d = _point_piece_m(x, y, pt_x[j], pt_y[j], pt_x[j + 1], pt_y[j + 1])
                        if d < best_d or (d == best_d and j < best_j):
                            s = np.searchsorted(seg_ptr, j, side="right") - 1
                            if mode_arc[s] >= 0:
                                best_d = d
                                best_j = j
            r += 1
        if best_j < 0 or not best_d <= max_m:
            continue
        s = np.searchsorted(seg_ptr, best_j, side="right") - 1
        f = _fraction_along(x, y, best_j, seg_ptr[s], seg_ptr[s + 1], pt_x, pt_y)
        arc[i] = mode_arc[s]
        # the twin runs along the same points the other way
        frac[i] = f if mode_arc[s] == seg_arc[s] else 1.0 - f
        snap_m[i] = best_d
