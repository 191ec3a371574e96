"""``GET /v1/status``: the network version served, its feeds and their validity, build time."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from arverne import __version__
from arverne.service.context import Context, CurrentSnapshot
from arverne.service.problems import COMMON_ERRORS, problem_responses

router = APIRouter(prefix="/v1", tags=["status"])


class FeedOut(BaseModel):
    """One merged GTFS feed and the first and last day one of its services runs."""

    name: str
    start_date: dt.date | None
    end_date: dt.date | None


class NetworkOut(BaseModel):
    """The network version a request was answered from."""

    version: str
    built_at: dt.datetime | None
    loaded_at: dt.datetime
    timezone: str | None
    counts: dict[str, int | float | str]
    feeds: list[FeedOut]


class SourceOut(BaseModel):
    """One live source and its last reads (a failed one keeps its last good state)."""

    kind: str = Field(description="gtfs-rt, gbfs or carpool")
    source: str = Field(description="a URL without its query, or a file name")
    every_s: float
    read_at: dt.datetime | None = Field(description="last good read (the state in use)")
    tried_at: dt.datetime | None
    error: str | None = Field(description="why the last read failed; null when it worked")


class LiveOut(BaseModel):
    """The live state requests are answered with (this worker's)."""

    generation: int
    sources: list[SourceOut]
    realtime: dict[str, Any] | None = Field(
        description="timestamp, counts (trip updates matched, cancelled, ...), notice codes"
    )
    bikeshare: dict[str, Any] | None
    carpool: dict[str, Any] | None


class StatusOut(BaseModel):
    """What the service is and what it serves."""

    service: str = "arverne"
    software_version: str
    network: NetworkOut
    writes_enabled: bool
    ondemand: bool
    jobs: bool
    limits: dict[str, int | float]
    """The bounds requests are checked against (window, problem size, body size, rate...)."""
    live: LiveOut | None = None
    """Live sources (GTFS-realtime, GBFS, carpool) and what they said; null: none read."""


@router.get("/status", response_model=StatusOut, responses=problem_responses(*COMMON_ERRORS))
def get_status(ctx: Context, snap: CurrentSnapshot) -> StatusOut:
    """The network version served (its id changes when a new one is swapped in), the feeds it
    merges with their validity dates, its build time, and the live sources' state.
    """
    tt = snap.network.timetable
    counts = {
        k: v
        for k, v in snap.network.manifest.get("counts", {}).items()
        if isinstance(v, int | float | str) and not isinstance(v, bool)
    }
    return StatusOut(
        software_version=__version__,
        network=NetworkOut(
            version=snap.version,
            built_at=snap.built_at,
            loaded_at=snap.loaded_at,
            timezone=tt.timezone if tt is not None else None,
            counts=counts,
            feeds=[FeedOut(**f) for f in snap.feeds()],
        ),
        writes_enabled=ctx.settings.token is not None,
        ondemand=ctx.ondemand is not None,
        jobs=ctx.jobs is not None,
        limits=dataclasses.asdict(ctx.settings.limits),
        live=LiveOut(**snap.live.summary()) if snap.live is not None else None,
    )
