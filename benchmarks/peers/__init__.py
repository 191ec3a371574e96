"""Peer tools run side by side with arverne in the benchmarks (each in its own environment)."""
