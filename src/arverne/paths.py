"""Checks of the paths a user gives: inputs that can be read, outputs that harm no input.

One place for the rules that the command line and the network build both apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from arverne.errors import InputError


def check_input(path: Path) -> Path:
    """Refuse an input that is missing or neither a regular file nor a folder (a named pipe
    or a device would block the reader forever).
    """
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if not (path.is_file() or path.is_dir()):
        raise InputError(f"{path}: not a regular file or a directory")
    return path


def check_outside_inputs(out: Path, inputs: Iterable[Path], *, holds: bool = False) -> Path:
    """Refuse an output that is an input or lies inside one (and, with ``holds``, one that
    holds an input: a folder that a writer may empty).
    """
    target = out.resolve()
    for path in inputs:
        source = path.resolve()
        if target == source or target.is_relative_to(source):
            raise InputError(f"{out}: the output lies inside the input {path}; choose another")
        if holds and source.is_relative_to(target):
            raise InputError(f"{out}: the output holds the input {path}; choose another")
    return out
