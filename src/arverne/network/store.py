"""Save and load compiled network parts as .npy arrays plus a JSON manifest.

A *part* is a frozen dataclass whose fields are numpy arrays or JSON values (str, int, float,
bool, list, dict, None). Arrays go to ``<part>/<field>.npy`` (never pickled, so string columns
use fixed-width unicode dtypes); everything else goes to the manifest. Loading memory-maps the
arrays, so opening a network costs milliseconds whatever its size.

Layout and swap. A network directory holds versions and a pointer to one of them::

    DIR/current -> v-<id>        symlink, replaced by rename(2): atomic on POSIX
    DIR/v-<id>/manifest.json     one complete network (arrays under v-<id>/<part>/)
    DIR/.lock                    held (flock) by the one writer at a time
    DIR/.tmp-<id>/               a version being written; a killed writer's is removed by the next

A writer fills ``.tmp-<id>``, fsyncs every file and folder, renames it to ``v-<id>``, then
points ``current`` at it. A reader resolves ``current`` once and reads only that version, so it
sees the old network or the new one, never none and never a mix. The previous version is kept
until the next write: a reader that resolved the pointer just before a swap still finds its
files (and :meth:`Network.load` retries once when the pointer moved under it). A directory in
the older flat layout (``DIR/manifest.json``) is still read, and converted on the next write.

Nothing that is not a network is ever deleted: a writer refuses a target that exists and is
neither a network nor an empty directory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from arverne.errors import NetworkStoreError

SCHEMA_VERSION = 2
MANIFEST = "manifest.json"
POINTER = "current"
MAX_MANIFEST_BYTES = 16 << 20
"""A manifest holds parameters, counts and notice summaries: anything larger is not ours."""

_VERSION_PREFIX = "v-"
_VERSION_NAME = re.compile(r"v-[0-9a-f]{32}")
_TMP_PREFIX = ".tmp-"
_LOCK = ".lock"
_THREADS = 16
"""Threads that fsync or unlink a version's files: the file system then commits them together."""

Part = TypeVar("Part")


# ---------------------------------------------------------------------------------------------
# parts <-> files


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


def part_fields_from_files(
    cls: type, folder: Path, values: Mapping[str, Any], *, mmap: bool
) -> dict[str, Any]:
    """The fields of a part of type ``cls``: its JSON ``values`` and its arrays in ``folder``."""
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in values:
            fields[field.name] = values[field.name]
        else:
            fields[field.name] = load_array(folder / f"{field.name}.npy", mmap=mmap)
    return fields


def part_from_files(
    cls: type[Part], folder: Path, values: Mapping[str, Any], *, mmap: bool
) -> Part:
    """Rebuild a part of type ``cls`` from ``folder`` and its JSON ``values``."""
    return cls(**part_fields_from_files(cls, folder, values, mmap=mmap))


def load_array(path: Path, *, mmap: bool) -> np.ndarray:
    """Open one .npy file after checking it is a whole, plain array file.

    The header is read first: a file that is not regular (a named pipe would block), has a bad
    header, holds objects, or whose size differs from what its header announces (truncated or
    padded) is refused before any data is read.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise NetworkStoreError(f"{path}: array file is missing; rebuild the network") from None
    except OSError as exc:
        raise NetworkStoreError(f"{path}: cannot be read ({_first_line(exc)})") from None
    if not stat.S_ISREG(info.st_mode):
        raise NetworkStoreError(f"{path}: not a regular file")
    with path.open("rb") as handle:  # one open: the header, its checks, then the data
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        except Exception as exc:  # numpy parses the header with ast and tokenize: any error
            raise NetworkStoreError(f"{path}: not a .npy array file ({_first_line(exc)})") from None
        if dtype.hasobject:
            raise NetworkStoreError(f"{path}: holds Python objects, which are never loaded")
        if fortran and len(shape) > 1:
            raise NetworkStoreError(f"{path}: array is in Fortran order, not C order")
        offset = handle.tell()
        expected = offset + math.prod(shape) * dtype.itemsize
        if info.st_size != expected:
            raise NetworkStoreError(
                f"{path}: file has {info.st_size} bytes but its header announces {expected} "
                "(truncated or altered)"
            )
        try:
            array: np.ndarray = (
                np.memmap(handle, dtype=dtype, mode="r", offset=offset, shape=shape)
                if mmap
                else np.fromfile(handle, dtype=dtype, count=math.prod(shape)).reshape(shape)
            )
        except (ValueError, OSError) as exc:
            raise NetworkStoreError(f"{path}: cannot be read ({_first_line(exc)})") from None
    return array


def file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every .npy file under ``folder``, by path relative to it."""
    return {
        file.relative_to(folder).as_posix(): _sha256(file) for file in sorted(folder.rglob("*.npy"))
    }


def verify_digests(folder: Path, digests: Any) -> None:
    """Refuse a version whose .npy files differ from the digests its manifest recorded."""
    if not isinstance(digests, dict) or not digests:
        raise NetworkStoreError(
            f"{folder}: the manifest records no file digests to verify; rebuild the network"
        )
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*.npy")}
    for name in sorted(found | set(digests)):
        if name not in digests:
            raise NetworkStoreError(f"{folder}: {name} is not recorded in the manifest")
        file = folder / name
        if name not in found or not file.is_file():
            raise NetworkStoreError(f"{folder}: {name} is missing")
        if _sha256(file) != digests[name]:
            raise NetworkStoreError(f"{folder}: {name} differs from the manifest's sha256")


# ---------------------------------------------------------------------------------------------
# manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read the manifest of a compiled network directory (the version ``current`` points at)."""
    return read_version_manifest(resolve_version(folder))


def read_version_manifest(version: Path) -> dict[str, Any]:
    """Read and check the manifest of one version folder."""
    path = version / MANIFEST
    try:
        info = path.stat()
    except FileNotFoundError:
        raise NetworkStoreError(f"{version}: not a compiled network (no {MANIFEST})") from None
    except OSError as exc:
        raise NetworkStoreError(f"{path}: cannot be read ({_first_line(exc)})") from None
    if not stat.S_ISREG(info.st_mode):
        raise NetworkStoreError(f"{path}: not a regular file")
    if info.st_size > MAX_MANIFEST_BYTES:
        raise NetworkStoreError(
            f"{path}: manifest has {info.st_size} bytes, more than {MAX_MANIFEST_BYTES}"
        )
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise NetworkStoreError(f"{path}: manifest is not valid JSON ({exc.msg})") from None
    except (UnicodeDecodeError, RecursionError, OSError) as exc:
        raise NetworkStoreError(f"{path}: manifest cannot be read ({_first_line(exc)})") from None
    if not isinstance(manifest, dict):
        raise NetworkStoreError(f"{path}: manifest is a {type(manifest).__name__}, not an object")
    version_no = manifest.get("schema_version")
    if version_no != SCHEMA_VERSION:
        raise NetworkStoreError(
            f"{version}: network schema version {version_no} is not {SCHEMA_VERSION}; rebuild it"
        )
    return manifest


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    """Write ``manifest`` (with the schema version) into ``folder``."""
    content = {"schema_version": SCHEMA_VERSION, **manifest}
    (Path(folder) / MANIFEST).write_text(json.dumps(content, indent=2, sort_keys=True), "utf-8")


# ---------------------------------------------------------------------------------------------
# versions and the pointer


def is_network_dir(folder: Path) -> bool:
    """True when ``folder`` holds a network (a ``current`` pointer, or the older flat layout)."""
    return (folder / POINTER).is_symlink() or (folder / MANIFEST).is_file()


def resolve_version(folder: Path) -> Path:
    """The version folder a network directory's pointer names (the folder itself when flat)."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "a file" if folder.is_file() else "missing" if not folder.exists() else "no folder"
        raise NetworkStoreError(f"{folder}: not a compiled network (the path is {what})")
    pointer = folder / POINTER
    if not pointer.is_symlink():
        if pointer.exists():
            raise NetworkStoreError(f"{pointer}: the network pointer is not a symbolic link")
        return folder
    try:
        name = os.readlink(pointer)
    except FileNotFoundError:  # swapped between the two calls: read the new one
        name = os.readlink(pointer)
    if not _VERSION_NAME.fullmatch(name):
        raise NetworkStoreError(f"{pointer}: the network pointer names {name!r}, not a version")
    return folder / name


def check_target(target: Path) -> None:
    """Refuse to write a network where something else is: a file, a folder with other things,
    or a place inside another network (its pointer or a version, which the write would break).
    """
    for parent in Path(target).resolve().parents:
        if is_network_dir(parent):
            raise NetworkStoreError(f"{target}: lies inside the network {parent}; choose another")
        if parent.exists() and not parent.is_dir():
            raise NetworkStoreError(f"{target}: {parent} is not a directory; choose another")
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir():
        raise NetworkStoreError(f"{target}: exists and is not a directory; choose another output")
    if is_network_dir(target):
        return
    if any(not _is_ours(p.name) for p in target.iterdir()):
        raise NetworkStoreError(
            f"{target}: is a directory that holds other things than an Arverne network; "
            "choose a new or empty output directory"
        )


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_dir)``, then make ``tmp_dir`` the current version of ``target``.

    One writer at a time holds ``target/.lock``; folders a killed writer left are removed first.
    Every file and folder is fsynced before the pointer moves, and the pointer again after.
    """
    target = Path(target)
    check_target(target)
    target.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        for stale in target.glob(f"{_TMP_PREFIX}*"):
            _remove(stale)
        tmp = target / f"{_TMP_PREFIX}{uuid.uuid4().hex}"
        tmp.mkdir()  # not mkdtemp: its 0700 would hide the network from other users
        try:
            write(tmp)
            _fsync_tree(tmp)
            version = f"{_VERSION_PREFIX}{uuid.uuid4().hex}"
            os.rename(tmp, target / version)
            _fsync_path(target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        previous = resolve_version(target)
        link = target / f"{_TMP_PREFIX}{POINTER}-{uuid.uuid4().hex}"
        os.symlink(version, link)
        os.replace(link, target / POINTER)
        _fsync_path(target)
        _remove_old(target, keep={version, previous.name})


def _remove_old(target: Path, keep: set[str]) -> None:
    """Remove versions other than ``keep`` and the files of the older flat layout."""
    (target / MANIFEST).unlink(missing_ok=True)  # first: the flat layout is no network any more
    for child in target.iterdir():
        if child.name in keep or child.name in (POINTER, _LOCK):
            continue
        flat_part = child.is_dir() and not child.is_symlink() and not child.name.startswith(".")
        if _is_ours(child.name) or (flat_part and _only_arrays(child)):
            _remove(child)


def _is_ours(name: str) -> bool:
    """A name the store writes inside a network directory (a killed writer may leave them)."""
    return name == _LOCK or name.startswith(_TMP_PREFIX) or bool(_VERSION_NAME.fullmatch(name))


def _only_arrays(folder: Path) -> bool:
    """A part folder of the flat layout holds .npy files and nothing else."""
    return all(p.is_file() and p.suffix == ".npy" for p in folder.iterdir())


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    import fcntl

    fd = os.open(target / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Fsync every file and sub-folder under ``folder``, then ``folder`` itself.

    They are synced from a few threads (fsync releases the GIL) and the file system commits
    them together: ten times faster than one after the other for a network's ~80 files.
    """
    paths = []
    for root, dirs, names in os.walk(folder):
        paths += [os.path.join(root, name) for name in (*names, *dirs)]
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        list(pool.map(_fsync_path, paths))
    _fsync_path(folder)


def _fsync_path(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    """Remove a file, link or folder tree (files unlinked from threads, as in _fsync_tree)."""
    if not path.is_dir() or path.is_symlink():
        path.unlink(missing_ok=True)
        return
    files = [os.path.join(root, name) for root, _dirs, names in os.walk(path) for name in names]
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        list(pool.map(_unlink, files))
    shutil.rmtree(path, ignore_errors=True)


def _unlink(path: str) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
