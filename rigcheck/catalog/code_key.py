"""What identifies this build of rigcheck's code, for the caches of what it computed.

The first-look memo and the decoded catalog copy put this in their keys: a cache written by other code is a miss,
never an answer."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def code_fingerprint() -> list:
    """Each module and data file of this rigcheck with its modification time and size (an edited source tree
    makes another key); a frozen app's executable."""
    if getattr(sys, "frozen", False):
        return [sys.executable, file_key(Path(sys.executable))]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    stack.append(entry.path)
            elif entry.name.endswith((".py", ".json")):
                try:
                    st = entry.stat()
                except OSError:
                    continue
                found.append((entry.path[len(root):], st.st_mtime_ns, st.st_size))
    found.sort()
    return found


def file_key(path: Path) -> tuple[int, int, int] | None:
    """(modification time in ns, size, inode) of ``path``; None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)
