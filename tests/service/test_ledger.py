"""The booking-reference ledger: a reference books once across the service's workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from arverne.service.ledger import STALE_S, ReferenceLedger


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("shared", [True, False])
def test_a_reference_is_booked_once(tmp_path: Path, shared: bool) -> None:
    """Two workers (two ledgers over one folder; one ledger without a folder): the first claim
    books, a second claim meanwhile is told it is pending, then gets the recorded answer; a
    released claim (a failed booking) may be claimed again; a claim whose worker died is taken
    over after STALE_S seconds."""
    clock = Clock()
    first = ReferenceLedger(tmp_path if shared else None, clock=clock)
    second = ReferenceLedger(tmp_path, clock=clock) if shared else first
    key = first.key("ref-1")
    assert first.claim(key) is None
    assert second.claim(key) == "pending"
    first.done(key, {"bookings": [{"booking_id": "b1"}]})
    assert second.claim(key) == {"bookings": [{"booking_id": "b1"}]}
    other = first.key("ref-2")
    assert second.claim(other) is None
    second.release(other)
    assert first.claim(other) is None  # released: free again
    clock.now += STALE_S / 2
    assert second.claim(other) == "pending"
    clock.now += STALE_S
    assert second.claim(other) is None  # its worker never finished: taken over
    assert first.claim(key) == {"bookings": [{"booking_id": "b1"}]}  # answers never go stale
