"""Numba kernels of the dial-a-ride (on-demand transport) service: exact schedule check,
best insertion, removal and a ruin-and-recreate local search.

(Just over 600 lines on purpose: every kernel here works on the one event layout below, and
they call one another.)

Why numba and not PyVRP: PyVRP 0.14 has pickup-and-delivery but no maximum ride time per
request and no way to pin a promised pickup window so that re-optimisation never moves it out;
dial-a-ride needs both, so insertion and re-optimisation are these kernels (OR-Tools could
model ride times, but answers a live booking far too slowly).

Layout (caller-owned arrays, one row per vehicle; ``CAP`` events at most per vehicle)
---------------------------------------------------------------------------------
``ev_f`` float64[V, CAP, NF]: per event, the fields ``F_*`` below (times in the caller's unit,
seconds in the live service, minutes in Cordeau's instances).
``ev_i`` int32[V, CAP, NI]: per event, the fields ``I_*`` below.
``n_ev`` int32[V]: events in each vehicle's route; event 0 is the start (depot or the vehicle's
anchor), event ``n_ev[v] - 1`` the end depot; pickups and drop-offs in between.
``v_cap1``/``v_cap2`` int32[V]: seats and wheelchair places. ``v_lock`` int32[V]: index of the
last frozen event (nothing may be inserted before or at it; 0 = only the start is fixed).
``v_ready`` float64[V]: the vehicle cannot leave event ``v_lock`` before this time (the live
clock; ``-inf`` for static instances).
``v_maxdur`` float64[V]: maximum route duration (end minus start), ``inf`` for none.
``tt`` float64[P, P]: travel time between service points; must satisfy the triangle
inequality (the service closes it on construction) so that removing stops never breaks a plan.

A route is feasible when start times ``B`` exist with ``e <= B <= l`` at every event,
``B[k+1] >= B[k] + svc[k] + tt[k, k+1]`` (waiting allowed), ride time of every request
``B[drop] - (B[pick] + svc[pick]) <= ride`` and ``B[end] - B[start] <= maxdur``. These are
difference constraints: :func:`schedule_route` computes their least solution by ordered
Bellman-Ford rounds (a forward pass, then the backward ride-time/duration edges), which is
exact: it fails exactly when the system has no solution.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# float fields of ev_f
F_E = 0  # earliest start of service
F_L = 1  # latest start of service (a promised window's end)
F_SVC = 2  # service duration at the event
F_RIDE = 3  # maximum ride time (on drop-off events; inf elsewhere)
F_B = 4  # scheduled start of service (least feasible schedule)
F_LT = 5  # latest start compatible with later time windows (necessary condition only)
F_CUM = 6  # cumulated service + travel from the route start to this event's start (no waiting)
NF = 7

# int fields of ev_i
I_PT = 0  # service point index (row/column of tt)
I_Q1 = 1  # seats delta (+ at pickup, - at drop-off)
I_Q2 = 2  # wheelchair places delta
I_PARTNER = 3  # position of the other event of the same request (-1 for depots)
I_KIND = 4  # KIND_* below
I_REQ = 5  # request index (-1 for depots)
I_LOAD1 = 6  # seats occupied after the event
I_LOAD2 = 7  # wheelchair places occupied after the event
NI = 8

KIND_START = 0
KIND_PICKUP = 1
KIND_DROP = 2
KIND_END = 3

EPS = 1e-7

# request fields for the local search: r_f float64[R, NRF], r_i int32[R, NRI]
R_PE = 0
R_PL = 1
R_DE = 2
R_DL = 3
R_PS = 4
R_DS = 5
R_RIDE = 6
NRF = 7
R_PP = 0
R_DP = 1
R_Q1 = 2
R_Q2 = 3
R_VEH = 4  # vehicle serving the request, -1 when unserved
R_ACTIVE = 5  # 1 when the request must be served (booked), 0 when cancelled / not a request
R_MOVABLE = 6  # 1 when the local search may move it (not frozen)
NRI = 7


@njit(cache=True)
def schedule_route(n, f, iv, tt, maxdur, lock, ready):
    """Least feasible start times of one route into ``f[:n, F_B]``; False when infeasible.

    ``lock``/``ready``: the vehicle cannot leave event ``lock`` before ``ready`` (the clock of
    the live service; ``-inf`` for static instances).
    """
    nback = 1
    for k in range(n):
        f[k, F_B] = f[k, F_E]
        if iv[k, I_KIND] == KIND_DROP:
            nback += 1
    for _round in range(nback + 2):
        for k in range(1, n):
            a = f[k - 1, F_B] + f[k - 1, F_SVC] + tt[iv[k - 1, I_PT], iv[k, I_PT]]
            if k == lock + 1:
                a2 = ready + tt[iv[k - 1, I_PT], iv[k, I_PT]]
                if a2 > a:
                    a = a2
            if a > f[k, F_B]:
                f[k, F_B] = a
        for k in range(n):
            if f[k, F_B] > f[k, F_L] + EPS:
                return False
        changed = False
        for k in range(n):
            if iv[k, I_KIND] == KIND_DROP:
                p = iv[k, I_PARTNER]
                need = f[k, F_B] - f[p, F_SVC] - f[k, F_RIDE]
                if need > f[p, F_B] + EPS:
                    f[p, F_B] = need
                    changed = True
        if maxdur < np.inf:
            need = f[n - 1, F_B] - maxdur
            if need > f[0, F_B] + EPS:
                f[0, F_B] = need
                changed = True
        if not changed:
            return True
    return False


@njit(cache=True)
def refresh_route(n, f, iv, tt, maxdur, lock, ready):
    """Recompute schedule, latest times, cumulated times and loads of one route."""
    ok = schedule_route(n, f, iv, tt, maxdur, lock, ready)
    f[n - 1, F_LT] = f[n - 1, F_L]
    for k in range(n - 2, -1, -1):
        lt = f[k + 1, F_LT] - f[k, F_SVC] - tt[iv[k, I_PT], iv[k + 1, I_PT]]
        f[k, F_LT] = min(f[k, F_L], lt)
    f[0, F_CUM] = 0.0
    for k in range(1, n):
        f[k, F_CUM] = f[k - 1, F_CUM] + f[k - 1, F_SVC] + tt[iv[k - 1, I_PT], iv[k, I_PT]]
    l1 = 0
    l2 = 0
    for k in range(n):
        l1 += iv[k, I_Q1]
        l2 += iv[k, I_Q2]
        iv[k, I_LOAD1] = l1
        iv[k, I_LOAD2] = l2
    return ok


@njit(cache=True)
def route_travel(n, iv, tt):
    """Total travel time (the routing cost) of one route."""
    s = 0.0
    for k in range(1, n):
        s += tt[iv[k - 1, I_PT], iv[k, I_PT]]
    return s


@njit(cache=True)
def build_candidate(n, f, iv, i, j, pp, dp, pe, pl, de, dl, ps, ds, q1, q2, ride, req, cf, ci):
    """Copy route with the pickup inserted after ``i`` and the drop-off after ``j`` (old positions)."""
    for k in range(n):
        nk = k + (1 if k > i else 0) + (1 if k > j else 0)
        for x in range(NF):
            cf[nk, x] = f[k, x]
        for x in range(NI):
            ci[nk, x] = iv[k, x]
        m = iv[k, I_PARTNER]
        if m >= 0:
            ci[nk, I_PARTNER] = m + (1 if m > i else 0) + (1 if m > j else 0)
    a = i + 1
    b = j + 2
    cf[a, F_E] = pe
    cf[a, F_L] = pl
    cf[a, F_SVC] = ps
    cf[a, F_RIDE] = np.inf
    ci[a, I_PT] = pp
    ci[a, I_Q1] = q1
    ci[a, I_Q2] = q2
    ci[a, I_PARTNER] = b
    ci[a, I_KIND] = KIND_PICKUP
    ci[a, I_REQ] = req
    cf[b, F_E] = de
    cf[b, F_L] = dl
    cf[b, F_SVC] = ds
    cf[b, F_RIDE] = ride
    ci[b, I_PT] = dp
    ci[b, I_Q1] = -q1
    ci[b, I_Q2] = -q2
    ci[b, I_PARTNER] = a
    ci[b, I_KIND] = KIND_DROP
    ci[b, I_REQ] = req


@njit(cache=True)
def best_insertion_route(
    n, f, iv, lock, ready, cap1, cap2, maxdur, tt,
    pp, dp, pe, pl, de, dl, ps, ds, q1, q2, ride, req,
    wait_w, ignore_cap, best_cost, cf, ci, out,
):  # fmt: skip
    """Cheapest feasible insertion of one request into one route.

    Tries every pair (pickup after ``i``, drop-off after ``j >= i``) with ``i >= lock``; cheap
    necessary conditions (time windows against the current schedule and latest times, loads,
    a ride-time lower bound) and the cost bound prune pairs before the exact check.
    Cost = added travel time + ``wait_w`` x (scheduled pickup - earliest pickup).
    Writes ``out[0] = cost, out[1] = i, out[2] = j`` when a pair cheaper than ``best_cost``
    is found and returns True.
    """
    found = False
    if not ignore_cap and (q1 > cap1 or q2 > cap2):
        return False
    start = lock if lock > 0 else 0
    for i in range(start, n - 1):
        pi = iv[i, I_PT]
        pn = iv[i + 1, I_PT]
        ap = f[i, F_B] + f[i, F_SVC] + tt[pi, pp]
        if i == lock and ready + tt[pi, pp] > ap:
            ap = ready + tt[pi, pp]
        if ap < pe:
            ap = pe
        if ap > pl + EPS:
            continue
        if not ignore_cap and (iv[i, I_LOAD1] + q1 > cap1 or iv[i, I_LOAD2] + q2 > cap2):
            continue
        base_p = tt[pi, pp] + tt[pp, pn] - tt[pi, pn]
        p_next_ok = ap + ps + tt[pp, pn] <= f[i + 1, F_LT] + EPS
        mx1 = iv[i, I_LOAD1]
        mx2 = iv[i, I_LOAD2]
        for j in range(i, n - 1):
            if j > i:
                if not p_next_ok:
                    break
                if iv[j, I_LOAD1] > mx1:
                    mx1 = iv[j, I_LOAD1]
                if iv[j, I_LOAD2] > mx2:
                    mx2 = iv[j, I_LOAD2]
                if not ignore_cap and (mx1 + q1 > cap1 or mx2 + q2 > cap2):
                    break
                pj = iv[j, I_PT]
                pj1 = iv[j + 1, I_PT]
                dcost = base_p + tt[pj, dp] + tt[dp, pj1] - tt[pj, pj1]
                ad = f[j, F_B] + f[j, F_SVC] + tt[pj, dp]
                if ad < de:
                    ad = de
                if ad > dl + EPS:
                    continue
                if ad + ds + tt[dp, pj1] > f[j + 1, F_LT] + EPS:
                    continue
                ride_lb = tt[pp, pn] + (f[j, F_CUM] - f[i + 1, F_CUM]) + f[j, F_SVC] + tt[pj, dp]
                if ride_lb > ride + EPS:
                    continue
            else:
                dcost = tt[pi, pp] + tt[pp, dp] + tt[dp, pn] - tt[pi, pn]
                ad = ap + ps + tt[pp, dp]
                if ad < de:
                    ad = de
                if ad > dl + EPS:
                    continue
                if ad + ds + tt[dp, pn] > f[i + 1, F_LT] + EPS:
                    continue
                if tt[pp, dp] > ride + EPS:
                    continue
            if dcost >= best_cost:
                continue
            build_candidate(
                n, f, iv, i, j, pp, dp, pe, pl, de, dl, ps, ds, q1, q2, ride, req, cf, ci
            )
            if not schedule_route(n + 2, cf, ci, tt, maxdur, lock, ready):
                continue
            cost = dcost + wait_w * (cf[i + 1, F_B] - pe)
            if cost < best_cost:
                best_cost = cost
                out[0] = cost
                out[1] = i
                out[2] = j
                found = True
    return found


@njit(cache=True)
def best_insertion(
    ev_f, ev_i, n_ev, v_cap1, v_cap2, v_lock, v_ready, v_maxdur, v_active, tt,
    pp, dp, pe, pl, de, dl, ps, ds, q1, q2, ride, req,
    wait_w, ignore_cap, cf, ci, out, best,
):  # fmt: skip
    """Cheapest feasible insertion over every active vehicle.

    ``best`` float64[4] receives (cost, vehicle, i, j); returns the vehicle or -1.
    """
    best_cost = np.inf
    best_v = -1
    cap = ev_f.shape[1]
    for v in range(n_ev.shape[0]):
        if not v_active[v]:
            continue
        n = n_ev[v]
        if n + 2 > cap:
            continue
        if best_insertion_route(
            n, ev_f[v], ev_i[v], v_lock[v], v_ready[v], v_cap1[v], v_cap2[v], v_maxdur[v], tt,
            pp, dp, pe, pl, de, dl, ps, ds, q1, q2, ride, req,
            wait_w, ignore_cap, best_cost, cf, ci, out,
        ):  # fmt: skip
            best_cost = out[0]
            best_v = v
            best[0] = out[0]
            best[1] = v
            best[2] = out[1]
            best[3] = out[2]
    return best_v


@njit(cache=True)
def apply_insertion(
    ev_f, ev_i, n_ev, v_lock, v_ready, v_maxdur, tt, v, i, j,
    pp, dp, pe, pl, de, dl, ps, ds, q1, q2, ride, req, cf, ci,
):  # fmt: skip
    """Insert the request into vehicle ``v`` (pickup after ``i``, drop-off after ``j``)."""
    n = n_ev[v]
    build_candidate(
        n, ev_f[v], ev_i[v], i, j, pp, dp, pe, pl, de, dl, ps, ds, q1, q2, ride, req, cf, ci
    )
    for k in range(n + 2):
        for x in range(NF):
            ev_f[v, k, x] = cf[k, x]
        for x in range(NI):
            ev_i[v, k, x] = ci[k, x]
    n_ev[v] = n + 2
    return refresh_route(n + 2, ev_f[v], ev_i[v], tt, v_maxdur[v], v_lock[v], v_ready[v])


@njit(cache=True)
def remove_request(ev_f, ev_i, n_ev, v_lock, v_ready, v_maxdur, tt, v, req):
    """Remove both events of ``req`` from vehicle ``v``; returns (ok, pickup pos, drop pos)."""
    n = n_ev[v]
    a = -1
    b = -1
    for k in range(n):
        if ev_i[v, k, I_REQ] == req:
            if ev_i[v, k, I_KIND] == KIND_PICKUP:
                a = k
            elif ev_i[v, k, I_KIND] == KIND_DROP:
                b = k
    if a < 0 or b < 0:
        return False, a, b
    w = 0
    for k in range(n):
        if k in (a, b):
            continue
        if w != k:
            for x in range(NF):
                ev_f[v, w, x] = ev_f[v, k, x]
            for x in range(NI):
                ev_i[v, w, x] = ev_i[v, k, x]
        w += 1
    for k in range(n - 2):
        m = ev_i[v, k, I_PARTNER]
        if m >= 0:
            ev_i[v, k, I_PARTNER] = m - (1 if m > a else 0) - (1 if m > b else 0)
    n_ev[v] = n - 2
    ok = refresh_route(n - 2, ev_f[v], ev_i[v], tt, v_maxdur[v], v_lock[v], v_ready[v])
    return ok, a, b


@njit(cache=True)
def total_travel(ev_i, n_ev, tt):
    """Sum of the routes' travel times."""
    s = 0.0
    for v in range(n_ev.shape[0]):
        s += route_travel(n_ev[v], ev_i[v], tt)
    return s


@njit(cache=True)
def _regret_insert(
    ev_f, ev_i, n_ev, v_cap1, v_cap2, v_lock, v_ready, v_maxdur, tt, r_f, r_i, pool, npool, cf,
    ci, out, noise,
):  # fmt: skip
    """Regret-2 insertion of the requests in ``pool[:npool]``; returns how many stay unserved.

    Served requests are removed from the pool (swapped to its end); unserved ones remain in
    ``pool[:returned]``.
    """
    nv = n_ev.shape[0]
    cap = ev_f.shape[1]
    bc = np.empty((npool, nv))
    bi = np.empty((npool, nv), dtype=np.int64)
    bj = np.empty((npool, nv), dtype=np.int64)
    stale = np.ones(nv, dtype=np.bool_)
    for a in range(npool):
        for v in range(nv):
            bc[a, v] = np.inf
    while npool > 0:
        # refresh the cached costs of changed vehicles
        for v in range(nv):
            if not stale[v]:
                continue
            for a in range(npool):
                r = pool[a]
                bc[a, v] = np.inf
                if n_ev[v] + 2 > cap:
                    continue
                if best_insertion_route(
                    n_ev[v], ev_f[v], ev_i[v], v_lock[v], v_ready[v], v_cap1[v], v_cap2[v],
                    v_maxdur[v], tt,
                    r_i[r, R_PP], r_i[r, R_DP], r_f[r, R_PE], r_f[r, R_PL], r_f[r, R_DE],
                    r_f[r, R_DL], r_f[r, R_PS], r_f[r, R_DS], r_i[r, R_Q1], r_i[r, R_Q2],
                    r_f[r, R_RIDE], r, 0.0, False, np.inf, cf, ci, out,
                ):  # fmt: skip
                    c = out[0]
                    if noise > 0.0:
                        c = c * (1.0 + noise * (np.random.random() - 0.5))
                    bc[a, v] = c
                    bi[a, v] = int(out[1])
                    bj[a, v] = int(out[2])
            stale[v] = False
        # pick the request with the largest regret (fewest options first)
        pick = -1
        pick_key1 = -1
        pick_key2 = -np.inf
        for a in range(npool):
            c1 = np.inf
            c2 = np.inf
            nopt = 0
            for v in range(nv):
                c = bc[a, v]
                if c < np.inf:
                    nopt += 1
                if c < c1:
                    c2 = c1
                    c1 = c
                elif c < c2:
                    c2 = c
            if c1 == np.inf:
                continue
            key1 = 1 if nopt == 1 else 0
            regret = (c2 - c1) if c2 < np.inf else 1e12
            if key1 > pick_key1 or (key1 == pick_key1 and regret > pick_key2):
                pick = a
                pick_key1 = key1
                pick_key2 = regret
        if pick < 0:
            break
        r = pool[pick]
        bv = -1
        c1 = np.inf
        for v in range(nv):
            if bc[pick, v] < c1:
                c1 = bc[pick, v]
                bv = v
        apply_insertion(
            ev_f, ev_i, n_ev, v_lock, v_ready, v_maxdur, tt, bv, bi[pick, bv], bj[pick, bv],
            r_i[r, R_PP], r_i[r, R_DP], r_f[r, R_PE], r_f[r, R_PL], r_f[r, R_DE], r_f[r, R_DL],
            r_f[r, R_PS], r_f[r, R_DS], r_i[r, R_Q1], r_i[r, R_Q2], r_f[r, R_RIDE], r, cf, ci,
        )  # fmt: skip
        r_i[r, R_VEH] = bv
        stale[bv] = True
        last = npool - 1
        pool[pick] = pool[last]
        pool[last] = r
        for v in range(nv):
            bc[pick, v] = bc[last, v]
            bi[pick, v] = bi[last, v]
            bj[pick, v] = bj[last, v]
        npool -= 1
    return npool


@njit(cache=True)
def _unserved(r_i):
    u = 0
    for r in range(r_i.shape[0]):
        if r_i[r, R_ACTIVE] == 1 and r_i[r, R_VEH] < 0:
            u += 1
    return u


@njit(cache=True)
def lns(
    ev_f, ev_i, n_ev, v_cap1, v_cap2, v_lock, v_ready, v_maxdur, tt, r_f, r_i,
    iterations, max_remove, seed, temperature, allow_unserved, unserved_penalty, cf, ci,
):  # fmt: skip
    """Ruin-and-recreate over the movable requests; keeps the best plan in the arrays.

    Each iteration removes 1..``max_remove`` movable requests (random or related: close in
    place and time to a random seed request), reinserts them and every unserved request with
    regret-2 insertion (with noise), and accepts by simulated annealing on
    travel + ``unserved_penalty`` x unserved. When ``allow_unserved`` is False a move that leaves
    a removed request unserved is always rejected (promises must be kept). Every accepted plan is
    feasible by construction (each insertion passes the exact check). Returns the best cost.
    """
    np.random.seed(seed)
    n_ev.shape[0]
    nr = r_f.shape[0]
    out = np.empty(3)
    cur_f = ev_f.copy()
    cur_i = ev_i.copy()
    cur_n = n_ev.copy()
    cur_rveh = r_i[:, R_VEH].copy()
    best_f = ev_f.copy()
    best_i = ev_i.copy()
    best_n = n_ev.copy()
    best_rveh = r_i[:, R_VEH].copy()

    cur_cost = total_travel(ev_i, n_ev, tt) + unserved_penalty * _unserved(r_i)
    best_cost = cur_cost
    movable = np.empty(nr, dtype=np.int64)
    nm = 0
    for r in range(nr):
        if r_i[r, R_ACTIVE] == 1 and r_i[r, R_MOVABLE] == 1:
            movable[nm] = r
            nm += 1
    if nm == 0:
        return best_cost
    pool = np.empty(nr, dtype=np.int64)
    rel = np.empty(nm)
    t0 = temperature
    for it in range(iterations):
        temp = t0 * (1.0 - it / iterations)
        k = 1 + np.random.randint(min(max_remove, nm))
        npool = 0
        if np.random.random() < 0.5:
            # random removal
            order = np.random.permutation(nm)
            for a in range(k):
                pool[npool] = movable[order[a]]
                npool += 1
        else:
            # related removal: close in space (pickup & drop-off) and time
            s = movable[np.random.randint(nm)]
            for a in range(nm):
                r = movable[a]
                rel[a] = (
                    tt[r_i[s, R_PP], r_i[r, R_PP]]
                    + tt[r_i[s, R_DP], r_i[r, R_DP]]
                    + abs(r_f[s, R_PE] - r_f[r, R_PE])
                    + abs(r_f[s, R_DL] - r_f[r, R_DL]) * 0.0
                    + np.random.random() * 1e-6
                )
            order = np.argsort(rel)
            for a in range(k):
                pool[npool] = movable[order[a]]
                npool += 1
        removed = npool
        ok = True
        for a in range(npool):
            r = pool[a]
            v = r_i[r, R_VEH]
            if v >= 0:
                res = remove_request(ev_f, ev_i, n_ev, v_lock, v_ready, v_maxdur, tt, v, r)
                if not res[0]:
                    ok = False
                r_i[r, R_VEH] = -1
        # unserved requests join the pool
        for r in range(nr):
            if r_i[r, R_ACTIVE] == 1 and r_i[r, R_VEH] < 0:
                found = False
                for a in range(removed):
                    if pool[a] == r:
                        found = True
                if not found:
                    pool[npool] = r
                    npool += 1
        noise = 0.2 if np.random.random() < 0.5 else 0.0
        left = _regret_insert(
            ev_f, ev_i, n_ev, v_cap1, v_cap2, v_lock, v_ready, v_maxdur, tt, r_f, r_i, pool, npool,
            cf, ci, out, noise,
        )  # fmt: skip
        if left > 0 and not allow_unserved:
            ok = False
        new_cost = total_travel(ev_i, n_ev, tt) + unserved_penalty * _unserved(r_i)
        accept = ok and (
            new_cost < cur_cost - 1e-9
            or (temp > 0 and np.random.random() < np.exp(-(new_cost - cur_cost) / temp))
        )
        if accept:
            cur_cost = new_cost
            cur_f[:] = ev_f
            cur_i[:] = ev_i
            cur_n[:] = n_ev
            cur_rveh[:] = r_i[:, R_VEH]
            if new_cost < best_cost - 1e-9:
                best_cost = new_cost
                best_f[:] = ev_f
                best_i[:] = ev_i
                best_n[:] = n_ev
                best_rveh[:] = r_i[:, R_VEH]
        else:
            ev_f[:] = cur_f
            ev_i[:] = cur_i
            n_ev[:] = cur_n
            r_i[:, R_VEH] = cur_rveh
    ev_f[:] = best_f
    ev_i[:] = best_i
    n_ev[:] = best_n
    r_i[:, R_VEH] = best_rveh
    return best_cost


@njit(cache=True)
def close_triangle(tt):
    """Floyd-Warshall in place: make ``tt`` satisfy the triangle inequality."""
    n = tt.shape[0]
    for k in range(n):
        for i in range(n):
            tik = tt[i, k]
            if tik == np.inf:
                continue
            for j in range(n):
                d = tik + tt[k, j]
                if d < tt[i, j]:
                    tt[i, j] = d
