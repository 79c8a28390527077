"""Hand-made records for estimator tests: models, quants, devices and machines with known numbers."""

from __future__ import annotations

from rigcheck.catalog.records import Catalog, Device, Model, Quant
from rigcheck.probe.types import Cpu, Gpu, Machine, Memory

GIB = 1024**3


def gguf(name: str, bits: float, size_bytes: int | None = None) -> Quant:
    return Quant(name=name, format="gguf", bits_per_weight=bits, file_size_bytes=size_bytes, runtimes=["llama.cpp"])


LLAMA3_8B = Model(
    id="meta-llama/Meta-Llama-3-8B", family="llama3", params_total_b=8.03, params_active_b=8.03, num_layers=32,
    hidden_size=4096, num_attention_heads=32, num_kv_heads=8, head_dim=128, vocab_size=128256,
    max_context_tokens=8192, tie_word_embeddings=False, attention="gqa",
    quants=[gguf("F16", 16.0, int(14.96 * GIB)), gguf("Q8_0", 8.5), gguf("Q4_K_M", 4.89, int(4.58 * GIB)),
            Quant(name="BF16", format="safetensors", bits_per_weight=16.0, runtimes=["vllm"]),
            Quant(name="MLX-4bit", format="mlx", bits_per_weight=4.5, runtimes=["mlx"])],
)
LLAMA2_7B = Model(
    id="meta-llama/Llama-2-7b-hf", family="llama2", params_total_b=6.74, params_active_b=6.74, num_layers=32,
    hidden_size=4096, num_attention_heads=32, num_kv_heads=32, head_dim=128, vocab_size=32000,
    max_context_tokens=4096, attention="mha", quants=[gguf("Q4_0", 4.5)],
)
DEEPSEEK_MLA = Model(
    id="deepseek-ai/DeepSeek-V3", family="deepseek-v3", params_total_b=671, params_active_b=37, num_layers=61,
    hidden_size=7168, num_attention_heads=128, vocab_size=129280, max_context_tokens=163840, attention="mla",
    mla_kv_lora_rank=512, mla_qk_rope_head_dim=64, moe_num_experts=256, moe_experts_per_token=8,
    moe_shared_experts=1, first_dense_layers=3,
    quants=[Quant(name="FP8", format="fp8", bits_per_weight=8.0, file_size_bytes=671_000_000_000, runtimes=["vllm"]),
            gguf("Q4_K_M", 4.84)],
)
GPT_OSS_SWA = Model(
    id="openai/gpt-oss-20b", family="gpt-oss", params_total_b=21, params_active_b=3.6, num_layers=24,
    hidden_size=2880, num_attention_heads=64, num_kv_heads=8, head_dim=64, vocab_size=201088,
    max_context_tokens=131072, attention="swa-mixed", sliding_window_tokens=128, full_attention_layers=12,
    moe_num_experts=32, moe_experts_per_token=4, quants=[gguf("MXFP4", 4.25, int(11.27 * GIB))],
)
HYBRID = Model(
    id="Qwen/Qwen3-Next-80B-A3B-Instruct", family="qwen3-next", params_total_b=81.3, params_active_b=3.0,
    num_layers=48, hidden_size=2048, num_attention_heads=16, num_kv_heads=2, head_dim=256, vocab_size=151936,
    max_context_tokens=262144, attention="hybrid-linear", full_attention_layers=12,
    linear_state_bytes_per_layer=4 * 1024 * 1024, moe_num_experts=512, moe_experts_per_token=10,
    quants=[gguf("Q4_K_M", 4.84)],
)

RTX_4090 = Device(name="NVIDIA GeForce RTX 4090", vendor="NVIDIA", kind="consumer", aliases=["RTX 4090"],
                  memory_bytes=24 * GIB, bandwidth_bytes_per_s=1008e9, fp16_tensor_tflops=165.2,
                  fp8_tensor_tflops=330.3, pcie_gen=4)
RTX_3090 = Device(name="NVIDIA GeForce RTX 3090", vendor="NVIDIA", kind="consumer", aliases=["RTX 3090"],
                  memory_bytes=24 * GIB, bandwidth_bytes_per_s=936.2e9, fp16_tensor_tflops=71, pcie_gen=4)
RTX_3060 = Device(name="NVIDIA GeForce RTX 3060", vendor="NVIDIA", kind="consumer", aliases=["RTX 3060"],
                  memory_bytes=12 * GIB, bandwidth_bytes_per_s=360e9, fp16_vector_tflops=12.7, pcie_gen=4)
H100 = Device(name="NVIDIA H100 SXM", vendor="NVIDIA", kind="datacenter", aliases=["H100"], memory_bytes=80 * GIB,
              bandwidth_bytes_per_s=3350e9, fp16_tensor_tflops=989, fp8_tensor_tflops=1979, pcie_gen=5)
M2_ULTRA = Device(name="Apple M2 Ultra (76-core GPU)", vendor="Apple", kind="apple", aliases=["M2 Ultra"],
                  memory_options_bytes=[64 * GIB, 128 * GIB, 192 * GIB], bandwidth_bytes_per_s=800e9,
                  gpu_cores=76, unified_memory=True)
DEVICES = [RTX_4090, RTX_3090, RTX_3060, H100, M2_ULTRA]


def machine(devices: list[Device], ram_gib: float = 64, *, free_vram_gib: float | None = None,
            free_ram_gib: float | None = None, cpu: Cpu | None = None) -> Machine:
    """A machine with the given GPUs (from the hand-made table) and RAM."""
    gpus = []
    for i, d in enumerate(devices):
        gpus.append(Gpu(
            index=i, vendor=d.vendor.lower(), name=d.name,  # type: ignore[arg-type]
            vram_total_bytes=None if d.unified_memory else d.memory_bytes,
            vram_free_bytes=int(free_vram_gib * GIB) if free_vram_gib is not None else None,
            unified_memory=d.unified_memory, memory_bandwidth_bytes_per_s=d.bandwidth_bytes_per_s,
            gpu_cores=d.gpu_cores, pcie_gen_max=d.pcie_gen,
            sources={"memory_bandwidth_bytes_per_s": "spec table"},
        ))
    return Machine(
        gpus=tuple(gpus),
        cpu=cpu or Cpu(physical_cores=16, max_clock_mhz=4500, isa_flags=("avx2", "fma"), architecture="x86_64"),
        memory=Memory(total_bytes=int(ram_gib * GIB),
                      available_bytes=int(free_ram_gib * GIB) if free_ram_gib is not None else None,
                      bandwidth_bytes_per_s=80e9, sources={"bandwidth_bytes_per_s": "measured"}),
        origin="hypothetical", label="test machine",
    )


def small_catalog() -> Catalog:
    return Catalog(schema_version="1.0", generated_at="2026-11-01T00:00:00Z",
                   models=[LLAMA3_8B, LLAMA2_7B, DEEPSEEK_MLA, GPT_OSS_SWA, HYBRID], devices=DEVICES)
