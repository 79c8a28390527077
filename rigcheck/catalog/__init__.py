"""What exists (models, quants, devices, prices) and how it fits and runs. Knows nothing of Qt."""
