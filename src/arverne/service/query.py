"""A query string read into one Pydantic model in one validation: :class:`QueryModel`.

FastAPI reads each declared query parameter on its own, in Python (0.14 ms for the twenty of
``/v1/journeys``, against 0.013 ms for one ``model_validate`` of the same values: a twentieth
of a journey's planning). A hot endpoint declares its parameters as a model instead and takes
``Annotated[Model, Depends(QueryModel(Model))]``; the route passes ``openapi_extra`` of the
same object, so the OpenAPI contract lists every parameter as FastAPI would. Errors are
FastAPI's own :class:`RequestValidationError`, located at ``("query", <name>)``.
"""

from __future__ import annotations

import typing
from typing import Any, Generic, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class QueryModel(Generic[M]):
    """A dependency reading the query string into ``model`` (fields named by their alias;
    list fields take every repeated value, the others the last one; unknown names ignored).
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        schema = model.model_json_schema(by_alias=True)["properties"]
        self.names: dict[str, bool] = {}
        """Each parameter's name and whether it is a list."""
        parameters = []
        for name, field in model.model_fields.items():
            alias = field.alias or name
            self.names[alias] = _is_list(field.annotation)
            parameter: dict[str, Any] = {
                "name": alias,
                "in": "query",
                "required": field.is_required(),
                "schema": schema[alias],
            }
            if field.description:
                parameter["description"] = field.description
            parameters.append(parameter)
        self.openapi_extra: dict[str, Any] = {"parameters": parameters}
        """The route's ``openapi_extra``: the parameters in the OpenAPI document."""

    async def __call__(self, request: Request) -> M:
        """The request's query as the model, or FastAPI's validation error."""
        query = request.query_params
        values = {
            name: query.getlist(name) if is_list else query[name]
            for name, is_list in self.names.items()
            if name in query
        }
        try:
            return self.model.model_validate(values)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**error, "loc": ("query", *error["loc"])} for error in exc.errors()]
            ) from None


def _is_list(annotation: Any) -> bool:
    """Whether a field's type is a list (or an optional list)."""
    if typing.get_origin(annotation) is list:
        return True
    return any(typing.get_origin(arg) is list for arg in typing.get_args(annotation))
