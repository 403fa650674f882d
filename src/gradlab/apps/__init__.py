"""Applications of the calculus to real problems (pricing; more to come)."""
