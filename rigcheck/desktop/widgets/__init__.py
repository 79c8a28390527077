"""Reusable widgets of the desktop app: machine panel, charts, settings bar, dialogs."""
