"""rigcheck: which open-weight LLMs this machine can run, how fast, and what the hosted alternative costs."""

__version__ = "0.1.0"
