"""The per-client rate limit shared by the worker processes of one service.

Two :class:`SharedRateLimiter` s on one file (as two workers have) answer exactly as one
in-memory token bucket (:class:`RateLimiter`, the plain reference) on random request sequences;
and ``arverne serve`` with two workers lets a client through ``burst`` times in all, not per
worker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.service.limits import RateLimiter, SharedRateLimiter
from tests.service.test_serve import _free_port

steps = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.floats(0.0, 2.0), st.integers(0, 1)),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(
    steps=steps,
    rate=st.sampled_from([0.5, 1.0, 3.0]),
    burst=st.integers(1, 4),
    seed=st.integers(0, 10**9),
)
def test_two_workers_share_one_bucket_per_client(
    steps: list[tuple[str, float, int]], rate: float, burst: int, seed: int
) -> None:
    """Random clients, gaps and workers: the two shared limiters (one file, two connections)
    allow exactly the requests one in-memory token bucket allows.
    """
    import tempfile

    now = [1000.0]

    def clock() -> float:
        return now[0]

    with tempfile.TemporaryDirectory() as folder:
        workers = [
            SharedRateLimiter(Path(folder), rate, burst, clock=clock),
            SharedRateLimiter(Path(folder), rate, burst, clock=clock),
        ]
        reference = RateLimiter(rate, burst, clock=clock)
        for client, gap, worker in steps:
            now[0] += gap
            assert workers[worker].allow(client) == reference.allow(client), (client, now[0])


def _status(port: int) -> tuple[int, str | None]:
    """One request on a new connection: its status (0: refused) and, when answered, the
    worker's network load time."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=10) as r:
            return r.status, json.loads(r.read())["network"]["loaded_at"]
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except OSError:  # not listening yet: refused before any token is taken
        return 0, None


BURST = 300
"""The test service's burst: room for readiness probes while the second worker starts."""


def test_serve_two_workers_count_one_rate(demo_net: Path, tmp_path: Path) -> None:
    """`serve` with 2 workers, burst 300 and a rate of one request per 1,000 s: requests on
    new connections, 4 at a time, until both workers have answered (two distinct network load
    times), then enough more, 8 at a time, to pass the burst: in all exactly 300 pass and the
    rest are 429, so the count is the service's, not each worker's (each alone would let up to
    600 through).
    """
    port = _free_port()
    code = (
        "from arverne.service.serve import serve\n"
        "from arverne.service.settings import ServiceLimits, ServiceSettings\n"
        f"serve(ServiceSettings(network_dir={str(demo_net)!r}, port={port}, workers=2,"
        f" limits=ServiceLimits(rate_per_s=0.001, rate_burst={BURST})))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    answers: list[tuple[int, str | None]] = []
    try:
        with ThreadPoolExecutor(8) as pool:
            deadline = time.monotonic() + 90
            while len({loaded for code, loaded in answers if code == 200}) < 2:
                assert time.monotonic() < deadline, "two workers did not answer within 90 s"
                assert len(answers) < BURST - 20, "the probes reached one worker only"
                answers += [a for a in pool.map(lambda _: _status(port), range(4)) if a[0]]
                time.sleep(0.3)
            more = BURST - len(answers) + 40
            answers += list(pool.map(lambda _: _status(port), range(more)))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    assert sorted({code for code, _ in answers}) == [200, 429]
    assert sum(code == 200 for code, _ in answers) == BURST
