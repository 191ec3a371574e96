"""The network store: arrays saved as .npy plus a manifest, memory-mapped, written atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from arverne.errors import NetworkStoreError
from arverne.network.store import (
    part_from_files,
    part_to_files,
    read_manifest,
    write_atomically,
    write_manifest,
)


@dataclass(frozen=True)
class _Part:
    name: str
    values: np.ndarray
    labels: np.ndarray


def test_part_round_trip_is_memory_mapped(tmp_path: Path) -> None:
    """A part written to disk comes back equal, its arrays memory-mapped and read-only."""
    part = _Part("x", np.arange(5, dtype=np.int32), np.array(["a", "bé"]))
    values = part_to_files(part, tmp_path / "p")
    back = part_from_files(_Part, tmp_path / "p", values, mmap=True)
    assert back.name == "x"
    assert isinstance(back.values, np.memmap)
    np.testing.assert_array_equal(back.values, part.values)
    np.testing.assert_array_equal(back.labels, part.labels)
    with pytest.raises(ValueError):
        back.values[0] = 1


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    """An object array would need pickle: the store refuses it with a message naming the field."""
    part = _Part("x", np.array([{"a": 1}], dtype=object), np.array(["a"]))
    with pytest.raises(NetworkStoreError, match=r"_Part\.values"):
        part_to_files(part, tmp_path / "p")


def test_failed_write_leaves_previous_directory_intact(tmp_path: Path) -> None:
    """A write that fails half-way leaves the old directory as it was and no temporary litter."""
    target = tmp_path / "net"
    write_atomically(target, lambda d: write_manifest(d, {"counts": {"stops": 1}}))

    def failing(folder: Path) -> None:
        write_manifest(folder, {"counts": {"stops": 2}})
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(target, failing)
    assert read_manifest(target)["counts"] == {"stops": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net"]


def test_manifest_schema_version_is_checked(tmp_path: Path) -> None:
    """A network written by another schema version is refused with a request to rebuild."""
    (tmp_path / "manifest.json").write_text(json.dumps({"schema_version": 999}))
    with pytest.raises(NetworkStoreError, match="rebuild"):
        read_manifest(tmp_path)
    with pytest.raises(NetworkStoreError, match="not a compiled network"):
        read_manifest(tmp_path / "missing")


def test_schema_declares_every_array_field_of_every_part() -> None:
    """Each array field of StreetGraph, Timetable and StopLinks has a declared layout, and the
    schema declares no field the parts do not have: a new field cannot skip the load checks."""
    import dataclasses
    import typing

    from arverne.network.network import PARTS
    from arverne.network.schema import ARRAYS

    for name, cls in PARTS.items():
        hints = typing.get_type_hints(cls)
        arrays = {f.name for f in dataclasses.fields(cls) if hints[f.name] is np.ndarray}
        assert arrays == set(ARRAYS[name]), name
