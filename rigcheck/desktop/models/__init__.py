"""Qt item models of the desktop app: each owns its formatting and sorts on raw values."""
