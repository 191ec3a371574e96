"""One module per resource; each defines ``router`` (a FastAPI ``APIRouter``).

:func:`routers` finds them: a new resource is a new module here, registered by
:func:`arverne.service.app.create_app` without editing any other file.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from fastapi import APIRouter


def routers() -> Iterator[APIRouter]:
    """The ``router`` of every module of this package, in module-name order."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            yield router
