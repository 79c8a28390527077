"""The serving step model: how long one continuous-batching engine step takes on one replica.

A step runs the decode tokens of the active sequences plus a chunk of pending prefill. Its time is the sum of
five parts, each a roofline (the larger of bytes over achieved bandwidth and FLOPs over achieved matrix rate):

- dense layers (attention projections, shared experts, dense MLPs, the output head): every GPU of the replica
  reads its slice of the weights once per step; FLOPs are 2 per active parameter per token (the head only
  for tokens that produce logits);
- routed experts: a step touches ``1 - (1 - k/E)^tokens`` of them (all replicas' tokens together under
  expert parallelism); with experts spread over GPUs the busiest GPU sets the pace (expected maximum of its
  touched experts and of its token load); grouped GEMMs with few rows per expert run below the matrix rate;
- attention: decode reads each sequence's KV cache at its depth (MLA's latent is replicated on every
  tensor-parallel GPU; GQA heads are split down to one KV head per GPU) and does its FLOPs in the absorbed
  form for MLA; prefill attention is compute-bound, and MLA prefill runs in its expanded form (per head
  ``qk_nope + rope + v`` instead of ``2 x kv_lora_rank + rope``);
- communication: two all-reduces per layer under tensor parallelism, and a dispatch and a combine
  all-to-all per MoE layer under expert parallelism, over the node's interconnect (latency + bytes over
  bandwidth);
- the engine's fixed cost per step, per sequence and per layer.

llama.cpp splits layers over GPUs instead: its step reads every layer in turn at the single-stream constants
of ``efficiency.py`` (so a batch of one is the single-stream estimate), with no collectives.
Pure functions of records; nothing here knows a device or a model by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rigcheck.catalog.records import Quant
from rigcheck.estimate.efficiency import weight_class
from rigcheck.estimate.engines import ServingEngine, compute_dtype
from rigcheck.estimate.memory import KV_BYTES_PER_ELEMENT, ModelShape, weights_bytes
from rigcheck.estimate.node import Parallelism, ServingNode

COLLECTIVE_BANDWIDTH_SHARE = 0.7
"""Share of the interconnect's per-direction bandwidth large collectives reach: rccl-tests all-reduce on 8x
MI300X levels off at 315 GB/s bus bandwidth of 448 (0.70); NCCL's ring on NVLink 4 reaches about 0.8 and
its NVSwitch (NVLS) algorithm a little above 1 (Azure ND H100 v5: 479 of 450)."""
ACTIVATION_BYTES = 2
"""Activations cross the interconnect in BF16."""
MLA_QK_NOPE_HEAD_DIM = 128
MLA_V_HEAD_DIM = 128
"""DeepSeek-V3's per-head dimensions of MLA's expanded (prefill) form; used for every MLA model, since the
catalog does not hold them (GLM-5's 192 and 256 would make its prefill attention 60% dearer)."""
KV_BYTES = {"bf16": 2.0, "fp8": 1.0}
MAX_PREFILL_STEPS = 256
"""Chunks of one prompt stepped one by one; beyond it ``prefill_seconds`` steps groups of chunks."""


@dataclass(frozen=True)
class StepTime:
    """One step's time and its parts, in seconds."""

    dense_s: float
    experts_s: float
    attention_s: float
    communication_s: float
    overhead_s: float

    @property
    def seconds(self) -> float:
        return self.dense_s + self.experts_s + self.attention_s + self.communication_s + self.overhead_s


class StepModel:
    """One model x quant on one node, engine and layout: per-token constants computed once, step times on demand.

    Quantities are per replica; a replica's step covers ``decode_tokens`` sequences decoding one token each
    at ``decode_depth`` tokens of context, plus ``prefill_tokens`` prompt tokens starting at ``prefill_start``.
    """

    def __init__(self, shape: ModelShape, quant: Quant, node: ServingNode, engine: ServingEngine,
                 parallelism: Parallelism, kv_dtype: str, llama_view=None) -> None:
        """``kv_dtype`` is "bf16" or "fp8"; ``llama_view`` is the llama.cpp ``RuntimeView`` of the node's machine
        (required for the llama.cpp engine, whose rates are the single-stream ones)."""
        self.shape = shape
        self.quant = quant
        self.node = node
        self.engine = engine
        self.par = parallelism
        self.kv_dtype = kv_dtype
        model = shape.model
        w = weights_bytes(shape, quant)
        self.weights_bytes = w
        bpp = w / shape.params_total
        emb = min(shape.embedding_params, 0.25 * shape.params_total)
        copies = 1.0 if shape.tied_embeddings else 2.0
        routed_active = shape.expert_params * shape.expert_fraction_active
        dense_active = shape.params_active - routed_active
        self.head_params = emb
        self.body_params = max(dense_active - emb * copies, 0.5 * dense_active)
        self.routed_active_params = routed_active
        self.expert_bytes = shape.expert_params * bpp
        # The input embedding is a table lookup: its rows are not streamed each step.
        self.dense_bytes = max(w - self.expert_bytes - (emb * bpp if copies == 2.0 else 0.0), 0.0)
        self.experts = model.moe_num_experts or 0
        self.experts_per_token = model.moe_experts_per_token or 0
        self.kv_heads = model.num_kv_heads or shape.heads
        self.mla = shape.model.attention == "mla" and bool(model.mla_kv_lora_rank)
        # llama.cpp's 8-bit cache is q8_0 (34 bytes per 32 values).
        kv_per_element = (KV_BYTES[kv_dtype] if engine.tensor_parallel
                          else KV_BYTES_PER_ELEMENT["q8_0" if kv_dtype == "fp8" else "f16"])
        self.kv_scale = kv_per_element / KV_BYTES_PER_ELEMENT["f16"]
        self.wclass = weight_class(quant.name, quant.format)
        t = parallelism.tp
        if engine.tensor_parallel:
            stack = engine.rocm_factor if node.backend == "rocm" else 1.0
            self.dtype = compute_dtype(quant.format, engine, "fp8" in node.flops, "fp4" in node.flops)
            self.gemm_flops_per_s = node.flops[self.dtype] * engine.gemm_efficiency[self.dtype] * stack
            attention_dtype = "fp8" if kv_dtype == "fp8" and "fp8" in node.flops else "bf16"
            self.attention_flops_per_s = node.flops[attention_dtype] * engine.attention_efficiency * stack
            self.seconds_per_byte = 1.0 / (node.bandwidth_bytes_per_s * engine.bandwidth_share * stack)
            self.layer_overhead_s = engine.layer_overhead_s
            self.split_overhead_s = 0.0
            # GQA: heads split down to one KV head per GPU; MLA's single latent is replicated on every GPU.
            self.kv_share = 1.0 if self.mla else max(1.0 / t, 1.0 / max(1, self.kv_heads))
        else:
            if llama_view is None:
                raise ValueError("the llama.cpp engine needs the machine's llama.cpp runtime view")
            self.dtype = "bf16"
            eff = llama_view.eff
            self.gemm_flops_per_s = llama_view.flops16 * eff.prefill_compute[self.wclass]
            self.attention_flops_per_s = llama_view.flops16 * eff.attention_efficiency
            self.seconds_per_byte = llama_view.seconds_per_byte[self.wclass]
            self.layer_overhead_s = eff.decode_overhead_s_per_layer
            self.split_overhead_s = max(0, t - 1) * eff.extra_gpu_overhead_s
            self.kv_share = 1.0
            t = 1  # a layer split reads every layer in turn: one pipeline, rates already combined
        self.gpus_per_replica = t
        if self.mla:
            rope = model.mla_qk_rope_head_dim or 64
            absorbed = 2 * model.mla_kv_lora_rank + rope
            self.prefill_attention_ratio = (MLA_QK_NOPE_HEAD_DIM + rope + MLA_V_HEAD_DIM) / absorbed
        else:
            self.prefill_attention_ratio = 1.0
        self.hidden = shape.hidden
        self.moe_layers = shape.moe_layers if shape.is_moe else 0
        self.dense_layers = shape.layers - self.moe_layers

    # --- the parts of a step -------------------------------------------------------------------------

    def kv_bytes_per_sequence(self, depth_tokens: float) -> float:
        """KV bytes one GPU reads for one sequence at ``depth_tokens`` (its share of the cache)."""
        return self.shape.kv_read_bytes(depth_tokens, "f16") * self.kv_scale * self.kv_share

    def _dense(self, tokens: float, logits_tokens: float) -> float:
        t = self.gpus_per_replica
        read = self.dense_bytes / t * self.seconds_per_byte
        flops = 2.0 * (self.body_params * tokens + self.head_params * logits_tokens) / t
        return max(read, flops / self.gemm_flops_per_s)

    def _experts(self, tokens: float) -> float:
        e, k = self.experts, self.experts_per_token
        if not self.moe_layers or e < 2 or k < 1 or tokens <= 0:
            return 0.0
        par = self.par
        expert_parallel = par.expert_parallel and self.engine.tensor_parallel
        group = par.expert_group if self.engine.tensor_parallel else 1
        group_tokens = tokens * (par.replicas if expert_parallel else 1)
        touched = 1.0 - (1.0 - k / e) ** group_tokens
        bytes_per_expert = self.expert_bytes / e
        if expert_parallel and group > 1:
            held = e / group
            spread = math.sqrt(2.0 * math.log(group))
            busiest = min(held, held * touched + spread * math.sqrt(held * touched * (1.0 - touched)))
            read = busiest * bytes_per_expert
            per_gpu_assignments = group_tokens * k / group
            imbalance = 1.0 + math.sqrt(2.0 * math.log(group) / per_gpu_assignments)
            flops = 2.0 * self.routed_active_params * group_tokens / group * imbalance
        else:
            read = e * touched * bytes_per_expert / group
            flops = 2.0 * self.routed_active_params * group_tokens / group
        # Routing, token permutation and many small grouped GEMMs: the engine's MoE efficiency.
        rate = self.gemm_flops_per_s * self.engine.moe_efficiency
        return max(read * self.seconds_per_byte, flops / rate)

    def _attention(self, decode_tokens: float, decode_depth: float, prefill_tokens: float,
                   prefill_start: float, prefill_sequences: float) -> float:
        t = self.gpus_per_replica
        shape = self.shape
        rate = self.attention_flops_per_s
        decode = 0.0
        if decode_tokens > 0:
            read = decode_tokens * self.kv_bytes_per_sequence(decode_depth) * self.seconds_per_byte
            flops = decode_tokens * 2.0 * shape.attention_macs(decode_depth, 1) / t
            decode = max(read, flops / rate)
        prefill = 0.0
        if prefill_tokens > 0:
            # Several prompts in one chunk attend only within themselves.
            per_prompt = max(1, int(math.ceil(prefill_tokens / prefill_sequences)))
            flops = 2.0 * prefill_sequences * shape.attention_macs(prefill_start, per_prompt) / t
            prefill = flops * self.prefill_attention_ratio / rate
            prefill += prefill_sequences * self.kv_bytes_per_sequence(prefill_start) * self.seconds_per_byte
        return decode + prefill

    def _allreduce(self, tokens: float) -> float:
        t = self.gpus_per_replica
        if t <= 1:
            return 0.0
        ic = self.node.interconnect
        message = tokens * self.hidden * ACTIVATION_BYTES
        return ic.latency_s + 2.0 * (t - 1) / t * message / (ic.bytes_per_s * COLLECTIVE_BANDWIDTH_SHARE)

    def _all_to_all(self, tokens: float) -> float:
        par = self.par
        group = par.expert_group
        if group <= 1:
            return 0.0
        ic = self.node.interconnect
        local_tokens = tokens / self.gpus_per_replica
        sent = local_tokens * self.experts_per_token * self.hidden * ACTIVATION_BYTES * (group - 1) / group
        return ic.latency_s + sent / (ic.bytes_per_s * COLLECTIVE_BANDWIDTH_SHARE)

    def _communication(self, tokens: float) -> float:
        if not self.engine.tensor_parallel:
            return 0.0
        allreduce = self._allreduce(tokens)
        per_dense_layer = 2.0 * allreduce
        if self.par.expert_parallel and self.moe_layers:
            per_moe_layer = allreduce + 2.0 * self._all_to_all(tokens)
        else:
            per_moe_layer = 2.0 * allreduce
        return self.dense_layers * per_dense_layer + self.moe_layers * per_moe_layer

    def _overhead(self, sequences: float) -> float:
        e = self.engine
        return (e.step_overhead_s + e.sequence_overhead_s * sequences
                + self.shape.overhead_layers * self.layer_overhead_s + self.split_overhead_s)

    # --- a whole step ------------------------------------------------------------------------------------

    def _whole_step(self, tokens: float, logits: float, decode_tokens: float, decode_depth: float,
                    prefill_tokens: float, prefill_start: float, prompts: float) -> tuple[float, float]:
        """llama.cpp's step as one roofline: (memory seconds, compute seconds) of the whole graph."""
        shape = self.shape
        e, k = self.experts, self.experts_per_token
        touched = 1.0 - (1.0 - k / e) ** tokens if self.moe_layers and e > 1 and k else 0.0
        read = self.dense_bytes + self.expert_bytes * touched + decode_tokens * self.kv_bytes_per_sequence(decode_depth)
        flops = 2.0 * (self.body_params * tokens + self.head_params * logits + self.routed_active_params * tokens)
        attention = decode_tokens * 2.0 * shape.attention_macs(decode_depth, 1)
        if prefill_tokens > 0:
            per_prompt = max(1, int(math.ceil(prefill_tokens / prompts)))
            attention += 2.0 * prompts * shape.attention_macs(prefill_start, per_prompt) * self.prefill_attention_ratio
        return read * self.seconds_per_byte, flops / self.gemm_flops_per_s + attention / self.attention_flops_per_s

    def step(self, decode_tokens: float, decode_depth: float, prefill_tokens: float = 0.0,
             prefill_start: float = 0.0, prefill_sequences: float = 1.0) -> StepTime:
        """The time of one step of this replica (``decode_tokens`` may be fractional: an average batch).
        ``prefill_tokens`` belong to ``prefill_sequences`` prompts, each starting at ``prefill_start``."""
        decode_tokens = max(0.0, decode_tokens)
        prefill_tokens = max(0.0, prefill_tokens)
        prompts = max(1.0, prefill_sequences) if prefill_tokens > 0 else 0.0
        tokens = decode_tokens + prefill_tokens
        logits = decode_tokens + prompts
        sequences = decode_tokens + prompts
        if not self.engine.tensor_parallel:
            # llama.cpp evaluates a batch as one graph; its batched decode follows the slower of the whole step's
            # memory and compute (llama-batched-bench rows of speed.csv), not the sum of per-kernel rooflines.
            memory, compute = self._whole_step(tokens, logits, decode_tokens, decode_depth, prefill_tokens,
                                               prefill_start, max(1.0, prompts))
            return StepTime(dense_s=max(memory, compute), experts_s=0.0, attention_s=0.0, communication_s=0.0,
                            overhead_s=self._overhead(sequences))
        return StepTime(
            dense_s=self._dense(tokens, logits),
            experts_s=self._experts(tokens),
            attention_s=self._attention(decode_tokens, decode_depth, prefill_tokens, prefill_start,
                                        max(1.0, prompts)),
            communication_s=self._communication(tokens),
            overhead_s=self._overhead(sequences),
        )

    def decode_seconds(self, batch: float, depth: float) -> float:
        """Seconds of a decode-only step of ``batch`` sequences at ``depth``: 1 / per-user tokens/s."""
        return self.step(batch, depth).seconds

    def prefill_seconds(self, prompt_tokens: int, chunk_tokens: int, decode_tokens: float = 0.0,
                        decode_depth: float = 0.0) -> float:
        """Seconds to prefill one prompt in chunks of ``chunk_tokens``, alongside ``decode_tokens`` decodes.

        Up to ``MAX_PREFILL_STEPS`` chunks are stepped one by one; a longer prompt (a workload of huge requests on
        a model whose cache is tiny) is stepped in as many groups of equal chunks, each timed at its middle chunk
        (a chunk's time grows with its start only through attention, linearly): the time stays bounded, where a
        step per chunk of a billion-token prompt took minutes."""
        prompt = float(max(1, prompt_tokens))
        chunk = float(max(1, chunk_tokens))
        whole = int(prompt // chunk)
        if whole <= MAX_PREFILL_STEPS:
            remaining, start, total = prompt, 0.0, 0.0
            while remaining > 0:
                size = min(chunk, remaining)
                total += self.step(decode_tokens, decode_depth, size, start).seconds
                start += size
                remaining -= size
            return total
        total, done = 0.0, 0
        for group in range(MAX_PREFILL_STEPS):
            count = whole * (group + 1) // MAX_PREFILL_STEPS - done
            middle = (done + (count - 1) / 2.0) * chunk
            total += count * self.step(decode_tokens, decode_depth, chunk, middle).seconds
            done += count
        rest = prompt - whole * chunk
        if rest > 0:
            total += self.step(decode_tokens, decode_depth, rest, whole * chunk).seconds
        return total


def single_stream_fixed_seconds(shape: ModelShape, node: ServingNode, engine: ServingEngine, tp: int,
                                kv_dtype: str, depth_tokens: float, kv_read_bytes: float,
                                seconds_per_byte: float) -> float:
    """The part of a batch-of-one decode step that is not streaming the weights, for the single-stream
    estimator: decode seconds = weight bytes read x ``seconds_per_byte`` + kv_read_bytes x ``seconds_per_byte``
    + this. So the estimator's vLLM decode and this model's batch of one are the same number.

    ``kv_read_bytes`` and ``seconds_per_byte`` are the estimator's (the whole cache, bandwidths of ``tp`` GPUs
    added); the difference to this model's attention term (each GPU's share of the cache, or its FLOPs) is
    folded in, with the collectives and the engine's fixed costs.
    """
    probe = Quant(name="BF16", format="safetensors", bits_per_weight=16.0)
    model = StepModel(shape, probe, node, engine, Parallelism(tp, 1, False), kv_dtype)
    step = (model._attention(1.0, depth_tokens, 0.0, 0.0, 1.0) + model._communication(1.0)
            + model._overhead(1.0))
    return step - kv_read_bytes * seconds_per_byte
