"""The command that runs a model the way its estimate assumed, for each runtime that can load its quant.

Pure: an ``Estimate`` (verdict, context, placement, GPUs used), its model and quant, and the file on disk
when the model is installed, in; ``LaunchCommand`` records out. What each flag realises:

- llama.cpp (``llama-server``): ``-c`` the context the memory was sized for; ``-ngl 999`` when every layer
  is on the GPU(s), ``-ngl N`` for N layers on the GPU with the rest in RAM, ``-ngl 999 --n-cpu-moe K``
  when the routed experts of K layers stay in RAM, ``-ngl 0`` on the CPU; ``-fa on`` (the estimate assumes
  flash attention); ``-ctk/-ctv`` for a quantized KV cache; ``-ts`` with each GPU's share on several GPUs.
- Ollama: a Modelfile with ``num_ctx`` and ``num_gpu`` (layers on the GPU), then ``ollama create`` and
  ``ollama run``; the KV cache type and flash attention are server settings (``OLLAMA_KV_CACHE_TYPE``,
  ``OLLAMA_FLASH_ATTENTION``), said in a note.
- vLLM (``vllm serve``): ``--max-model-len``, ``--tensor-parallel-size`` over the GPUs used,
  ``--kv-cache-dtype fp8`` for an 8-bit cache, ``--gpu-memory-utilization``.
- MLX (``mlx_lm.server``): the model, ``--kv-bits`` for a quantized cache; MLX grows its cache as the
  conversation grows, so the context is not set.

An installed model is named by its real path (or Ollama tag); otherwise by its Hugging Face repo when the
catalog knows it, else by a placeholder file name that a note explains. The flags are checked against each
runtime's documented flag table in the tests (tests/launch/runtime_flags.py), never by running them.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from rigcheck.catalog.records import Model, Quant
from rigcheck.estimate.resolved import VRAM_HEADROOM_FRACTION
from rigcheck.estimate.types import Estimate

ALL_LAYERS = 999
"""llama.cpp's and Ollama's "every layer" (larger than any model's layer count; accepted by every version)."""
VLLM_KV = {"f16": None, "q8_0": "fp8", "q4_0": "fp8"}
MLX_KV_BITS = {"f16": None, "q8_0": 8, "q4_0": 4}


@dataclass(frozen=True)
class Installed:
    """Where an installed model is: what a command names it by."""

    path: str
    tag: str | None = None
    """The Ollama tag, when Ollama holds it."""
    mmproj: str | None = None
    source: str = "folder"


@dataclass(frozen=True)
class LaunchCommand:
    """One runtime's command for one estimate."""

    runtime: str
    """"llama.cpp", "ollama", "vllm" or "mlx"."""
    command: str
    """Shell text to paste (several lines for Ollama's Modelfile)."""
    argv: tuple[str, ...]
    """The server's own argument list (what the flag tables check)."""
    notes: tuple[str, ...] = ()
    modelfile: tuple[str, ...] = ()
    """Ollama: the Modelfile's lines."""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"runtime": self.runtime, "command": self.command, "argv": list(self.argv),
                                  "notes": list(self.notes)}
        if self.modelfile:
            out["modelfile"] = list(self.modelfile)
        return out


_object_new = object.__new__
_object_setattr = object.__setattr__


def _command(runtime: str, command: str, argv: tuple[str, ...], notes: tuple[str, ...],
             modelfile: tuple[str, ...] = ()) -> LaunchCommand:
    """``LaunchCommand(...)`` without the frozen dataclass's field-by-field ``__init__`` (``fit --json`` makes two
    for each of 100,000 rows of a large catalog)."""
    cmd = _object_new(LaunchCommand)
    _object_setattr(cmd, "__dict__", {"runtime": runtime, "command": command, "argv": argv, "notes": notes,
                                      "modelfile": modelfile})
    return cmd


_QUOTED: dict[str, str] = {}
"""``shlex.quote`` of the arguments seen so far (flags, counts and repo names repeat from row to row)."""


def _shell_join(argv: list[str]) -> str:
    """``shlex.join(argv)``, each argument quoted once."""
    quoted = _QUOTED
    out = []
    for arg in argv:
        q = quoted.get(arg)
        if q is None:
            if len(quoted) > 100_000:
                quoted.clear()
            q = quoted[arg] = shlex.quote(arg)
        out.append(q)
    return " ".join(out)


def launch_commands(row: Estimate, model: Model, quant: Quant, *, kv_cache_type: str = "f16",
                    installed: Installed | None = None, flash_attention: bool = True) -> list[LaunchCommand]:
    """The commands that run ``row`` as estimated, one per runtime that loads ``quant``; none for a row that
    does not fit."""
    if row.verdict == "no_fit":
        return []
    fmt = quant.format
    if fmt == "gguf":
        out = [llama_server(row, model, quant, kv_cache_type, installed, flash_attention)]
        ollama = ollama_run(row, model, quant, kv_cache_type, installed, flash_attention)
        if ollama is not None:
            out.append(ollama)
        return out
    if fmt == "mlx":
        return [mlx_server(model, quant, kv_cache_type, installed)]
    return [vllm_serve(row, model, quant, kv_cache_type, installed)]


def _gpus_used(row: Estimate) -> int:
    return sum(1 for b in row.memory.per_gpu_bytes if b > 0)


def _placeholder(model: Model, quant: Quant) -> str:
    return f"{model.id.split('/', 1)[-1]}-{quant.name}.gguf"


def _offload(row: Estimate) -> tuple[int, int | None]:
    """(-ngl, --n-cpu-moe) for the row's placement."""
    extra = row.extra
    if row.verdict == "cpu":
        return 0, None
    moe = extra.get("cpu_moe_layers")
    if isinstance(moe, int):
        return ALL_LAYERS, moe
    layers = extra.get("gpu_layers")
    if isinstance(layers, int):
        return layers, None
    m = re.search(r"-ngl (\d+)", row.placement)  # a row built before placements carried the count
    return (int(m.group(1)), None) if m else (ALL_LAYERS, None)


def _tensor_split(row: Estimate) -> str | None:
    shares = [b for b in row.memory.per_gpu_bytes if b > 0]
    if len(shares) < 2:
        return None
    return ",".join(f"{b / 1024**3:.1f}" for b in shares)


def llama_server(row: Estimate, model: Model, quant: Quant, kv_cache_type: str, installed: Installed | None,
                 flash_attention: bool) -> LaunchCommand:
    """``llama-server`` with the placement, context and cache of ``row``."""
    notes: list[str] = []
    if installed is not None:
        argv = ["llama-server", "-m", installed.path]
        if installed.mmproj:
            argv += ["--mmproj", installed.mmproj]
    elif quant.repo:
        argv = ["llama-server", "-hf", f"{quant.repo}:{quant.name}"]
    else:
        placeholder = _placeholder(model, quant)
        argv = ["llama-server", "-m", placeholder]
        notes.append(f"{placeholder}: the path of a downloaded {quant.name} GGUF of {model.id}")
    ngl, cpu_moe = _offload(row)
    argv += ["-c", str(row.context_tokens), "-ngl", str(ngl)]
    if cpu_moe is not None:
        argv += ["--n-cpu-moe", str(cpu_moe)]
    split = _tensor_split(row)
    if split:
        argv += ["-ts", split]
    argv += ["-fa", "on" if flash_attention or kv_cache_type != "f16" else "off"]
    if kv_cache_type != "f16":
        argv += ["-ctk", kv_cache_type, "-ctv", kv_cache_type]
    if row.verdict == "gpu+ram":
        notes.append("weights beyond the GPU's share stay in RAM: keep the machine's other programs small")
    return _command("llama.cpp", _shell_join(argv), tuple(argv), tuple(notes))


def _ollama_name(model: Model, quant: Quant, context: int) -> str:
    base = _OLLAMA_BASES.get(model.id)
    if base is None:
        if len(_OLLAMA_BASES) > 100_000:
            _OLLAMA_BASES.clear()
        base = _OLLAMA_BASES[model.id] = _OLLAMA_UNSAFE.sub("-", model.id.split("/", 1)[-1].lower()).strip("-")
    return f"{base}-{quant.name.lower()}-{context // 1024}k"


_OLLAMA_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_OLLAMA_BASES: dict[str, str] = {}
"""A model id's part of its Ollama names (``fit --json`` names every GGUF row of every model)."""
_SPLIT_GGUF = re.compile(r"-\d{5}-of-\d{5}\.gguf$")


def ollama_run(row: Estimate, model: Model, quant: Quant, kv_cache_type: str, installed: Installed | None,
               flash_attention: bool) -> LaunchCommand | None:
    """A Modelfile with the context and GPU layers of ``row``, created and run with Ollama; None for a split
    GGUF outside Ollama (Ollama loads one file)."""
    notes: list[str] = []
    if installed is not None and installed.tag:
        source = installed.tag
    elif installed is not None:
        source = installed.path
    elif quant.repo:
        source = f"hf.co/{quant.repo}:{quant.name}"
    else:
        placeholder = _placeholder(model, quant)
        source = "./" + placeholder
        notes.append(f"{placeholder}: the path of a downloaded {quant.name} GGUF of {model.id}")
    if _SPLIT_GGUF.search(source):
        return None
    ngl, cpu_moe = _offload(row)
    lines = [f"FROM {source}", f"PARAMETER num_ctx {row.context_tokens}"]
    if cpu_moe is None:
        lines.append(f"PARAMETER num_gpu {ngl}")
    else:
        notes.append("Ollama cannot keep only the experts in RAM (llama.cpp's --n-cpu-moe): it places whole "
                     "layers itself, so it runs slower than this estimate")
    server = []
    if flash_attention or kv_cache_type != "f16":
        server.append("OLLAMA_FLASH_ATTENTION=1")
    if kv_cache_type != "f16":
        server.append(f"OLLAMA_KV_CACHE_TYPE={kv_cache_type}")
    if server:
        notes.append(f"start the server as: {' '.join(server)} ollama serve")
    name = _ollama_name(model, quant, row.context_tokens)
    body = "\n".join(lines)
    command = (f"cat > Modelfile <<'EOF'\n{body}\nEOF\n"
               f"ollama create {name} -f Modelfile && ollama run {name}")
    return _command("ollama", command, ("ollama", "run", name), tuple(notes), tuple(lines))


def vllm_serve(row: Estimate, model: Model, quant: Quant, kv_cache_type: str,
               installed: Installed | None) -> LaunchCommand:
    """``vllm serve`` over the GPUs the row uses, with its context and cache type."""
    notes: list[str] = []
    target = installed.path if installed is not None else (quant.repo or model.id)
    argv = ["vllm", "serve", target, "--max-model-len", str(row.context_tokens)]
    gpus = _gpus_used(row)
    if gpus > 1:
        argv += ["--tensor-parallel-size", str(gpus)]
    kv = VLLM_KV.get(kv_cache_type)
    if kv:
        argv += ["--kv-cache-dtype", kv]
        if kv_cache_type == "q4_0":
            notes.append("vLLM has no 4-bit KV cache: fp8 is the smallest, so the cache is twice the estimate's")
    argv += ["--gpu-memory-utilization", f"{1.0 - VRAM_HEADROOM_FRACTION:.2f}"]
    return _command("vllm", _shell_join(argv), tuple(argv), tuple(notes))


def _mlx_bits(quant: Quant) -> int | None:
    m = re.search(r"(\d+)\s*bit", quant.name, re.IGNORECASE)
    return int(m.group(1)) if m else None


def mlx_server(model: Model, quant: Quant, kv_cache_type: str, installed: Installed | None) -> LaunchCommand:
    """``mlx_lm.server`` for the MLX quant (converted from the original weights when no repo is known)."""
    notes = ["MLX grows its KV cache with the conversation: the context is not reserved up front"]
    prefix = ""
    if installed is not None:
        target = installed.path
    elif quant.repo:
        target = quant.repo
    else:
        target = f"{model.id.split('/', 1)[-1]}-{quant.name.lower()}"
        convert = ["mlx_lm.convert", "--hf-path", model.id, "-q", "--mlx-path", target]
        bits = _mlx_bits(quant)
        if bits:
            convert += ["--q-bits", str(bits)]
        prefix = shlex.join(convert) + " && "
        notes.append(f"first converts {model.id} to {quant.name} in ./{target}")
    argv = ["mlx_lm.server", "--model", target]
    kv_bits = MLX_KV_BITS.get(kv_cache_type)
    if kv_bits:
        argv += ["--kv-bits", str(kv_bits)]
    return LaunchCommand("mlx", prefix + shlex.join(argv), tuple(argv), tuple(notes))
