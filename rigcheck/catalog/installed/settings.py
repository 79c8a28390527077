"""The folders the user added to the installed-model scan, kept in the config folder as plain JSON.

The app's Settings writes them and ``rigcheck installed`` reads them, so both see the same folders without
the command line loading Qt. A missing or unreadable file is no folders.
"""

from __future__ import annotations

import json
from pathlib import Path

from rigcheck.probe.files import read_json

FOLDERS_FILE = "installed-folders.json"


def _path() -> Path:
    from rigcheck.catalog.paths import config_dir

    return config_dir() / FOLDERS_FILE


def saved_folders() -> list[str]:
    """The folders the user added, in the order added."""
    try:
        data = read_json(_path(), 1024 * 1024, "the model folders file")
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    folders = data.get("folders") if isinstance(data, dict) else None
    return [f for f in folders if isinstance(f, str) and f.strip()] if isinstance(folders, list) else []


def save_folders(folders: list[str]) -> None:
    """Replace the saved folders (atomically). Raises ``OSError`` when the config folder is not writable."""
    from rigcheck.catalog.cache import atomic_write

    unique = list(dict.fromkeys(f.strip() for f in folders if f.strip()))
    atomic_write(_path(), json.dumps({"folders": unique}, indent=1).encode("utf-8"))
