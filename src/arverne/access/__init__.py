"""Territories: travel-time matrices, isochrones, accessibility indicators, the diagnosis of who
is left behind, and what-if scenarios (floor 5, over the network and the planner).
"""
