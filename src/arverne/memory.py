"""Memory policy of the big builds: Arrow and numpy share one allocator; freed pages leave at the end.

A network build makes many short-lived arrays the size of stop_times.txt. Two allocator habits
would keep freed ones resident and add them to the peak of the next step:

* pyarrow's default pool (mimalloc or jemalloc) keeps freed pages for its own later use, where
  numpy cannot reuse them: inside :func:`lean_memory`, Arrow allocates from the system
  allocator, as numpy does, so each reuses what the other freed;
* glibc keeps freed heap pages until asked: :func:`lean_memory` trims the heap when the block
  ends (fixing glibc's mmap threshold instead would release them at once, but doubles the time
  of a build on a virtual machine, where page faults are dear).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa


@functools.cache
def _glibc() -> Any:
    """glibc, or None where the C library is another one (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_depth = 0
_depth_lock = threading.Lock()


@contextmanager
def lean_memory() -> Iterator[None]:
    """Arrow allocates from the system allocator in the block; freed heap pages leave after it.

    Blocks nest: only the outermost one trims, so the steps of one build (read, then compile)
    reuse each other's freed pages instead of giving them back and faulting them in again.
    """
    global _depth
    with _depth_lock:
        _depth += 1
        previous = pa.default_memory_pool()
        pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        with _depth_lock:
            _depth -= 1
            pa.set_memory_pool(previous)
            libc = _glibc() if _depth == 0 else None
            if libc is not None:
                libc.malloc_trim(0)
