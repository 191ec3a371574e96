"""Journeys on the compiled network: street searches and the transit journey planner."""

from arverne.routing.journey import Journey, Leg, StopCall
from arverne.routing.planner import Planner, PlanOptions

__all__ = ["Journey", "Leg", "PlanOptions", "Planner", "StopCall"]
