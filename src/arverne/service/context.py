"""What every route reaches through ``request``: the service context and its dependencies.

:class:`ServiceContext` is made by :func:`arverne.service.app.create_app` and kept in
``app.state.context``: no module-level state, so two apps in one process never share anything.
Routes take what they need as FastAPI dependencies: :func:`snapshot` (the one network version a
request uses, with its live state), :func:`context` and :func:`require_token` for writes. They
are coroutines: FastAPI runs a plain function dependency in a worker thread, a hop that costs
more than their work. :func:`shared_modes` gives the live bike share and carpool offers a
journey query asks for.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from arverne.service.limits import Admission
from arverne.service.problems import HttpProblem
from arverne.service.settings import ServiceSettings
from arverne.service.snapshot import NetworkHolder, Snapshot

if TYPE_CHECKING:
    from arverne.feeds.carpool import CarpoolOffers
    from arverne.feeds.gbfs import BikeShare
    from arverne.service.jobs import JobStore
    from arverne.service.ledger import ReferenceLedger
    from arverne.service.live import LiveFeeds
    from arverne.service.ondemand import OnDemandDesk


@dataclass
class ServiceContext:
    """The state of one app: its settings, network holder and admission queue."""

    settings: ServiceSettings
    networks: NetworkHolder
    admission: Admission
    jobs: JobStore | None = None
    """The job store (None: the service was started without a job folder)."""
    ondemand: OnDemandDesk | None = None
    """The on-demand booking desk (None: no on-demand service configured)."""
    ledger: ReferenceLedger | None = None
    """The journeys' booking references booked so far (with the desk)."""
    live: LiveFeeds | None = None
    """The live sources read on their schedules (None: the service was given none)."""

    def timezone(self) -> str:
        """The time zone of the network served now."""
        tt = self.networks.snapshot().network.timetable
        return tt.timezone if tt is not None else "UTC"

    def need_ledger(self) -> ReferenceLedger:
        """The booking-reference ledger (made with the on-demand desk)."""
        assert self.ledger is not None, "the ledger is made with the on-demand desk"
        return self.ledger

    def need_jobs(self) -> JobStore:
        """The job store, or a problem saying this service runs no jobs."""
        if self.jobs is None:
            raise HttpProblem("unavailable", "this service was started without a job folder")
        return self.jobs


async def context(request: Request) -> ServiceContext:
    """The app's :class:`ServiceContext`."""
    ctx: ServiceContext = request.app.state.context
    return ctx


async def snapshot(request: Request) -> Snapshot:
    """The network version this request uses, resolved once (FastAPI caches a dependency per
    request, so every part of one request sees the same version); a new version is loaded in
    a worker thread, never on the event loop.
    """
    networks: NetworkHolder = request.app.state.context.networks
    current = networks.current()
    return current if current is not None else await run_in_threadpool(networks.snapshot)


async def require_token(request: Request) -> None:
    """Refuse a write without the configured bearer token (403 when none is configured)."""
    token = request.app.state.context.settings.token
    if token is None:
        raise HttpProblem("writes-disabled", "the service was started without a token")
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        value.strip().encode(), token.encode()
    ):
        raise HttpProblem(
            "unauthorized",
            "this request needs the header 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer realm="arverne"'},
        )


@dataclass(frozen=True)
class Shared:
    """The shared-mobility states a journey query asked for (None: not asked)."""

    bikeshare: BikeShare | None = None
    carpool: CarpoolOffers | None = None


def shared_modes(snap: Snapshot, *, bikeshare: bool, carpool: bool) -> Shared:
    """The request's live bike share and carpool offers, from its own snapshot; asking for one
    the service does not read is an ``invalid-parameter`` problem.
    """
    live = snap.live
    if bikeshare and (live is None or live.bikeshare is None):
        raise HttpProblem("invalid-parameter", "bikeshare=true: this service reads no GBFS feed")
    if carpool and (live is None or live.carpool is None):
        raise HttpProblem("invalid-parameter", "carpool=true: this service reads no carpool offers")
    return Shared(
        bikeshare=live.bikeshare if bikeshare and live is not None else None,
        carpool=live.carpool if carpool and live is not None else None,
    )


Context = Annotated[ServiceContext, Depends(context)]
CurrentSnapshot = Annotated[Snapshot, Depends(snapshot)]
Writer = Depends(require_token)
