"""Save and load compiled network parts as .npy arrays plus a JSON manifest.

A *part* is a frozen dataclass whose fields are numpy arrays or JSON values (str, int, float,
bool, list, dict, None). Arrays go to ``<part>/<field>.npy`` (never pickled, so string columns
use fixed-width unicode dtypes); everything else goes to the manifest. Loading memory-maps the
arrays, so opening a network costs milliseconds whatever its size.

The directory is written elsewhere and renamed into place: a reader sees the old network or the
new one, never a half-written one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from arverne.errors import NetworkStoreError

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"

Part = TypeVar("Part")


def part_to_files(part: Any, folder: Path) -> dict[str, Any]:
    """Write the array fields of ``part`` under ``folder``; return its JSON fields."""
    folder.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(part):
        value = getattr(part, field.name)
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise NetworkStoreError(
                    f"{type(part).__name__}.{field.name}: object arrays cannot be stored"
                )
            np.save(folder / f"{field.name}.npy", value, allow_pickle=False)
        else:
            values[field.name] = value
    return values


def part_from_files(
    cls: type[Part], folder: Path, values: Mapping[str, Any], *, mmap: bool
) -> Part:
    """Rebuild a part of type ``cls`` from ``folder`` and its JSON ``values``."""
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in values:
            kwargs[field.name] = values[field.name]
            continue
        path = folder / f"{field.name}.npy"
        if not path.exists():
            raise NetworkStoreError(f"{path}: array file is missing; rebuild the network")
        kwargs[field.name] = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    return cls(**kwargs)


def write_atomically(target: Path, write: Any) -> None:
    """Call ``write(tmp_dir)`` then rename ``tmp_dir`` to ``target``, replacing an older one."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(tmp)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, old)
        os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read and check the manifest of a compiled network directory."""
    path = Path(folder) / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NetworkStoreError(f"{folder}: not a compiled network (no {MANIFEST})") from None
    except json.JSONDecodeError as exc:
        raise NetworkStoreError(f"{path}: manifest is not valid JSON ({exc.msg})") from None
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise NetworkStoreError(
            f"{folder}: network schema version {version} is not {SCHEMA_VERSION}; rebuild it"
        )
    return manifest


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    """Write ``manifest`` (with the schema version) into ``folder``."""
    content = {"schema_version": SCHEMA_VERSION, **manifest}
    (Path(folder) / MANIFEST).write_text(json.dumps(content, indent=2, sort_keys=True), "utf-8")
