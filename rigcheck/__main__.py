"""Entry point of the ``rigcheck`` command."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("RIGCHECK_FIRST_LOOK_CHILD"):  # helper_process.ENV_CHILD: a frozen app runs itself as the helper
        from rigcheck.desktop.first_look import main as first_look_main

        return first_look_main()
    from rigcheck.cli.main import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
