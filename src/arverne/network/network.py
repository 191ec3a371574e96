"""The compiled multimodal network: streets + timetable + links, saved as one directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arverne.errors import NetworkStoreError
from arverne.network.links import StopLinks
from arverne.network.schema import check_arrays, check_manifest, check_values
from arverne.network.store import (
    file_digests,
    part_fields_from_files,
    part_to_files,
    read_version_manifest,
    resolve_version,
    verify_digests,
    write_atomically,
    write_manifest,
)
from arverne.network.streets import StreetGraph
from arverne.network.timetable import Timetable

PARTS: dict[str, type] = {"streets": StreetGraph, "timetable": Timetable, "links": StopLinks}


@dataclass(frozen=True)
class Network:
    """An immutable multimodal network; any part may be absent (a timetable without streets)."""

    streets: StreetGraph | None = None
    timetable: Timetable | None = None
    links: StopLinks | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    """Inputs (path, sha256), build parameters, counts, notices summary, schema version."""
    path: Path | None = None
    """Directory the network was loaded from, if any."""

    def save(self, folder: str | Path) -> Path:
        """Write the network as the new current version of ``folder`` and return ``folder``.

        Readers of ``folder`` see the old network or this one, never none; a ``folder`` that
        holds something other than a network is refused (see :mod:`arverne.network.store`).
        """
        folder = Path(folder)

        def write(tmp: Path) -> None:
            parts: dict[str, Any] = {}
            for name in PARTS:
                part = getattr(self, name)
                if part is not None:
                    parts[name] = part_to_files(part, tmp / name)
            manifest = {**self.manifest, "parts": parts, "files": file_digests(tmp)}
            write_manifest(tmp, manifest)

        write_atomically(folder, write)
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, mmap: bool = True, verify: bool = False) -> Network:
        """Open a compiled network directory, checked before any kernel sees it.

        The manifest is checked against its schema and every array against its declared dtype,
        shape and index ranges (:mod:`arverne.network.schema`); these checks are vectorised and
        cheap. ``verify`` also compares every array file with the sha256 recorded at build time.
        Arrays are memory-mapped unless ``mmap=False``.

        Raises
        ------
        NetworkStoreError
            When the directory is not a network or any file is damaged, in one sentence.
        """
        folder = Path(folder)
        version = resolve_version(folder)
        try:
            parts, manifest = _read_version(version, mmap=mmap, verify=verify)
        except NetworkStoreError:
            if resolve_version(folder) == version:
                raise
            # a writer swapped in a new version and removed this one while we read it
            version = resolve_version(folder)
            parts, manifest = _read_version(version, mmap=mmap, verify=verify)
        return cls(**parts, manifest=manifest, path=folder)

    def summary(self) -> dict[str, Any]:
        """Counts a person wants to see first (used by ``arverne info``)."""
        out: dict[str, Any] = {"path": str(self.path) if self.path else None}
        out.update(self.manifest.get("counts", {}))
        return out


def _read_version(
    version: Path, *, mmap: bool, verify: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The checked parts and the manifest of one version folder."""
    manifest = read_version_manifest(version)
    check_manifest(manifest, str(version))
    if verify:
        verify_digests(version, manifest.get("files"))
    values = manifest.get("parts", {})
    fields: dict[str, dict[str, Any]] = {}
    for name, part_cls in PARTS.items():
        if name in values:
            check_values(name, part_cls, values[name], str(version))
            fields[name] = part_fields_from_files(part_cls, version / name, values[name], mmap=mmap)
    check_arrays(fields, str(version))
    parts = {name: PARTS[name](**part_fields) for name, part_fields in fields.items()}
    return parts, manifest
