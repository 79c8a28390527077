"""Where models already on this machine live: each tool's folder, from its environment variable or its default.

Only these folders (and the ones the user adds) are looked at: never the whole disk. ``default_roots``
takes the environment, the home folder and the platform as arguments, so tests point every root at a
temporary tree and never touch the real home directory.

- Ollama: ``$OLLAMA_MODELS``, else ``~/.ollama/models`` (and ``/usr/share/ollama/.ollama/models``, the
  Linux service's home, when asked for);
- LM Studio: ``~/.lmstudio/models`` and the older ``~/.cache/lm-studio/models``;
- Hugging Face: ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub``, else
  ``~/.cache/huggingface/hub`` (MLX models are there too);
- llama.cpp: ``$LLAMA_CACHE``, else ``~/.cache/llama.cpp`` (``$XDG_CACHE_HOME/llama.cpp``) on Linux,
  ``~/Library/Caches/llama.cpp`` on macOS, ``%LOCALAPPDATA%\\llama.cpp`` on Windows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LINUX_OLLAMA_SERVICE_MODELS = Path("/usr/share/ollama/.ollama/models")
"""Where the Linux install script's ``ollama`` service user keeps its models."""

SOURCES = ("ollama", "lmstudio", "huggingface", "llama.cpp", "folder")
"""The ``source`` of an installed model: the tool whose folder it was found in, or a folder the user added."""


@dataclass(frozen=True)
class Roots:
    """The folders to look in, per source; a missing folder is simply empty."""

    ollama: tuple[Path, ...] = ()
    lmstudio: tuple[Path, ...] = ()
    huggingface: tuple[Path, ...] = ()
    llama_cpp: tuple[Path, ...] = ()
    folders: tuple[Path, ...] = ()

    def with_folders(self, folders) -> Roots:
        """These roots plus the user's folders (``--path DIR``, Settings)."""
        extra = tuple(Path(f).expanduser() for f in folders)
        return Roots(self.ollama, self.lmstudio, self.huggingface, self.llama_cpp,
                     tuple(dict.fromkeys((*self.folders, *extra))))


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def default_roots(env: Mapping[str, str] | None = None, home: Path | None = None,
                  platform: str | None = None, service_folders: bool = True) -> Roots:
    """The roots of each source on this machine (``env``, ``home`` and ``platform`` default to this
    process's); ``service_folders`` adds system-wide folders outside the home (the Ollama service's)."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else Path(home)
    platform = sys.platform if platform is None else platform
    xdg_cache = Path(_env(env, "XDG_CACHE_HOME") or home / ".cache")

    ollama = [Path(_env(env, "OLLAMA_MODELS") or home / ".ollama" / "models")]
    if service_folders and platform.startswith("linux") and not _env(env, "OLLAMA_MODELS"):
        ollama.append(LINUX_OLLAMA_SERVICE_MODELS)

    lmstudio = [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]

    hub = _env(env, "HF_HUB_CACHE") or _env(env, "HUGGINGFACE_HUB_CACHE")
    if hub is None:
        hf_home = _env(env, "HF_HOME")
        hub = str(Path(hf_home) / "hub") if hf_home else str(xdg_cache / "huggingface" / "hub")

    llama = _env(env, "LLAMA_CACHE")
    if llama is None:
        if platform == "darwin":
            llama = str(home / "Library" / "Caches" / "llama.cpp")
        elif platform.startswith("win"):
            llama = str(Path(_env(env, "LOCALAPPDATA") or home / "AppData" / "Local") / "llama.cpp")
        else:
            llama = str(xdg_cache / "llama.cpp")

    return Roots(ollama=tuple(ollama), lmstudio=tuple(lmstudio), huggingface=(Path(hub),),
                 llama_cpp=(Path(llama),))
