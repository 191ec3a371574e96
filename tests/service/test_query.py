"""Query models read in one validation (service.query.QueryModel), checked against FastAPI's own
reading of the same model (``Annotated[Model, Query()]``): the same values, the same refusals,
the same parameters in the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from arverne.service.app import _add_error_handlers
from arverne.service.limits import Admission
from arverne.service.query import QueryModel
from arverne.service.routes.journeys import JOURNEY_QUERY, JourneyQuery


def _apps() -> tuple[TestClient, TestClient]:
    """Two apps answering the journey query as JSON: read by QueryModel, and by FastAPI."""
    ours, fastapi = FastAPI(), FastAPI()
    for app in (ours, fastapi):
        _add_error_handlers(app)

    @ours.get("/q", openapi_extra=JOURNEY_QUERY.openapi_extra)
    async def read_ours(q: Annotated[JourneyQuery, Depends(JOURNEY_QUERY)]) -> Any:
        return q.model_dump(mode="json")

    @fastapi.get("/q")
    async def read_fastapi(q: Annotated[JourneyQuery, Query()]) -> Any:
        return q.model_dump(mode="json")

    return TestClient(ours), TestClient(fastapi)


OURS, FASTAPI = _apps()

_VALUES = st.sampled_from(
    ["", "0", "1", "-3", "12", "7201", "2.5", "0.05", "true", "false", "yes", "off", "x",
     "walk", "bike", "car", "departure", "arrival", "3.1;45.7", "line:A", "mode:bus",
     "20261130T0700", "é", "a" * 201]
)  # fmt: skip
_NAMES = st.sampled_from([*JOURNEY_QUERY.names, "from_", "count", "depth"])


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(_NAMES, _VALUES), max_size=8), required=st.booleans())
def test_journey_query_reads_as_fastapi_reads_it(
    pairs: list[tuple[str, str]], required: bool
) -> None:
    """Random query strings (known names, repeated, unknown ones, good and bad values, with or
    without the required places): the same status and the same model, or the same problem
    (naming the same parameter), as FastAPI's own reading of the model.
    """
    if required:
        pairs = [("from", "3.1;45.7"), ("to", "3.2;45.8"), *pairs]
    url = "/q?" + urllib.parse.urlencode(pairs)
    ours, theirs = OURS.get(url), FASTAPI.get(url)
    assert ours.status_code == theirs.status_code
    if ours.status_code == 200:
        assert ours.json() == theirs.json()
    else:
        assert ours.json() == theirs.json()
        assert ours.json()["code"] == "invalid-parameter"


def test_openapi_lists_the_parameters_as_fastapi_does() -> None:
    """The document lists every field by its alias, required or not, with FastAPI's schema."""
    ours = OURS.get("/openapi.json").json()["paths"]["/q"]["get"]["parameters"]
    theirs = FASTAPI.get("/openapi.json").json()["paths"]["/q"]["get"]["parameters"]
    assert ours == theirs


def test_a_bad_value_is_named_in_the_problem() -> None:
    """A bad list item and a number out of range are named in the problem's detail."""
    bad_mode = OURS.get("/q?from=a&to=b&first_section_mode[]=walk&first_section_mode[]=boat")
    assert bad_mode.status_code == 400
    assert bad_mode.json()["detail"].startswith("first_section_mode[].1:")
    too_long = OURS.get("/q?from=a&to=b&max_walking_duration_to_pt=9000")
    assert too_long.json()["detail"].startswith("max_walking_duration_to_pt:")


def test_lists_take_every_value_others_the_last() -> None:
    """Repeated list parameters keep every value in order; a repeated plain one its last."""
    r = OURS.get("/q?from=a&from=b&to=c&forbidden_uris[]=line:A&forbidden_uris[]=mode:bus")
    assert r.json()["from_"] == "b"
    assert r.json()["forbidden_uris"] == ["line:A", "mode:bus"]


def test_the_model_name_is_not_a_parameter() -> None:
    """``from_`` (the Python name) is not ``from``: the place is missing, a 400."""
    assert OURS.get("/q?from_=a&to=b").status_code == 400


def test_planner_threads_come_back_after_the_app_stopped() -> None:
    """An app stopped and started again (its lifespan run twice, as test clients do) plans
    again: the admission's threads are made anew after close.
    """

    async def scenario() -> list[int]:
        admission = Admission(slots=1, queue_depth=1, wait_s=1.0, retry_after_s=1)
        first = await admission.run(lambda: 1)
        admission.close()
        second = await admission.run(lambda: 2)
        admission.close()
        return [first, second]

    assert asyncio.run(scenario()) == [1, 2]


def test_query_model_of_a_small_model() -> None:
    """A model of two fields (one a list): its parameters and its reading."""
    from pydantic import BaseModel, Field

    class Small(BaseModel):
        name: str = Field(description="a name")
        tags: list[int] | None = Field(None, alias="tag")

    small = QueryModel(Small)
    assert small.names == {"name": False, "tag": True}
    assert [p["name"] for p in small.openapi_extra["parameters"]] == ["name", "tag"]
    assert small.openapi_extra["parameters"][0]["required"] is True
    assert small.openapi_extra["parameters"][0]["description"] == "a name"
