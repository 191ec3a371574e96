"""Protection before any computation: body size, per-client rate, a bounded planner queue.

:class:`Guard` is a plain ASGI middleware (no per-request task or body copy): it refuses a body
larger than the limit (by its Content-Length, or while it streams) and a client over its rate
(token bucket per address). The buckets are shared by every worker process of a service
(:class:`SharedRateLimiter`, one SQLite file in WAL mode in the folder the workers share) so a
client gets the same rate from one worker as from four; an app made alone keeps them in memory
(:class:`RateLimiter`). :class:`Admission` bounds the planner work of a
worker: ``slots`` calls run, ``queue_depth`` wait at most ``queue_wait_s``; any other request is
answered 503 with Retry-After at once rather than queued without bound. The Guard also counts
the requests inside the app, so that a short planner call on an otherwise idle worker can run
on the event loop itself (:meth:`Admission.run`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from starlette.exceptions import HTTPException

from arverne.service.problems import HttpProblem, problem_body
from arverne.service.settings import ServiceLimits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_CLIENTS = 10_000
"""Client buckets kept per worker (least recently seen dropped first): memory stays bounded."""
RATE_FILE = "rate.sqlite"
"""The shared buckets' file, in the folder the workers share."""
PRUNE_EVERY = 1000
"""Requests between two removals of full buckets from the shared file (it stays small)."""

log = logging.getLogger("arverne.service")
T = TypeVar("T")


class BodyTooLarge(HTTPException):
    """A streamed request body passed the limit (raised from ``receive``; an HTTP 413, so the
    framework's body parsing passes it on rather than calling it a parse error).
    """

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


class RateLimiter:
    """Token buckets per client address: ``rate`` per second sustained, ``burst`` at once."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, client: str) -> bool:
        """Take one token of ``client``'s bucket; False when it is empty."""
        now = self.clock()
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return allowed


class Limiter(Protocol):
    """What :class:`Guard` asks of a rate limiter."""

    def allow(self, client: str) -> bool:
        """Take one token of ``client``'s bucket; False when it is empty."""


class SharedRateLimiter:
    """Token buckets per client address in one SQLite file that several processes share.

    Each request is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement: SQLite
    runs it atomically under its write lock, so two workers never both take a client's last
    token. The time is the system-wide monotonic clock (the same for every process of one
    machine). Buckets that refilled completely carry no information and are pruned.

    Parameters
    ----------
    folder
        The folder every worker of the service shares (the file is made there).
    rate, burst
        As :class:`RateLimiter`.
    clock
        Seconds, the same in every process.
    """

    _TAKE = """
        INSERT INTO bucket (client, tokens, at, ok) VALUES (?1, ?2 - 1.0, ?3, 1)
        ON CONFLICT (client) DO UPDATE SET
            ok = min(?2, tokens + max(?3 - at, 0.0) * ?4) >= 1.0,
            tokens = min(?2, tokens + max(?3 - at, 0.0) * ?4)
                - (min(?2, tokens + max(?3 - at, 0.0) * ?4) >= 1.0),
            at = max(at, ?3)
        RETURNING ok
    """

    def __init__(
        self,
        folder: Path,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(folder) / RATE_FILE
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self._db = sqlite3.connect(self.path, timeout=0.5, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")  # counts, not records: a crash may lose them
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS bucket (client TEXT PRIMARY KEY, tokens REAL NOT NULL,"
            " at REAL NOT NULL, ok INTEGER NOT NULL)"
        )
        self._db.commit()
        self._lock = threading.Lock()
        self._count = 0

    def allow(self, client: str) -> bool:
        """Take one token of ``client``'s bucket; False when it is empty.

        A store that cannot answer in time (locked longer than its timeout, disk full) lets
        the request through and says so in the log: the limit protects the service, it must
        not stop it.
        """
        now = self.clock()
        try:
            with self._lock, self._db:
                row = self._db.execute(self._TAKE, (client, self.burst, now, self.rate)).fetchone()
                self._count += 1
                if self._count % PRUNE_EVERY == 0:
                    self._db.execute(
                        "DELETE FROM bucket WHERE at < ?", (now - self.burst / self.rate,)
                    )
        except sqlite3.Error as exc:
            log.warning("rate store %s unavailable (%s): request let through", self.path, exc)
            return True
        return bool(row[0])


class Guard:
    """ASGI middleware: body-size limit, per-client rate limit and, for the ``queued`` paths,
    a full planner queue, before the app runs.

    Refusing a request the queue cannot take here, before the framework parses and validates
    its parameters, keeps an overloaded worker's time for the requests it accepted.
    ``shared_dir``: the folder the service's workers share (their rate buckets live there);
    None keeps them in this process's memory.
    """

    def __init__(
        self,
        app: ASGIApp,
        limits: ServiceLimits,
        shared_dir: Path | None = None,
        admission: Admission | None = None,
        queued: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.limits = limits
        self.rate: Limiter = (
            SharedRateLimiter(shared_dir, limits.rate_per_s, limits.rate_burst)
            if shared_dir is not None
            else RateLimiter(limits.rate_per_s, limits.rate_burst)
        )
        self.admission = admission
        self.queued = frozenset(queued)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an over-rate client or an oversized body; otherwise call the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        if not self.rate.allow(client[0] if client else "?"):
            retry = str(self.limits.retry_after_s)
            await _send_problem(
                send, "rate-limited", "this client sent too many requests", {"Retry-After": retry}
            )
            return
        if self.admission is not None and scope["path"] in self.queued and self.admission.full():
            await _send_problem(
                send,
                "overloaded",
                "the planner queue is full",
                {"Retry-After": str(self.admission.retry_after_s)},
            )
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limits.max_body_bytes:
            await _send_problem(
                send,
                "body-too-large",
                f"the body has {declared} bytes, more than {self.limits.max_body_bytes}",
            )
            return
        if declared is None and any(k == b"transfer-encoding" for k, _ in scope["headers"]):
            receive = self._counted(receive)
        if self.admission is None:
            await self.app(scope, receive, send)
            return
        self.admission.inflight += 1
        try:
            # one turn of the loop: the requests read with this one are counted before any plans
            await asyncio.sleep(0)
            await self.app(scope, receive, send)
        finally:
            self.admission.inflight -= 1

    def _counted(self, receive: Receive) -> Receive:
        """``receive`` that raises :class:`BodyTooLarge` once the streamed body passes the limit."""
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limits.max_body_bytes:
                raise BodyTooLarge(f"the body has more than {self.limits.max_body_bytes} bytes")
            return message

        return counted


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_problem(
    send: Send, code: str, detail: str, headers: dict[str, str] | None = None
) -> None:
    import json

    body = json.dumps(problem_body(code, detail)).encode()
    status = problem_body(code, detail)["status"]
    raw = [(b"content-type", b"application/problem+json"), (b"content-length", b"%d" % len(body))]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class Admission:
    """A bounded queue in front of the planner of one worker process (see the module doc).

    :meth:`run` calls the planner in one of the admission's own ``slots`` threads, so the event
    loop answers other requests meanwhile (a range search lets it run every few milliseconds;
    the compiled kernels hold the GIL in between). A short call on an idle worker runs on the
    loop instead: there is nobody to answer meanwhile, and the hand-over to a thread and back
    wakes another core twice (0.23 ms on the 2-core VM, a twentieth of a journey's planning).
    """

    def __init__(self, slots: int, queue_depth: int, wait_s: float, retry_after_s: int) -> None:
        self.slots = slots
        self.queue_depth = queue_depth
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self._semaphore: asyncio.Semaphore | None = None  # made in the serving event loop
        self.waiting = 0
        self.inflight = 0
        """Requests inside the app now (counted by :class:`Guard`)."""
        self._threads: ThreadPoolExecutor | None = None  # made at the first call

    async def run(self, fn: Callable[..., T], *args: Any, short: bool = False) -> T:
        """``fn(*args)`` once a slot is free (see :meth:`slot`): in a planner thread, or on the
        event loop when the call is ``short`` (a few milliseconds, CPU only: no lock another
        thread may hold) and no other request is in this worker.
        """
        async with self.slot():
            if short and self.inflight <= 1 and self.waiting == 0:
                return fn(*args)
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.slots, thread_name_prefix="arverne-plan")
            return await asyncio.get_running_loop().run_in_executor(self._threads, fn, *args)

    def close(self) -> None:
        """Stop the planner threads (when the app stops; a later call makes new ones)."""
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False)

    def full(self) -> bool:
        """Whether a request arriving now would be refused at once (every slot taken and the
        queue full).
        """
        semaphore = self._semaphore
        return semaphore is not None and semaphore.locked() and self.waiting >= self.queue_depth

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a planner slot; raise an ``overloaded`` problem when none comes in time."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.slots)
        semaphore = self._semaphore
        if self.full():
            raise self._overloaded("the planner queue is full")
        if semaphore.locked():
            self.waiting += 1
            try:
                await asyncio.wait_for(semaphore.acquire(), self.wait_s)
            except TimeoutError:
                raise self._overloaded("no planner slot freed in time") from None
            finally:
                self.waiting -= 1
        else:  # a free slot: taken at once, without wait_for's extra task
            await semaphore.acquire()
        try:
            yield
        finally:
            semaphore.release()

    def _overloaded(self, detail: str) -> HttpProblem:
        return HttpProblem("overloaded", detail, headers={"Retry-After": str(self.retry_after_s)})
