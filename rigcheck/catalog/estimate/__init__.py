"""Pure estimation functions: memory, placement, speed, cost, plans."""
