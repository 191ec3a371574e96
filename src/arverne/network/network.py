"""The compiled multimodal network: streets + timetable + links, saved as one directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arverne.network.links import StopLinks
from arverne.network.store import (
    part_from_files,
    part_to_files,
    read_manifest,
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
        """Write the network atomically into ``folder`` (replacing an older one) and return it."""
        folder = Path(folder)

        def write(tmp: Path) -> None:
            parts: dict[str, Any] = {}
            for name in PARTS:
                part = getattr(self, name)
                if part is not None:
                    parts[name] = part_to_files(part, tmp / name)
            write_manifest(tmp, {**self.manifest, "parts": parts})

        write_atomically(folder, write)
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, mmap: bool = True) -> Network:
        """Open a compiled network directory; arrays are memory-mapped unless ``mmap=False``."""
        folder = Path(folder)
        manifest = read_manifest(folder)
        values = manifest.get("parts", {})
        parts: dict[str, Any] = {
            name: part_from_files(part_cls, folder / name, values[name], mmap=mmap)
            for name, part_cls in PARTS.items()
            if name in values
        }
        return cls(**parts, manifest=manifest, path=folder)

    def summary(self) -> dict[str, Any]:
        """Counts a person wants to see first (used by ``arverne info``)."""
        out: dict[str, Any] = {"path": str(self.path) if self.path else None}
        out.update(self.manifest.get("counts", {}))
        return out
