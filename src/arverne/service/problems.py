"""Errors as ``application/problem+json`` (RFC 9457) with stable type ids.

Every refusal the service sends is a :class:`Problem`: ``type`` is ``urn:arverne:problem:<code>``
where ``code`` is one of :data:`PROBLEMS` (stable: clients may branch on it), ``title`` is the
code's fixed summary and ``detail`` the one sentence that says what was wrong in this request.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:arverne:problem:"

PROBLEMS: dict[str, tuple[int, str]] = {
    "invalid-parameter": (400, "A request parameter is not valid"),
    "limit-exceeded": (400, "The request asks for more than the service's limits allow"),
    "unauthorized": (401, "A valid bearer token is required"),
    "writes-disabled": (403, "This service accepts no writes (no token is configured)"),
    "not-found": (404, "No such resource"),
    "no-route": (404, "No journey answers the query"),
    "method-not-allowed": (405, "Method not allowed on this resource"),
    "conflict": (409, "The resource is not in a state that allows this"),
    "offer-expired": (409, "The offer can no longer be booked as shown; plan the journey again"),
    "body-too-large": (413, "The request body is larger than the service accepts"),
    "unsupported-media-type": (415, "The request body must be application/json"),
    "rate-limited": (429, "Too many requests from this client"),
    "internal": (500, "Internal error"),
    "overloaded": (503, "The service is busy; retry after the given delay"),
    "unavailable": (503, "The service cannot answer now"),
}
"""code -> (HTTP status, title)."""


class Problem(BaseModel):
    """An RFC 9457 problem detail, with Arverne's stable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:arverne:problem:<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="stable id of the problem, one of the documented codes")
    reason: str | None = Field(
        default=None, description="machine-readable cause (no-route: outside_calendar, ...)"
    )


class HttpProblem(Exception):
    """Raised anywhere in the HTTP layer; answered as a problem document."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        if code not in PROBLEMS:
            raise ValueError(f"unknown problem code {code!r}")
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The JSON document of a problem."""
    status, title = PROBLEMS[code]
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem as a response, with its status and media type."""
    return JSONResponse(
        problem_body(code, detail, **extra),
        status_code=PROBLEMS[code][0],
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses, documented as problem documents."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        codes = [c for c, (s, _) in PROBLEMS.items() if s == status]
        out[status] = {
            "model": Problem,
            "description": "problem: " + ", ".join(codes),
        }
    return out


COMMON_ERRORS = (400, 413, 429, 500, 503)
"""Statuses any endpoint may answer (bad input, body, rate, internal, overload)."""
