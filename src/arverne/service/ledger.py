"""Booking references book once: the answer of each booked journey, kept by its reference.

A client that sends ``POST /v1/journeys/bookings`` again (a retry after a timeout, a double
click) must not book a second shuttle seat. :class:`ReferenceLedger` records each reference's
answer; the same reference gets the same bookings back, whichever worker process answers.
While one request books a reference, another with it is told so (a conflict) rather than
booking twice. A reference whose booking failed is released: it may be tried again.

The ledger is one SQLite file in the folder the service's workers share
(:attr:`~arverne.service.settings.ServiceSettings.shared_dir`); without one, a dictionary of
this process (an app made outside :func:`arverne.service.serve.serve`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

LEDGER_FILE = "journey-bookings.sqlite"
STALE_S = 120.0
"""A claim older than this whose worker never finished (it died) may be taken over."""

Claim = dict[str, Any] | str | None
"""What :meth:`ReferenceLedger.claim` answers: None (yours to book), the recorded answer, or
``"pending"`` (another request is booking it now)."""


class ReferenceLedger:
    """Booked journey references and their answers, shared by the service's workers."""

    def __init__(self, folder: Path | None, *, clock: Any = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._memory: dict[str, tuple[float, str | None]] = {}
        self._db: sqlite3.Connection | None = None
        if folder is not None:
            self._db = sqlite3.connect(
                Path(folder) / LEDGER_FILE, timeout=5.0, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS booked (key TEXT PRIMARY KEY, at REAL NOT NULL,"
                " answer TEXT)"
            )
            self._db.commit()

    @staticmethod
    def key(reference: str) -> str:
        """The ledger's key of a reference (its digest: references are long)."""
        return hashlib.sha256(reference.encode()).hexdigest()

    def claim(self, key: str) -> Claim:
        """Take ``key`` to book it (None), or what it already is: its answer, or ``"pending"``."""
        now = self.clock()
        with self._lock:
            if self._db is None:
                at, answer = self._memory.get(key, (None, None))
                if at is None or (answer is None and now - at > STALE_S):
                    self._memory[key] = (now, None)
                    return None
            else:
                with self._db:
                    taken = self._db.execute(
                        "INSERT INTO booked (key, at) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE"
                        " SET at = ?2 WHERE answer IS NULL AND at < ?2 - ?3 RETURNING key",
                        (key, now, STALE_S),
                    ).fetchone()
                    if taken is not None:
                        return None
                    row = self._db.execute(
                        "SELECT answer FROM booked WHERE key = ?", (key,)
                    ).fetchone()
                answer = row[0] if row else None
        return "pending" if answer is None else json.loads(answer)

    def done(self, key: str, answer: dict[str, Any]) -> None:
        """Record the answer of a claimed key: the same reference gets it from now on."""
        text = json.dumps(answer)
        with self._lock:
            if self._db is None:
                self._memory[key] = (self.clock(), text)
                return
            with self._db:
                self._db.execute("UPDATE booked SET answer = ? WHERE key = ?", (text, key))

    def release(self, key: str) -> None:
        """Give a claimed key back (its booking failed: nothing was booked)."""
        with self._lock:
            if self._db is None:
                self._memory.pop(key, None)
                return
            with self._db:
                self._db.execute("DELETE FROM booked WHERE key = ? AND answer IS NULL", (key,))
