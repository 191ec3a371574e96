"""Protection before computation: body size, per-client rate, the bounded planner queue, and a
job whose process died."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from arverne.service.limits import Admission, Guard, RateLimiter
from arverne.service.problems import HttpProblem
from arverne.service.settings import ServiceLimits, ServiceSettings
from arverne.service.snapshot import Snapshot
from tests.service.conftest import DEMO_DAY, TOKEN, make_client

AUTH = {"Authorization": f"Bearer {TOKEN}"}
JOURNEY = {"from": "territory-gtfs:CHAMB", "to": "territory-gtfs:MARCHE",
           "datetime": f"{DEMO_DAY}T0700"}  # fmt: skip


def test_body_over_the_limit_is_413_before_anything(demo_net: Path) -> None:
    """A 2 kB body against a 1 kB limit: 413 body-too-large, by Content-Length and streamed."""
    settings = ServiceSettings(
        network_dir=demo_net, token=TOKEN, limits=ServiceLimits(max_body_bytes=1000)
    )
    body = json.dumps({"places": ["x" * 2000]}).encode()
    with make_client(settings) as c:
        r = c.post("/v1/tours", content=body, headers={**AUTH, "content-type": "application/json"})
        assert r.status_code == 413 and r.json()["code"] == "body-too-large"

        def chunks() -> Iterator[bytes]:
            yield body[:900]
            yield body[900:]

        r = c.post(
            "/v1/tours", content=chunks(), headers={**AUTH, "content-type": "application/json"}
        )
        assert r.status_code == 413, r.text
        assert r.json()["code"] == "body-too-large"


def test_rate_limit_per_client(demo_net: Path) -> None:
    """Burst 3, then 1 per second: the fourth request at once is 429 with Retry-After."""
    settings = ServiceSettings(
        network_dir=demo_net, limits=ServiceLimits(rate_per_s=1.0, rate_burst=3)
    )
    with make_client(settings) as c:
        codes = [c.get("/v1/status").status_code for _ in range(4)]
        assert codes[:3] == [200, 200, 200]
        r = c.get("/v1/status")
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        assert r.json()["code"] == "rate-limited"


def test_token_bucket_refills_and_stays_bounded() -> None:
    """A bucket refills at its rate; many clients keep at most MAX_CLIENTS buckets."""
    now = [0.0]
    limiter = RateLimiter(2.0, 2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    now[0] = 0.5
    assert limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b")
    from arverne.service import limits

    for i in range(limits.MAX_CLIENTS + 10):
        limiter.allow(f"c{i}")
    assert len(limiter._buckets) == limits.MAX_CLIENTS


def test_admission_queue_refuses_beyond_its_depth() -> None:
    """One slot, one waiter: a third caller is refused at once (503 overloaded, Retry-After);
    the waiter gets the slot when it is freed."""

    async def scenario() -> list[str]:
        admission = Admission(slots=1, queue_depth=1, wait_s=5.0, retry_after_s=2)
        events: list[str] = []
        release = asyncio.Event()

        async def holder() -> None:
            async with admission.slot():
                events.append("held")
                await release.wait()

        async def waiter() -> None:
            async with admission.slot():
                events.append("waiter ran")

        first = asyncio.create_task(holder())
        await asyncio.sleep(0.05)
        second = asyncio.create_task(waiter())
        await asyncio.sleep(0.05)
        try:
            async with admission.slot():
                events.append("third ran")
        except HttpProblem as exc:
            events.append(f"third refused {exc.code} {exc.headers['Retry-After']}")
        release.set()
        await asyncio.gather(first, second)
        return events

    assert asyncio.run(scenario()) == ["held", "third refused overloaded 2", "waiter ran"]


def test_a_short_call_on_an_idle_worker_runs_on_the_event_loop() -> None:
    """Alone in the worker, a short call runs on the loop's own thread; a call not said short
    runs in a planner thread; with another request counted in the worker, a short one too.
    """

    async def scenario() -> list[bool]:
        admission = Admission(slots=1, queue_depth=1, wait_s=1.0, retry_after_s=1)
        loop_thread = threading.get_ident()
        alone = await admission.run(threading.get_ident, short=True)
        long = await admission.run(threading.get_ident)
        admission.inflight = 2
        beside = await admission.run(threading.get_ident, short=True)
        admission.close()
        return [alone == loop_thread, long == loop_thread, beside == loop_thread]

    assert asyncio.run(scenario()) == [True, False, False]


def test_requests_read_together_are_counted_before_either_plans() -> None:
    """Two requests reaching the guard in the same turn of the loop: the first sees the
    second in the worker and plans in a thread (a burst queues, and is refused beyond the
    queue, as before); the second gets the slot when the first has left, alone, and plans on
    the loop, as does a request alone afterwards.
    """
    admission = Admission(slots=1, queue_depth=4, wait_s=1.0, retry_after_s=1)
    on_loop: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        thread = await admission.run(threading.get_ident, short=True)
        on_loop.append(thread == threading.get_ident())

    guard = Guard(app, ServiceLimits(rate_per_s=1e6, rate_burst=10**6), admission=admission)
    scope = {"type": "http", "path": "/v1/journeys", "headers": [], "client": ("1.2.3.4", 1)}

    async def scenario() -> None:
        async def nothing() -> Any:
            return {"type": "http.request", "body": b""}

        async def ignore(message: Any) -> None:
            return None

        await asyncio.gather(guard(scope, nothing, ignore), guard(scope, nothing, ignore))
        await guard(scope, nothing, ignore)
        assert admission.inflight == 0
        admission.close()

    asyncio.run(scenario())
    assert on_loop == [False, True, True]


def test_overload_answers_503_not_a_queue(demo_net: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Planner calls of 0.3 s, one slot, one waiting place, 0.2 s wait: of six requests at
    once, some are 200 and the rest 503 with Retry-After; none fails otherwise."""
    original = Snapshot.planner

    def slow(self: Snapshot) -> Any:
        time.sleep(0.3)
        return original(self)

    monkeypatch.setattr(Snapshot, "planner", slow)
    settings = ServiceSettings(
        network_dir=demo_net,
        limits=ServiceLimits(planner_slots=1, queue_depth=1, queue_wait_s=0.2),
    )
    with make_client(settings) as c:
        answers: list[Any] = []

        def ask() -> None:
            answers.append(c.get("/v1/journeys", params=JOURNEY))

        threads = [threading.Thread(target=ask) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    codes = sorted(r.status_code for r in answers)
    assert set(codes) == {200, 503}, codes
    for r in answers:
        if r.status_code == 503:
            assert r.headers["retry-after"] == "1"
            assert r.json()["code"] == "overloaded"


def test_job_of_a_dead_process_is_marked_failed(
    client: TestClient, territory: Any, tmp_path: Path
) -> None:
    """Kill a running tour job's process: the next read marks it failed, not running forever."""
    from arverne.fleet.scenarios import write_scenarios

    problem = json.loads(write_scenarios(tmp_path, territory.places)["farm_machines"].read_text())
    r = client.post("/v1/tours", json=problem, params={"time_limit": 30}, headers=AUTH)
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    jobs = client.app.state.context.jobs  # type: ignore[attr-defined]
    with sqlite3.connect(jobs.folder / "jobs.sqlite") as db:
        (pid,) = db.execute("SELECT pid FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    job = client.get(f"/v1/jobs/{job_id}").json()
    while job["status"] != "failed" and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "failed", job
    assert "stopped" in job["message"]
    r = client.get(f"/v1/jobs/{job_id}/results/solution")
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_full_queue_refused_before_parameters_are_parsed(
    demo_net: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every planner slot taken and the queue full: /v1/journeys (even with a broken
    parameter, which would be a 400 otherwise) and /v1/isochrones are answered 503 overloaded
    with Retry-After by the guard before any parsing; /v1/stops, which queues for nothing, is
    answered as usual."""
    settings = ServiceSettings(network_dir=demo_net)
    with make_client(settings) as c:
        admission = c.app.state.context.admission  # type: ignore[attr-defined]
        monkeypatch.setattr(admission, "full", lambda: True)
        for path in ("/v1/journeys?from=nowhere", "/v1/isochrones"):
            r = c.get(path)
            assert r.status_code == 503 and r.json()["code"] == "overloaded", r.text
            assert r.headers["retry-after"] == "1"
        assert c.get("/v1/stops").status_code == 200
        monkeypatch.undo()
        assert c.get("/v1/journeys?from=nowhere").status_code == 400
