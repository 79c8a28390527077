"""The quants table: which quants are published for a model (publisher conventions, sizes from bits per weight)
and the real file sizes of supplement/quant_files.csv that replace those estimates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from msgspec.structs import replace

from rigcheck.catalog.records import Model, Quant
from rigcheck.catalog.sources.reference.cells import DERIVED, BuildError, parse_float, parse_int, read_csv

LLAMA_CPP_QUANTIZE = (
    "llama.cpp tools/quantize/README.md (BPW of the K-quant mixes, measured on Llama 2 7B) and "
    "tools/quantize/quantize.cpp (IQ type descriptions)"
)


@dataclass(frozen=True)
class QuantType:
    name: str
    format: str
    bits_per_weight: float
    runtimes: tuple[str, ...]
    source: str


# Average stored bits per weight over a whole file. K-quant mixes (Q4_K_M ...) from llama.cpp's quantize
# README table (Llama 2 7B); single-type figures from the block layouts (Q8_0: 34 bytes per 32 weights).
GGUF_TYPES: dict[str, QuantType] = {
    q.name: q
    for q in (
        QuantType("F16", "gguf", 16.0, ("llama.cpp",), "16-bit weights"),
        QuantType("BF16", "gguf", 16.0, ("llama.cpp",), "16-bit weights"),
        QuantType("Q8_0", "gguf", 8.5, ("llama.cpp",), "llama.cpp ggml-common.h block_q8_0: 34 bytes per 32 weights"),
        QuantType("Q6_K", "gguf", 6.56, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("Q5_K_M", "gguf", 5.68, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("Q4_K_M", "gguf", 4.84, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("IQ4_XS", "gguf", 4.25, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("Q3_K_M", "gguf", 3.91, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("IQ3_XXS", "gguf", 3.06, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("Q2_K", "gguf", 3.35, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("IQ2_XXS", "gguf", 2.06, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        # Unsloth dynamic quants: the averages unsloth states for DeepSeek-R1 (1.58/1.73/2.22/2.51 bit).
        QuantType("UD-IQ1_S", "gguf", 1.58, ("llama.cpp",), "https://unsloth.ai/blog/deepseekr1-dynamic"),
        QuantType("UD-IQ1_M", "gguf", 1.73, ("llama.cpp",), "https://unsloth.ai/blog/deepseekr1-dynamic"),
        QuantType("UD-IQ2_XXS", "gguf", 2.22, ("llama.cpp",), "https://unsloth.ai/blog/deepseekr1-dynamic"),
        QuantType("UD-Q2_K_XL", "gguf", 2.51, ("llama.cpp",), "https://unsloth.ai/blog/deepseekr1-dynamic"),
    )
}

OTHER_TYPES: dict[str, QuantType] = {
    q.name: q
    for q in (
        QuantType("BF16", "safetensors", 16.0, ("vllm",), "original 16-bit weights"),
        QuantType("FP8", "fp8", 8.0, ("vllm",), "8-bit float weights; per-block scales add well under 1%"),
        QuantType("AWQ-INT4", "awq", 4.25, ("vllm",), "4-bit integers + one 16-bit scale per group of 128 weights"),
        QuantType("GPTQ-INT4", "gptq", 4.25, ("vllm",), "4-bit integers + one 16-bit scale per group of 128 weights"),
        QuantType("MLX-4bit", "mlx", 4.5, ("mlx",), "mlx quantize default: group 64, 16-bit scale and bias per group"),
        QuantType("MLX-8bit", "mlx", 8.5, ("mlx",), "mlx quantize: group 64, 16-bit scale and bias per group"),
        QuantType("MXFP4", "mxfp4", 4.25, ("llama.cpp", "vllm"), "OCP MX FP4: 4-bit + one 8-bit scale per 32 weights"),
        QuantType("NVFP4", "nvfp4", 4.5, ("vllm",), "NVIDIA NVFP4: 4-bit + one FP8 scale per 16 weights"),
    )
}
# An MXFP4 conversion (AMD Quark) of a model published in another format: served by vLLM/SGLang, not llama.cpp.
MXFP4_CONVERSION = QuantType("MXFP4", "mxfp4", 4.25, ("vllm",), "OCP MX FP4: 4-bit + one 8-bit scale per 32 weights")

STANDARD_GGUF = ("F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "IQ3_XXS", "Q2_K", "IQ2_XXS")
DYNAMIC_GGUF = ("UD-IQ1_S", "UD-IQ1_M", "UD-IQ2_XXS", "UD-Q2_K_XL")

# Which extra formats are published for which models: publisher conventions, matched on the repo id.
# Native FP8 checkpoints (the original weights are FP8, so there is no BF16 original to list).
NATIVE_FP8 = ("deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-V4", "moonshotai/Kimi-K2",
              "MiniMaxAI/MiniMax-M2")
NATIVE_FP8_EXCLUDE = ("Distill",)
NATIVE_MXFP4 = ("openai/gpt-oss-",)
# Official FP8 repos next to BF16 (Qwen "-FP8", Z.ai "-FP8", Meta Llama 4 Maverick "-FP8").
FP8_REPOS = ("Qwen/Qwen3-", "Qwen/Qwen3.5-", "Qwen/Qwen3.6-", "zai-org/GLM-4.5", "zai-org/GLM-4.6", "zai-org/GLM-4.7",
             "zai-org/GLM-5", "meta-llama/Llama-4-Maverick")
AWQ_GPTQ_REPOS = ("Qwen/Qwen2.5-",)
AWQ_REPOS = ("Qwen/Qwen3-0.6B", "Qwen/Qwen3-1.7B", "Qwen/Qwen3-4B", "Qwen/Qwen3-8B", "Qwen/Qwen3-14B", "Qwen/Qwen3-32B")
NVFP4_REPOS = {
    "deepseek-ai/DeepSeek-R1": "nvidia/DeepSeek-R1-FP4",
    "deepseek-ai/DeepSeek-R1-0528": "nvidia/DeepSeek-R1-0528-FP4",
    "meta-llama/Llama-3.3-70B-Instruct": "nvidia/Llama-3.3-70B-Instruct-FP4",
    "meta-llama/Llama-3.1-405B-Instruct": "nvidia/Llama-3.1-405B-Instruct-FP4",
    "Qwen/Qwen3-235B-A22B": "nvidia/Qwen3-235B-A22B-FP4",
    "Qwen/Qwen3-30B-A3B": "nvidia/Qwen3-30B-A3B-FP4",
}
# NVIDIA ModelOpt FP8 checkpoints of models whose publisher ships only BF16 (Meta's own FP8 of 405B is
# "meta-llama/Llama-3.1-405B-Instruct-FP8"): the "FP8 Models" list of TensorRT-LLM's perf overview
# (github.com/NVIDIA/TensorRT-LLM@00f37686 docs/source/performance/perf-overview.md).
FP8_SIBLING_REPOS = {
    "meta-llama/Llama-3.1-8B-Instruct": "nvidia/Llama-3.1-8B-Instruct-FP8",
    "meta-llama/Llama-3.3-70B-Instruct": "nvidia/Llama-3.3-70B-Instruct-FP8",
    "meta-llama/Llama-3.1-405B-Instruct": "meta-llama/Llama-3.1-405B-Instruct-FP8",
}
# AMD Quark MXFP4 checkpoints of FP8/BF16 models, served by vLLM and SGLang on MI355X (InferenceX runs
# "amd/DeepSeek-R1-0528-MXFP4-Preview"; vLLM's quark loader names amd/DeepSeek-R1-0528-MXFP4 and amd/GLM-5-MXFP4).
MXFP4_REPOS = {
    "deepseek-ai/DeepSeek-R1-0528": "amd/DeepSeek-R1-0528-MXFP4-Preview",
    "zai-org/GLM-5": "amd/GLM-5-MXFP4",
}
DYNAMIC_GGUF_FAMILIES = ("deepseek-v3", "kimi-k2", "glm-4.5", "glm-4.6", "glm-4.7", "glm-5", "qwen3-moe", "qwen3.5",
                         "minimax-m2", "llama4")


def add_quants(models: dict[str, Model], supplement_dir: Path) -> None:
    """Give every model its quants: the derived list, then the real sizes of supplement/quant_files.csv.

    Replaces the records in ``models`` in place. Raises BuildError for a quant file naming an unknown model,
    or with no size, or whose bits per weight cannot be known.
    """
    for model_id, model in models.items():
        models[model_id] = replace(model, quants=quants_for(model))
    _apply_quant_files(models, read_csv(supplement_dir / "quant_files.csv"))


def _is_big_moe(model: Model) -> bool:
    return bool(model.is_moe and model.params_total_b and model.params_total_b >= 100)


def quants_for(model: Model) -> list[Quant]:
    """The quants people download for this model (type rules; sizes estimated from bits per weight)."""
    mid = model.id
    names: list[tuple[str, QuantType]] = []
    native_fp8 = mid.startswith(NATIVE_FP8) and not any(x in mid for x in NATIVE_FP8_EXCLUDE)
    native_mxfp4 = mid.startswith(NATIVE_MXFP4)
    if native_mxfp4:
        names.append(("MXFP4", OTHER_TYPES["MXFP4"]))
    elif native_fp8:
        names.append(("FP8", OTHER_TYPES["FP8"]))
    else:
        names.append(("BF16", OTHER_TYPES["BF16"]))
        if (mid.startswith(FP8_REPOS) and (model.params_total_b or 0) >= 0.5) or mid in FP8_SIBLING_REPOS:
            names.append(("FP8", OTHER_TYPES["FP8"]))
    if mid.startswith(AWQ_GPTQ_REPOS) and "Instruct" in mid:
        names += [("AWQ-INT4", OTHER_TYPES["AWQ-INT4"]), ("GPTQ-INT4", OTHER_TYPES["GPTQ-INT4"])]
    elif mid in AWQ_REPOS:
        names.append(("AWQ-INT4", OTHER_TYPES["AWQ-INT4"]))
    if mid in NVFP4_REPOS:
        names.append(("NVFP4", OTHER_TYPES["NVFP4"]))
    if mid in MXFP4_REPOS:
        names.append(("MXFP4", MXFP4_CONVERSION))
    # gpt-oss GGUFs keep the MXFP4 expert weights whatever the type name says (the "F16" GGUF of gpt-oss-20b
    # is 13.8 GB, not 42), so a bits-per-weight estimate would be badly wrong: list only sourced GGUF sizes.
    gguf = STANDARD_GGUF if not native_mxfp4 else ()
    names += [(n, GGUF_TYPES[n]) for n in gguf]
    if model.family in DYNAMIC_GGUF_FAMILIES and _is_big_moe(model):
        names += [(n, GGUF_TYPES[n]) for n in DYNAMIC_GGUF]
    names += [("MLX-4bit", OTHER_TYPES["MLX-4bit"]), ("MLX-8bit", OTHER_TYPES["MLX-8bit"])]

    quants = []
    for name, qtype in names:
        size = None
        if model.params_total_b:
            size = int(round(model.params_total_b * 1e9 * qtype.bits_per_weight / 8))
        sources = [f"bits_per_weight: {qtype.source}"]
        if size is not None:
            sources.append(f"file_size_bytes: {DERIVED} = params_total x bits_per_weight / 8 (estimate)")
        quants.append(Quant(
            name=name,
            format=qtype.format,  # type: ignore[arg-type]
            bits_per_weight=qtype.bits_per_weight,
            file_size_bytes=size,
            size_is_estimate=size is not None,
            repo=_repo_for(mid, qtype, native_fp8),
            runtimes=list(qtype.runtimes),  # type: ignore[arg-type]
            sources=sources + [f"availability: {DERIVED} from publisher conventions for this family"],
        ))
    return quants


def _repo_for(model_id: str, qtype: QuantType, native_fp8: bool) -> str | None:
    """The Hugging Face repo holding these weights, where the publisher's naming makes it certain enough:
    the original repo for native formats, the publisher's "-FP8" sibling, NVIDIA's NVFP4 repos. GGUF and MLX
    conversions come from several third parties, so no repo is named for them."""
    if qtype.format == "nvfp4":
        return NVFP4_REPOS.get(model_id)
    if qtype.format == "fp8":
        return model_id if native_fp8 else FP8_SIBLING_REPOS.get(model_id, f"{model_id}-FP8")
    if qtype is MXFP4_CONVERSION:
        return MXFP4_REPOS.get(model_id)
    if qtype.format in ("safetensors", "mxfp4"):
        return model_id
    if qtype.format == "awq" and model_id.startswith("Qwen/"):
        return f"{model_id}-AWQ"
    if qtype.format == "gptq" and model_id.startswith("Qwen/"):
        return f"{model_id}-GPTQ-Int4"
    return None


def _apply_quant_files(models: dict[str, Model], rows: list[dict[str, str]]) -> None:
    """Replace estimated sizes by real ones from supplement/quant_files.csv (adding the quant if absent)."""
    for row in rows:
        model = models.get(row["model_id"])
        if model is None:
            raise BuildError(f"quant_files.csv: unknown model {row['model_id']!r}")
        size = parse_int(row["file_size_bytes"])
        if size is None:
            raise BuildError(f"quant_files.csv: {row['model_id']} {row['quant']} has no file_size_bytes")
        name = row["quant"]
        fmt = row["format"]
        known = GGUF_TYPES.get(name) if fmt == "gguf" else OTHER_TYPES.get(name)
        bpw = parse_float(row.get("bits_per_weight", ""))
        source_bpw = row["source"]
        if bpw is None and model.params_total_b:
            # Average bits per weight implied by the real size: what the estimator should use when the
            # file size is not at hand (e.g. per-layer splitting).
            bpw = round(size * 8 / (model.params_total_b * 1e9), 3)
            source_bpw = f"{DERIVED} = file size x 8 / params_total"
        if bpw is None and known is not None:
            bpw, source_bpw = known.bits_per_weight, known.source
        if bpw is None:
            raise BuildError(f"quant_files.csv: {row['model_id']} {name}: bits per weight unknown")
        runtimes = list(known.runtimes) if known else (["llama.cpp"] if fmt == "gguf" else ["vllm"])
        sources = [f"file_size_bytes: {row['source']}", f"bits_per_weight: {source_bpw}"]
        quant = Quant(name=name, format=fmt, bits_per_weight=bpw, file_size_bytes=size,  # type: ignore[arg-type]
                      size_is_estimate=False, repo=row.get("repo") or None, runtimes=runtimes,  # type: ignore[arg-type]
                      sources=sources + ([f"note: {row['note']}"] if row.get("note") else []))
        kept = [q for q in model.quants if not (q.name == name and q.format == fmt)]
        models[model.id] = replace(model, quants=kept + [quant])
    for model_id in {row["model_id"] for row in rows}:
        models[model_id] = _drop_unpublished_estimates(models[model_id])


def _drop_unpublished_estimates(model: Model) -> Model:
    """Remove estimated GGUF quants smaller than the smallest GGUF whose real size is known.

    Where a source states the smallest quant anyone publishes (GLM-5.2: 217 GB), a plain-type estimate
    below it (IQ2_XXS at 2.06 bits would be 194 GB) describes a file that does not exist: the publishers'
    low-bit files keep attention and shared tensors at higher precision.
    """
    real = [q.file_size_bytes for q in model.quants
            if q.format == "gguf" and not q.size_is_estimate and q.file_size_bytes]
    if not real:
        return model
    floor = min(real)
    kept = [q for q in model.quants
            if not (q.format == "gguf" and q.size_is_estimate and q.file_size_bytes and q.file_size_bytes < floor)]
    return replace(model, quants=kept)
