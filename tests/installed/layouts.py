"""Real model-folder layouts for tests and benchmarks: GGUF files with real headers (written by gguf's
GGUFWriter: the metadata and tensor table a converted model has) whose size is reached with a sparse
extension, laid out as Ollama, LM Studio, the Hugging Face cache and llama.cpp's cache lay them out.

The tensor tables follow llama.cpp's names and shapes for each architecture (token_embd, blk.N.attn_q,
..., output), so the parameter count read back is the model's; the vocabulary written is short unless a
test asks for the real one (a 128k-token list takes a while to write).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFWriter, LlamaFileType

T = GGMLQuantizationType


@dataclass(frozen=True)
class Spec:
    """An architecture as llama.cpp's converter writes it."""

    arch: str
    name: str
    basename: str
    size_label: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    context: int
    head_dim: int | None = None
    tied: bool = False
    experts: int = 0
    experts_used: int = 0
    expert_ffn: int = 0
    sliding_window: int | None = None
    finetune: str | None = "Instruct"


LLAMA_32_3B = Spec("llama", "Llama 3.2 3B Instruct", "Llama-3.2", "3B", 28, 3072, 24, 8, 8192, 128256, 131072,
                   tied=True)
LLAMA_32_1B = Spec("llama", "Llama 3.2 1B Instruct", "Llama-3.2", "1B", 16, 2048, 32, 8, 8192, 128256, 131072,
                   tied=True)
LLAMA_31_8B = Spec("llama", "Meta Llama 3.1 8B Instruct", "Meta-Llama-3.1", "8B", 32, 4096, 32, 8, 14336, 128256,
                   131072)
QWEN25_7B = Spec("qwen2", "Qwen2.5 7B Instruct", "Qwen2.5", "7B", 28, 3584, 28, 4, 18944, 152064, 32768)
QWEN25_14B = Spec("qwen2", "Qwen2.5 14B Instruct", "Qwen2.5", "14B", 48, 5120, 40, 8, 13824, 152064, 32768)
GEMMA3_4B = Spec("gemma3", "Gemma 3 4b It", "gemma-3", "4B", 34, 2560, 8, 4, 10240, 262144, 131072, head_dim=256,
                 tied=True, sliding_window=1024, finetune="it")
QWEN3_30B_A3B = Spec("qwen3moe", "Qwen3 30B A3B", "Qwen3", "30B-A3B", 48, 2048, 32, 4, 6144, 151936, 40960,
                     head_dim=128, experts=128, experts_used=8, expert_ffn=768, finetune=None)
SMOLLM_360M = Spec("llama", "SmolLM2 360M Instruct", "SmolLM2", "360M", 32, 960, 15, 5, 2560, 49152, 8192,
                   tied=True)
"""Not in the catalog: described from its header."""

# The types llama.cpp's Q4_K_M mix gives each tensor (attn_v and ffn_down of half the layers in Q6_K).
_MIX = {
    "Q4_K_M": (LlamaFileType.MOSTLY_Q4_K_M, T.Q4_K, T.Q6_K),
    "Q8_0": (LlamaFileType.MOSTLY_Q8_0, T.Q8_0, T.Q8_0),
    "Q6_K": (LlamaFileType.MOSTLY_Q6_K, T.Q6_K, T.Q6_K),
    "F16": (LlamaFileType.MOSTLY_F16, T.F16, T.F16),
}


def tensor_table(spec: Spec, quant: str) -> list[tuple[str, tuple[int, ...], GGMLQuantizationType]]:
    """(name, numpy shape, type) of every tensor of ``spec`` in ``quant``, in llama.cpp's order."""
    _, main, high = _MIX[quant]
    hd = spec.head_dim or spec.hidden // spec.heads
    out: list[tuple[str, tuple[int, ...], GGMLQuantizationType]] = [
        ("token_embd.weight", (spec.vocab, spec.hidden), main)]
    for i in range(spec.layers):
        b = f"blk.{i}"
        out += [(f"{b}.attn_norm.weight", (spec.hidden,), T.F32),
                (f"{b}.attn_q.weight", (spec.heads * hd, spec.hidden), main),
                (f"{b}.attn_k.weight", (spec.kv_heads * hd, spec.hidden), main),
                (f"{b}.attn_v.weight", (spec.kv_heads * hd, spec.hidden), high if i % 2 == 0 else main),
                (f"{b}.attn_output.weight", (spec.hidden, spec.heads * hd), main),
                (f"{b}.ffn_norm.weight", (spec.hidden,), T.F32)]
        if spec.experts:
            e, f = spec.experts, spec.expert_ffn
            out += [(f"{b}.ffn_gate_inp.weight", (e, spec.hidden), T.F32),
                    (f"{b}.ffn_gate_exps.weight", (e, f, spec.hidden), main),
                    (f"{b}.ffn_up_exps.weight", (e, f, spec.hidden), main),
                    (f"{b}.ffn_down_exps.weight", (e, spec.hidden, f), high if i % 2 == 0 else main)]
        else:
            out += [(f"{b}.ffn_gate.weight", (spec.ffn, spec.hidden), main),
                    (f"{b}.ffn_up.weight", (spec.ffn, spec.hidden), main),
                    (f"{b}.ffn_down.weight", (spec.hidden, spec.ffn), high if i % 2 == 0 else main)]
    out.append(("output_norm.weight", (spec.hidden,), T.F32))
    if not spec.tied:
        out.append(("output.weight", (spec.vocab, spec.hidden), T.Q6_K if quant == "Q4_K_M" else main))
    return out


def _nbytes(shape: tuple[int, ...], qtype: GGMLQuantizationType) -> int:
    block, size = GGML_QUANT_SIZES[qtype]
    return int(np.prod(shape)) * size // block


def write_gguf(path: Path, spec: Spec, quant: str = "Q4_K_M", *, vocab_tokens: int | None = 256,
               shards: int = 1, cut_to_fraction: float | None = None, extra: dict | None = None) -> list[Path]:
    """Write ``spec`` in ``quant`` at ``path`` (real header and tensor table), each file extended sparsely
    to the size its tensor table says; ``shards`` > 1 splits it as gguf-split names the parts. Returns the
    files. ``cut_to_fraction`` leaves the (last) file that fraction of its size: an interrupted download.
    ``vocab_tokens``: how many tokens the tokenizer list holds (None: the spec's real vocabulary)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = tensor_table(spec, quant)
    per_shard = -(-len(table) // shards) if shards > 1 else 0
    writer = GGUFWriter(path, spec.arch, split_max_tensors=per_shard)
    writer.add_name(spec.name)
    writer.add_basename(spec.basename)
    writer.add_size_label(spec.size_label)
    if spec.finetune:
        writer.add_finetune(spec.finetune)
    writer.add_block_count(spec.layers)
    writer.add_context_length(spec.context)
    writer.add_embedding_length(spec.hidden)
    writer.add_feed_forward_length(spec.ffn)
    writer.add_head_count(spec.heads)
    writer.add_head_count_kv(spec.kv_heads)
    if spec.head_dim:
        writer.add_key_length(spec.head_dim)
        writer.add_value_length(spec.head_dim)
    if spec.experts:
        writer.add_expert_count(spec.experts)
        writer.add_expert_used_count(spec.experts_used)
        writer.add_expert_feed_forward_length(spec.expert_ffn)
    if spec.sliding_window:
        writer.add_sliding_window(spec.sliding_window)
    writer.add_rope_freq_base(500000.0)
    writer.add_tokenizer_model("gpt2")
    n_tokens = spec.vocab if vocab_tokens is None else vocab_tokens
    writer.add_token_list([f"t{i}" for i in range(n_tokens)])
    writer.add_token_types([1] * n_tokens)
    if vocab_tokens is None:
        writer.add_token_merges([f"a{i} b{i}" for i in range(n_tokens)])
    for key, value in (extra or {}).items():
        if isinstance(value, str):
            writer.add_string(key, value)
        else:
            writer.add_uint32(key, value)
    writer.add_file_type(int(_MIX[quant][0]))
    writer.add_quantization_version(2)
    for name, shape, qtype in table:
        writer.add_tensor_info(name, shape, np.dtype(np.float32), _nbytes(shape, qtype), raw_dtype=qtype)
    files = writer.format_shard_names(path)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    for i, f in enumerate(files):
        names = list(writer.tensors[i])
        data = sum(-(-writer.tensors[i][n].nbytes // 32) * 32 for n in names)
        header = f.stat().st_size
        start = -(-header // 32) * 32
        size = start + data
        if cut_to_fraction is not None and i == len(files) - 1:
            size = int(size * cut_to_fraction)
        os.truncate(f, size)
    return files


def write_projector(path: Path, size_bytes: int = 851_251_104) -> Path:
    """A multimodal projector (clip architecture header), extended sparsely."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(path, "clip")
    writer.add_name("mmproj")
    writer.add_tensor_info("v.patch_embd.weight", (1152, 3, 14, 14), np.dtype(np.float32), 1152 * 3 * 14 * 14 * 2,
                           raw_dtype=T.F16)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    os.truncate(path, size_bytes)
    return path


def ollama_pull(models_dir: Path, name: str, tag: str, gguf_file: Path, projector: Path | None = None,
                namespace: str = "library", host: str = "registry.ollama.ai") -> Path:
    """Lay out a model as `ollama pull` does: the GGUF as a blob named by its digest, a manifest whose model
    layer points at it (and a projector layer), beside a template and params layer. The blob is the file
    moved into place (its digest is made from its path: computing sha256 of gigabytes of holes is slow)."""
    blobs = models_dir / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)

    def blob(file: Path) -> dict:
        digest = "sha256:" + hashlib.sha256(str(file).encode()).hexdigest()
        target = blobs / digest.replace(":", "-")
        os.replace(file, target)
        return {"digest": digest, "size": target.stat().st_size}

    def text_blob(text: str) -> dict:
        digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        (blobs / digest.replace(":", "-")).write_text(text)
        return {"digest": digest, "size": len(text)}

    layers = [{"mediaType": "application/vnd.ollama.image.model", **blob(gguf_file)}]
    if projector is not None:
        layers.append({"mediaType": "application/vnd.ollama.image.projector", **blob(projector)})
    layers.append({"mediaType": "application/vnd.ollama.image.template", **text_blob("{{ .Prompt }}")})
    layers.append({"mediaType": "application/vnd.ollama.image.params", **text_blob('{"stop": ["<|eot_id|>"]}')})
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **text_blob("{}")},
                "layers": layers}
    path = models_dir / "manifests" / host / namespace / name / tag
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    return path


def hf_cache_repo(hub: Path, repo_id: str, files: dict[str, Path | bytes | str],
                  commit: str = "0123456789abcdef0123456789abcdef01234567") -> Path:
    """Lay out ``repo_id`` as huggingface_hub caches it: blobs named by etag, a snapshot of symlinks, refs/main.
    ``files`` maps the file name in the repo to a file to move in, or bytes/text to write. Returns the
    snapshot folder."""
    repo = hub / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    for name, content in files.items():
        etag = hashlib.sha1(f"{repo_id}/{name}".encode()).hexdigest()
        blob = repo / "blobs" / etag
        blob.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            os.replace(content, blob)
        elif isinstance(content, bytes):
            blob.write_bytes(content)
        else:
            blob.write_text(content)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    return snapshot


def write_safetensors(path: Path, tensors: dict[str, tuple[str, tuple[int, ...]]]) -> Path:
    """A safetensors file with a real header for ``tensors``, its data a sparse extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = safetensors_bytes(tensors, data_bytes=0)
    path.write_bytes(raw)
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    end = max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    os.truncate(path, len(raw) + end)
    return path


def safetensors_bytes(tensors: dict[str, tuple[str, tuple[int, ...]]], data_bytes: int | None = None) -> bytes:
    """A safetensors file's header for ``tensors`` (name -> (dtype, shape)), followed by its data as zeros
    (``data_bytes`` overrides the data length: a short file)."""
    sizes = {"BF16": 2, "F16": 2, "F32": 4, "U32": 4, "U8": 1, "F8_E4M3": 1}
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = int(np.prod(shape)) * sizes[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    length = offset if data_bytes is None else data_bytes
    return len(raw).to_bytes(8, "little") + raw + b"\0" * length
