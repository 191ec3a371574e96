"""Immutable arrays built once from feeds, saved, memory-mapped."""

from arverne.network.network import Network

__all__ = ["Network"]
