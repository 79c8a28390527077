"""``python -m rigcheck.catalog.sources.reference``: rebuild the embedded catalog (``build.main``)."""

import sys

from rigcheck.catalog.sources.reference.build import main

if __name__ == "__main__":
    sys.exit(main())
