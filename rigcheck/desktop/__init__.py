"""The Qt desktop application: window, pages, widgets, item models and the first-look helper."""
