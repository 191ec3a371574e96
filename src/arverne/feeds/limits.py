"""How much one reading of a GTFS feed may cost: the bounds a hostile or broken feed meets.

Every bound has a default that real feeds pass with a wide margin (the largest member among the
shared feeds inflates to 21 MB, the highest ratio is 51:1, the longest field is 5 MB in a test,
the longest calendar twenty years); a user with a larger feed raises one by passing
``ReadLimits(...)`` to :func:`~arverne.feeds.gtfs.read_gtfs`,
:func:`~arverne.feeds.validate.validate_feed` or ``BuildParams``, or ``--limit NAME=VALUE`` to
``arverne validate`` and ``arverne build``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["ReadLimits"]

GIB = 1 << 30
MIB = 1 << 20


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on the memory and output that reading one feed may take.

    Attributes
    ----------
    max_member_bytes
        Largest file of the feed, inflated (zip member) or on disk (folder); a larger one is
        refused (``GtfsError``, exit 3). Default 4 GiB.
    max_inflation_ratio
        Largest ratio of inflated to compressed size of a zip member that inflates to more than
        ``ratio_from_bytes``; a member past it is refused as a zip bomb. Real feeds compress
        5 to 50 times. Default 100.
    ratio_from_bytes
        Members inflating to at most this many bytes are not held to the ratio (a small file
        of repeated text may compress 1000 times and costs nothing). Default 16 MiB.
    max_field_bytes
        Longest value of a CSV field, in bytes; a row holding a longer one is quarantined
        (``field_over_limit`` ERROR notice), whichever the field. Default 16 MiB.
    notices_per_code
        Notices kept per code (at least one); the others are only counted, as the canonical
        validator does, so that a broken stop_times.txt cannot fill the memory with notices.
        Default 1,000.
    max_service_days
        Longest span of the service calendar (days from the first to the last date of the
        services trips use) that :meth:`~arverne.feeds.gtfs.GtfsFeed.service_days` builds; a
        longer one is refused (``GtfsError``). The calendar has a column per day, so a service
        from 1900 to 2999 would take gigabytes for a feed of a few kilobytes, while "until
        2099" calendars exist. Default 36,525 (a century).
    """

    max_member_bytes: int = 4 * GIB
    max_inflation_ratio: float = 100.0
    ratio_from_bytes: int = 16 * MIB
    max_field_bytes: int = 16 * MIB
    notices_per_code: int = 1_000
    max_service_days: int = 36_525

    def __post_init__(self) -> None:
        positive_ints = (
            "max_member_bytes",
            "ratio_from_bytes",
            "max_field_bytes",
            "notices_per_code",
            "max_service_days",
        )
        for name in positive_ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ReadLimits.{name} must be a positive integer, not {value!r}")
        ratio = self.max_inflation_ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not ratio >= 1:
            raise ValueError(f"ReadLimits.max_inflation_ratio must be 1 or more, not {ratio!r}")

    @classmethod
    def parse(cls, settings: Iterable[str]) -> ReadLimits:
        """Limits from ``NAME=VALUE`` texts (``--limit max_inflation_ratio=1000``), the others
        at their defaults.

        Parameters
        ----------
        settings
            ``NAME=VALUE`` texts, NAME an attribute of this class.

        Returns
        -------
        ReadLimits
            The limits.

        Raises
        ------
        ValueError
            On an unknown name, a value that is not a number of the limit's kind, or a value
            the limits refuse.
        """
        names = [f.name for f in fields(cls)]
        values: dict[str, Any] = {}  # int, or float for the ratio
        for text in settings:
            name, equals, raw = (part.strip() for part in text.partition("="))
            if not equals or name not in names:
                raise ValueError(f"{text!r} is not NAME=VALUE with NAME one of {', '.join(names)}")
            kind = type(getattr(cls, name))
            try:
                values[name] = kind(raw)
            except ValueError:
                raise ValueError(f"{text!r}: {raw!r} is not a {kind.__name__}") from None
        return cls(**values)
