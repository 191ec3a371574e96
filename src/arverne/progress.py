"""Progress reporting for long steps: a rich bar on a terminal, silence elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class Steps:
    """Advance through named steps of a long job."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self._progress = progress
        self._task = progress.add_task("", total=total) if progress else None

    def step(self, description: str) -> None:
        """Mark the start of the next step."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=description)

    def done(self) -> None:
        """Mark the current step as finished."""
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)


@contextmanager
def steps(total: int) -> Iterator[Steps]:
    """Show a progress bar over ``total`` steps when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield Steps(None, total)
        return
    # descriptions name input files: plain text, never rich markup
    columns = (TextColumn("{task.description:<32}", markup=False), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        yield Steps(progress, total)
