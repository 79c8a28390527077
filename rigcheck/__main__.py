"""Entry point of the ``rigcheck`` command."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Run the command (``argv``, else the process's arguments). Run as the process's command (``argv`` None), a
    command-line command leaves without tearing the interpreter down (``_leave``)."""
    if os.environ.get("RIGCHECK_FIRST_LOOK_CHILD"):  # helper_process.ENV_CHILD: a frozen app runs itself as the helper
        from rigcheck.desktop.first_look import main as first_look_main

        return first_look_main()
    from rigcheck.cli.main import main as cli_main

    args = sys.argv[1:] if argv is None else argv
    code = cli_main(args)
    if argv is None and not _is_gui(args):
        _leave(code)
    return code


def _is_gui(args: list[str]) -> bool:
    """Whether ``args`` open the window (cli.main's rule): none, ``gui``, or options without a command."""
    return not args or args[0] == "gui" or (args[0].startswith("-") and args[0] not in ("-h", "--help", "--version"))


def _leave(code: int) -> None:
    """Exit with ``code`` once the output is flushed and the exit handlers have run, without the interpreter's
    tear-down: freeing a 10,000-model catalog and its estimates object by object takes a fifth of a second after the
    answer is written, and the process holds nothing that tear-down would release (files are closed, no thread is
    left). Returns (and the interpreter exits as usual) when another thread still runs."""
    import threading

    if threading.active_count() > 1:
        return
    import atexit

    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be written there anyway
            pass
    atexit._run_exitfuncs()  # logging's flush, temporary folders, whatever registered itself
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
