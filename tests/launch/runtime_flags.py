"""The flags each runtime documents, with the version they were read from: what the launch commands are
checked against (the commands are never run here).

Each table maps a flag (every spelling) to what its value must be: None (a switch, no value), a set of
allowed words, or a check on the value's text. Read from:

- llama-server: ggml-org/llama.cpp tools/server/README.md at commit 00dc805 (the generated help table,
  2026; ``-fa`` takes on/off/auto since the 2025 change, ``-ngl`` a number, 'auto' or 'all');
- vllm serve: vllm-project/vllm vllm/config/cache.py at commit 002f10e (CacheDType, gpu_memory_utilization in
  (0, 1]) and the engine arguments page (docs.vllm.ai, v0.6+: --max-model-len, --tensor-parallel-size);
- Ollama Modelfile PARAMETERs: ollama/ollama api/types.go, the Options and Runner structs (num_ctx, num_gpu,
  ...: the runner options a Modelfile or the API's "options" set), and the server's environment
  (OLLAMA_FLASH_ATTENTION, OLLAMA_KV_CACHE_TYPE: `ollama serve --help`);
- mlx_lm.server and mlx_lm.convert: ml-explore/mlx-lm mlx_lm/server.py at commit 0130d3b and
  mlx_lm/convert.py at commit 04494c9 (argparse definitions).
"""

from __future__ import annotations

import re


def _int(text: str) -> bool:
    return re.fullmatch(r"-?\d+", text) is not None


def _positive_int(text: str) -> bool:
    return _int(text) and int(text) > 0


def _fraction(text: str) -> bool:
    try:
        return 0.0 < float(text) <= 1.0
    except ValueError:
        return False


def _proportions(text: str) -> bool:
    parts = text.split(",")
    return len(parts) >= 2 and all(re.fullmatch(r"\d+(\.\d+)?", p) for p in parts)


def _ngl(text: str) -> bool:
    return _int(text) or text in ("auto", "all")


def _any(text: str) -> bool:
    return bool(text) and not text.startswith("-")


LLAMA_CACHE_TYPES = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"}

LLAMA_SERVER = {
    "version": "llama.cpp tools/server/README.md @ 00dc805 (2026)",
    "flags": {
        ("-m", "--model"): _any,
        ("-hf", "-hfr", "--hf-repo"): lambda t: re.fullmatch(r"[\w.-]+/[\w.-]+(:[\w.-]+)?", t) is not None,
        ("-mm", "--mmproj"): _any,
        ("-c", "--ctx-size"): _int,
        ("-ngl", "--gpu-layers", "--n-gpu-layers"): _ngl,
        ("-ncmoe", "--n-cpu-moe"): _int,
        ("-cmoe", "--cpu-moe"): None,
        ("-ts", "--tensor-split"): _proportions,
        ("-sm", "--split-mode"): {"none", "layer", "row", "tensor"},
        ("-fa", "--flash-attn"): {"on", "off", "auto"},
        ("-ctk", "--cache-type-k"): LLAMA_CACHE_TYPES,
        ("-ctv", "--cache-type-v"): LLAMA_CACHE_TYPES,
        ("--host",): _any,
        ("--port",): _positive_int,
        ("-np", "--parallel"): _int,
    },
    "positional": 0,
}

VLLM_CACHE_DTYPES = {"auto", "float16", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc"}

VLLM_SERVE = {
    "version": "vllm config/cache.py @ 002f10e; engine arguments (docs.vllm.ai)",
    "flags": {
        ("--max-model-len",): _positive_int,
        ("-tp", "--tensor-parallel-size"): _positive_int,
        ("-pp", "--pipeline-parallel-size"): _positive_int,
        ("--kv-cache-dtype",): VLLM_CACHE_DTYPES,
        ("--gpu-memory-utilization",): _fraction,
        ("--quantization", "-q"): _any,
        ("--host",): _any,
        ("--port",): _positive_int,
    },
    "positional": 1,  # vllm serve MODEL
}

OLLAMA_PARAMETERS = {
    "version": "ollama api/types.go Options + Runner structs",
    "parameters": {"num_ctx", "num_batch", "num_gpu", "main_gpu", "use_mmap", "num_thread", "num_keep", "seed",
                   "num_predict", "top_k", "top_p", "min_p", "typical_p", "repeat_last_n", "temperature",
                   "repeat_penalty", "presence_penalty", "frequency_penalty", "stop"},
    "integer": {"num_ctx", "num_batch", "num_gpu", "main_gpu", "num_thread", "num_keep", "num_predict"},
    "server_env": {"OLLAMA_FLASH_ATTENTION": {"0", "1", "true", "false"}, "OLLAMA_KV_CACHE_TYPE": {"f16", "q8_0", "q4_0"}},
}

MLX_LM_SERVER = {
    "version": "mlx-lm mlx_lm/server.py @ 0130d3b",
    "flags": {
        ("--model",): _any,
        ("--adapter-path",): _any,
        ("--host",): _any,
        ("--port",): _positive_int,
        ("--max-kv-size",): _positive_int,
        ("--kv-bits",): {"4", "8"},
        ("--kv-group-size",): _positive_int,
        ("--max-tokens",): _positive_int,
        ("--trust-remote-code",): None,
    },
    "positional": 0,
}

MLX_LM_CONVERT = {
    "version": "mlx-lm mlx_lm/convert.py @ 04494c9",
    "flags": {
        ("--hf-path", "--model"): _any,
        ("--mlx-path",): _any,
        ("-q", "--quantize"): None,
        ("--q-bits",): _positive_int,
        ("--q-group-size",): _positive_int,
        ("--q-mode",): {"affine", "mxfp4", "nvfp4", "mxfp8"},
        ("--dtype",): _any,
    },
    "positional": 0,
}


def check_argv(argv: list[str], table: dict) -> list[str]:
    """Every problem with ``argv`` (after the program name and subcommand) against ``table``: unknown
    flags, missing or invalid values, extra positional arguments. An empty list is a valid command."""
    flags: dict[str, object] = {}
    for names, rule in table["flags"].items():
        for name in names:
            flags[name] = rule
    problems: list[str] = []
    positional = 0
    i = 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("-") and not re.fullmatch(r"-\d+(\.\d+)?", token):
            if token not in flags:
                problems.append(f"unknown flag {token}")
                i += 1
                continue
            rule = flags[token]
            if rule is None:
                i += 1
                continue
            if i + 1 >= len(argv):
                problems.append(f"{token} needs a value")
                break
            value = argv[i + 1]
            ok = value in rule if isinstance(rule, set) else rule(value)  # type: ignore[operator]
            if not ok:
                problems.append(f"{token} {value!r} is not a documented value")
            i += 2
            continue
        positional += 1
        i += 1
    if positional != table["positional"]:
        problems.append(f"{positional} positional arguments, expected {table['positional']}")
    return problems


def check_modelfile(lines: list[str]) -> list[str]:
    """Problems of Modelfile ``lines`` against Ollama's parameters."""
    problems = []
    if not lines or not lines[0].startswith("FROM "):
        problems.append("a Modelfile starts with FROM")
    for line in lines[1:]:
        parts = line.split()
        if parts[0] != "PARAMETER" or len(parts) != 3:
            problems.append(f"not a PARAMETER line: {line}")
            continue
        name, value = parts[1], parts[2]
        if name not in OLLAMA_PARAMETERS["parameters"]:
            problems.append(f"unknown parameter {name}")
        elif name in OLLAMA_PARAMETERS["integer"] and not _int(value):
            problems.append(f"{name} {value!r} is not an integer")
    return problems
