"""Planning: route optimisation with a vehicle-routing solver (VROOM) and the inspection planner (R7)."""
