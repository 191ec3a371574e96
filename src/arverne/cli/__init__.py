"""The ``arverne`` command: each subcommand parses its options, calls one public function, and
prints. The subcommands live by floor (:mod:`.network`, :mod:`.journeys`, :mod:`.territory`,
:mod:`.fleet`, :mod:`.service`); :mod:`.base` holds what they share and :func:`main`.
"""
# ruff: noqa: I001  (importing a module registers its subcommands: this is `arverne --help`'s order)

from arverne.cli.base import AT_YEARS, app, main
from arverne.cli import network, journeys, territory, fleet, service  # noqa: F401

__all__ = ["AT_YEARS", "app", "main"]
