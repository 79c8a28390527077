"""The application: GUI, CLI and reports. The only package that imports Qt."""
