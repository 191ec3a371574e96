"""What every subcommand shares: the Typer app, the two consoles, output checks, option
parsers, and :func:`main`, which turns Arverne errors into one line and an exit code.

Exit codes: 0 done; 1 notices at or above ``--fail-on`` (validate) or nothing found (plan);
2 bad command line; 3 input refused (with a one-sentence reason); 4 internal error.
"""

from __future__ import annotations

import contextlib
import datetime
import sys
import warnings
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from arverne.errors import ArverneError, InputError, NetworkStoreError
from arverne.feeds.limits import ReadLimits
from arverne.paths import check_outside_inputs

EXIT_NOTICES = 1
EXIT_REFUSED = 3
EXIT_INTERNAL = 4


class FailOn(StrEnum):
    """Severities ``--fail-on`` accepts."""

    ERROR = "ERROR"
    WARNING = "WARNING"
    INFO = "INFO"


app = typer.Typer(add_completion=False, no_args_is_help=True, help="Arverne: open smart mobility.")
# Everything printed on ``out`` may hold text from data (ids, names, paths): never read it as
# rich markup or emoji codes. ``err`` styles its own words and escapes the rest.
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def output_file(path: Path, *inputs: Path) -> Path:
    """Refuse an output file that is a folder, or that is (or lies inside) an input."""
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give a file name to write")
    return check_outside_inputs(path, inputs)


def output_dir(path: Path, *inputs: Path) -> Path:
    """Refuse an output folder that is a file, or that is (or lies inside) an input: checked
    before any work, so that a long solve never ends in a refusal to write.
    """
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: is a file, not a folder; give a folder to write into")
    return check_outside_inputs(path, inputs)


LimitOption = Annotated[
    list[str] | None,
    typer.Option(help="raise a read limit, NAME=VALUE (repeatable; README: Limits)"),
]


def read_limits(settings: list[str] | None) -> ReadLimits:
    """The read limits ``--limit NAME=VALUE`` options set; a bad one is a bad command line."""
    try:
        return ReadLimits.parse(settings or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--limit") from None


def comma_names(text: str) -> tuple[str, ...]:
    """A comma-separated option as a tuple of names."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Print each warning raised inside as one readable line (no file, no line number)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield
        finally:
            for w in caught:
                err.print(f"[yellow]warning:[/yellow] {escape(' '.join(str(w.message).split()))}")


AT_YEARS = (1900, 2199)
"""Years ``--at`` accepts: dates outside cannot be a timetable's (and overflow time arithmetic)."""


def parse_at(at: str) -> datetime.datetime:
    """The ``--at`` option as a naive local datetime, refused in one sentence when impossible."""
    try:
        when = datetime.datetime.strptime(at.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise InputError(f"--at {at!r} is not 'YYYY-MM-DD HH:MM'") from None
    if not AT_YEARS[0] <= when.year <= AT_YEARS[1]:
        raise InputError(f"--at {at!r}: the year must lie in {AT_YEARS[0]}..{AT_YEARS[1]}")
    return when


def print_summary(summary: dict[str, object]) -> None:
    """Print a summary as aligned ``key  value`` lines."""
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        out.print(f"{key:<{width}}  {value}")


def main() -> None:
    """Entry point: run the app, turning Arverne errors into one line and an exit code."""
    try:
        # Without standalone mode click returns (not raises) the code of typer.Exit.
        with _warnings_as_lines():
            code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (InputError, NetworkStoreError) as exc:
        err.print(f"[red]refused:[/red] {escape(str(exc))}")
        sys.exit(EXIT_REFUSED)
    except ArverneError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        sys.exit(EXIT_REFUSED)
    except OSError as exc:  # a path given on the command line cannot be used as asked
        if exc.filename is None:
            _internal_error(exc)
        reason = (exc.strerror or type(exc).__name__).lower()
        err.print(f"[red]refused:[/red] {escape(str(exc.filename))}: {escape(reason)}")
        sys.exit(EXIT_REFUSED)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:  # a bad command line: click's message, exit 2
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)
    except Exception as exc:
        _internal_error(exc)


def _internal_error(exc: BaseException) -> NoReturn:
    err.print(f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))}")
    sys.exit(EXIT_INTERNAL)
