"""What exists: models, quants, devices, hosted offers and prices, and how the catalog is stored and refreshed. No Qt."""
