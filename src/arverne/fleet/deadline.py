"""One time budget for a whole solve: every phase asks the same deadline how much time is left.

A solve builds its travel matrix, checks who can serve what, builds the solver's model, searches,
and may repair and search again when the fleet is too small; each phase takes what is left, so
the total stays within the time asked (see :func:`arverne.fleet.tours.solve_tours`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from arverne.errors import ProblemError


def check_seconds(name: str, value: float) -> float:
    """``value`` as a float when it is a positive, finite number of seconds, else ProblemError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError(f"solve_tours: {name} must be positive, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ProblemError(f"solve_tours: {name} must be positive and finite, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Deadline:
    """A moment on :func:`time.perf_counter`'s clock by which the work must be done."""

    start_s: float
    end_s: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now (checked with :func:`check_seconds`)."""
        now = time.perf_counter()
        return cls(now, now + check_seconds("max_runtime", seconds))

    def share(self, fraction: float) -> Deadline:
        """An earlier deadline, after ``fraction`` (0 to 1) of the time left."""
        now = time.perf_counter()
        return Deadline(self.start_s, now + fraction * max(0.0, self.end_s - now))

    def left_s(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self.end_s - time.perf_counter())

    def elapsed_s(self) -> float:
        """Seconds since the deadline was set."""
        return time.perf_counter() - self.start_s

    @property
    def passed(self) -> bool:
        """Whether the deadline has passed."""
        return time.perf_counter() >= self.end_s
