"""Entry script of the PyInstaller bundle: the same ``main`` as the ``rigcheck`` console script."""

import multiprocessing
import sys

from rigcheck.__main__ import main

if __name__ == "__main__":
    # A frozen app re-executes itself for multiprocessing children; this makes such a child run its task
    # instead of starting a second rigcheck.
    multiprocessing.freeze_support()
    sys.exit(main())
