"""Errors and warnings raised by Arverne.

Every error names what was wrong in one sentence (file, row and field where there is one).
Each subclass also inherits the builtin a caller would naturally catch::

    ArverneError(Exception)
    ├── InputError(ArverneError, ValueError)          bad input at an edge
    │   ├── GtfsError                                 a GTFS feed that cannot be used
    │   ├── OsmError                                  an OSM extract that cannot be used
    │   └── ProblemError                              a tour or booking problem that is invalid
    ├── NetworkStoreError(ArverneError, OSError)      a compiled network that cannot be read or written
    ├── NoRouteError(ArverneError, LookupError)       a query with no answer, with its reason
    ├── OfferExpiredError(ArverneError, LookupError)  an on-demand offer no longer bookable as shown
    └── StoreError(ArverneError, RuntimeError)        bookings store failure
"""

from __future__ import annotations


class ArverneError(Exception):
    """Base class of every error raised on purpose by Arverne."""


class InputError(ArverneError, ValueError):
    """Input that cannot be used as given."""


class GtfsError(InputError):
    """A GTFS feed that cannot be used at all (bad rows only give notices)."""


class OsmError(InputError):
    """An OpenStreetMap extract that cannot be used."""


class ProblemError(InputError):
    """A tour-optimisation or booking problem that is not valid."""


class NetworkStoreError(ArverneError, OSError):
    """A compiled network directory that cannot be read or written.

    Raised by ``Network.load`` for every damaged or edited network (a file truncated or of the
    wrong dtype, shape or index range; a manifest off its schema; a path that is no network),
    and by a write whose output is a file, a foreign folder or lies inside a network.
    """


class NoRouteError(ArverneError, LookupError):
    """A query that has no answer; ``reason`` says why in a stable, machine-readable word."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class OfferExpiredError(ArverneError, LookupError):
    """An on-demand offer that can no longer be booked with the times it showed (the vehicle
    plans changed since); nothing was booked, plan the journey again.
    """


class StoreError(ArverneError, RuntimeError):
    """The bookings store could not complete an operation."""


class ArverneWarning(UserWarning):
    """Base class of Arverne's warnings."""


class FallbackWarning(ArverneWarning):
    """A result was computed with a labelled fallback (e.g. straight-line travel times)."""
