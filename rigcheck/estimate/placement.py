"""Where a model's bytes go on a machine: all on GPU(s), unified memory, GPU + RAM, CPU, or nowhere.

Rules (llama.cpp's, which is what people run on their own machines):
- ``gpu``: every layer on the GPU(s). Several GPUs split the layers in proportion to the memory each
  has left after its own overhead (llama.cpp's default ``--split-mode layer``). llama.cpp keeps the
  token-embedding matrix in host RAM (only one row per token is read).
- ``unified``: the same on a unified-memory part, against the GPU-usable share of RAM.
- ``gpu+ram``: as many whole layers as fit on the GPU(s), the rest in RAM (``-ngl N``); for MoE models
  also the ``--n-cpu-moe`` layout (attention, shared experts, dense layers and the cache on the GPU;
  the routed experts of the layers that do not fit, in RAM). The faster of the two is kept.
- ``cpu``: everything in RAM.
- ``no_fit``: none of these fits.
vLLM-class runtimes and MLX place everything on the GPU(s) or do not run.
Budgets leave headroom (``resolved.VRAM_HEADROOM_FRACTION``, ``resolved.RAM_RESERVE_BYTES``).
"""

from __future__ import annotations


class WeightSplit:
    """A model x quant's weight bytes by role, for one runtime (slotted: built per row in the hot loop).

    total_bytes: the weight files. host_bytes: stays in host RAM whatever the placement (llama.cpp's
    token embeddings). output_bytes: the output head, on the last GPU when any layer is there (read every
    token). table_bytes: the input-embedding table held on the GPU beside the layers (vLLM, MLX with an
    untied head): resident, but a token reads one row of it. layer_bytes: all repeating layers (attention,
    dense FFN, shared and routed experts). expert_bytes: the routed experts, part of layer_bytes.
    expert_fraction_active: k / E.
    """

    __slots__ = ("total_bytes", "host_bytes", "output_bytes", "layer_bytes", "expert_bytes",
                 "expert_fraction_active", "layers", "moe_layers", "table_bytes")

    def __init__(self, total_bytes: float, host_bytes: float, output_bytes: float, layer_bytes: float,
                 expert_bytes: float, expert_fraction_active: float, layers: int, moe_layers: int,
                 table_bytes: float = 0.0) -> None:
        self.total_bytes = total_bytes
        self.host_bytes = host_bytes
        self.output_bytes = output_bytes
        self.layer_bytes = layer_bytes
        self.expert_bytes = expert_bytes
        self.expert_fraction_active = expert_fraction_active
        self.layers = layers
        self.moe_layers = moe_layers
        self.table_bytes = table_bytes

    @property
    def gpu_bytes_all(self) -> float:
        return self.layer_bytes + self.output_bytes + self.table_bytes

    @property
    def layer_read_bytes(self) -> float:
        """Bytes of the repeating layers one token reads (routed experts: only k of E)."""
        return self.layer_bytes - self.expert_bytes * (1.0 - self.expert_fraction_active)


class Budget:
    """Memory available to a model on one machine.

    gpu_bytes: per GPU, usable bytes less that GPU's fixed overhead (context, compute buffer, projector).
    ram_bytes: RAM usable for the model. allow_ram: False for runtimes that cannot put weights in RAM
    (vLLM, MLX).
    """

    __slots__ = ("gpu_bytes", "ram_bytes", "unified", "allow_ram", "gpu_total", "gpus_used", "_description")

    def __init__(self, gpu_bytes: tuple[float, ...], ram_bytes: float, unified: bool, allow_ram: bool) -> None:
        self.gpu_bytes = gpu_bytes
        self.ram_bytes = ram_bytes
        self.unified = unified
        self.allow_ram = allow_ram
        # A GPU whose overhead alone exceeds its memory holds nothing.
        self.gpu_total = sum(b for b in gpu_bytes if b > 0)
        self.gpus_used = sum(1 for b in gpu_bytes if b > 0)
        self._description: tuple[int, str] | None = None

    def describe_all_on_gpu(self, layers: int) -> str:
        """"all 32 layers on GPU" and the like (formatted once per budget)."""
        cached = self._description
        if cached is None or cached[0] != layers:
            where = ("unified memory" if self.unified else
                     "GPU" if self.gpus_used == 1 else f"{self.gpus_used} GPUs (layer split)")
            cached = self._description = (layers, f"all {layers} layers on {where}")
        return cached[1]


class Placement:
    """Where one row's bytes go (slotted: built once or twice per row in the hot loop).

    gpu_read_bytes / ram_read_bytes: weight bytes one decode step reads there. kv_gpu_fraction: the share
    of the KV cache held (and read) on the GPU(s). ram_weight_bytes: weights resident in RAM that a GPU
    streams over PCIe during prefill.
    """

    __slots__ = ("verdict", "description", "gpu_bytes", "ram_bytes", "gpu_read_bytes", "ram_read_bytes",
                 "kv_gpu_fraction", "ram_weight_bytes", "gpus_used", "gpu_layers", "cpu_moe_layers")

    def __init__(self, verdict: str, description: str, gpu_bytes: float, ram_bytes: float, gpu_read_bytes: float,
                 ram_read_bytes: float, kv_gpu_fraction: float, ram_weight_bytes: float, gpus_used: int,
                 gpu_layers: int | None = None, cpu_moe_layers: int | None = None) -> None:
        self.verdict = verdict
        self.description = description
        self.gpu_bytes = gpu_bytes
        self.ram_bytes = ram_bytes
        self.gpu_read_bytes = gpu_read_bytes
        self.ram_read_bytes = ram_read_bytes
        self.kv_gpu_fraction = kv_gpu_fraction
        self.ram_weight_bytes = ram_weight_bytes
        self.gpus_used = gpus_used
        self.gpu_layers = gpu_layers
        """GPU + RAM by layers: how many repeating layers are on the GPU(s) (llama.cpp's -ngl)."""
        self.cpu_moe_layers = cpu_moe_layers
        """GPU + RAM by experts: how many layers keep their routed experts in RAM (--n-cpu-moe)."""


NO_FIT = Placement("no_fit", "does not fit", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0)


def place(split: WeightSplit, kv_bytes: float, budget: Budget, ram_overhead_bytes: float,
          decode_cost) -> Placement:
    """The best placement of ``split`` plus ``kv_bytes`` of cache within ``budget``.

    ``decode_cost(gpu_read_bytes, ram_read_bytes, gpus_used)`` returns seconds per token; it picks
    between the two GPU + RAM layouts. Returns ``NO_FIT`` when nothing fits.
    """
    gpu_total = budget.gpu_total
    gpus_used = budget.gpus_used
    need_gpu = split.gpu_bytes_all + kv_bytes
    if gpus_used and need_gpu <= gpu_total:
        return Placement("unified" if budget.unified else "gpu", budget.describe_all_on_gpu(split.layers),
                         need_gpu, split.host_bytes, split.layer_read_bytes + split.output_bytes, 0.0, 1.0, 0.0,
                         gpus_used)

    if not budget.allow_ram:
        return NO_FIT
    ram_budget = budget.ram_bytes - ram_overhead_bytes
    if gpus_used and not budget.unified and split.layers > 1:
        layer = _layer_offload(split, kv_bytes, gpu_total, ram_budget, gpus_used)
        expert = _expert_offload(split, kv_bytes, gpu_total, ram_budget, gpus_used) if split.expert_bytes > 0 else None
        if layer is not None and expert is not None:
            # The faster layout; on a tie the layer split, the simpler one.
            if (decode_cost(expert.gpu_read_bytes, expert.ram_read_bytes, expert.gpus_used)
                    < decode_cost(layer.gpu_read_bytes, layer.ram_read_bytes, layer.gpus_used)):
                return expert
            return layer
        if layer is not None or expert is not None:
            return layer or expert
    need_ram = split.total_bytes + kv_bytes
    if need_ram <= ram_budget:
        return Placement("cpu", "all layers in RAM (CPU)", 0.0, need_ram, 0.0,
                         split.layer_read_bytes + split.output_bytes, 0.0, 0.0, 0)
    return NO_FIT


def _layer_offload(split: WeightSplit, kv_bytes: float, gpu_total: float, ram_budget: float,
                   gpus_used: int) -> Placement | None:
    layers = split.layers
    per_layer = (split.layer_bytes + kv_bytes) / layers
    room = gpu_total - split.output_bytes - split.table_bytes
    n = int(room // per_layer) if per_layer > 0 and room > 0 else 0
    n = min(n, layers - 1)
    if n < 1:
        return None
    ram_layers = layers - n
    ram_need = ram_layers * per_layer + split.host_bytes
    if ram_need > ram_budget:
        return None
    read_per_layer = split.layer_read_bytes / layers
    return Placement(
        "gpu+ram", f"{n} of {layers} layers on GPU, {ram_layers} in RAM (-ngl {n})",
        n * per_layer + split.output_bytes + split.table_bytes, ram_need,
        n * read_per_layer + split.output_bytes, ram_layers * read_per_layer, n / layers,
        ram_layers * split.layer_bytes / layers, gpus_used, gpu_layers=n,
    )


def _expert_offload(split: WeightSplit, kv_bytes: float, gpu_total: float, ram_budget: float,
                    gpus_used: int) -> Placement | None:
    dense = split.layer_bytes - split.expert_bytes + split.output_bytes + split.table_bytes + kv_bytes
    if dense > gpu_total or split.moe_layers < 1:
        return None
    per_moe_layer = split.expert_bytes / split.moe_layers
    n = int((gpu_total - dense) // per_moe_layer) if per_moe_layer > 0 else 0
    n = max(0, min(n, split.moe_layers - 1))
    cpu_layers = split.moe_layers - n
    ram_need = cpu_layers * per_moe_layer + split.host_bytes
    if ram_need > ram_budget:
        return None
    frac = split.expert_fraction_active
    read_dense = split.layer_bytes - split.expert_bytes + split.output_bytes
    return Placement(
        "gpu+ram",
        f"attention, shared and {n} of {split.moe_layers} layers' experts on GPU; experts of "
        f"{cpu_layers} layers in RAM (--n-cpu-moe {cpu_layers})",
        dense + n * per_moe_layer, ram_need,
        read_dense + n * per_moe_layer * frac, cpu_layers * per_moe_layer * frac, 1.0,
        cpu_layers * per_moe_layer, gpus_used, cpu_moe_layers=cpu_layers,
    )


def solve_max_context(avail_bytes: float, per_token_full: float, per_token_window: float, window: int,
                      fixed_bytes: float, model_max: int | None) -> int | None:
    """Longest context whose cache fits in ``avail_bytes`` (piecewise linear in the context).

    Cache bytes = full x c + window_part x min(c, W) + fixed. Returns None when not even a
    256-token context fits.
    """
    room = avail_bytes - fixed_bytes
    if room <= 0:
        return None
    cap = model_max or 10_000_000
    if per_token_full <= 0 and per_token_window <= 0:
        return cap
    if window and per_token_window > 0:
        at_window = (per_token_full + per_token_window) * window
        if room <= at_window:
            ctx = room / (per_token_full + per_token_window)
        elif per_token_full > 0:
            ctx = (room - per_token_window * window) / per_token_full
        else:
            ctx = cap
    else:
        ctx = room / (per_token_full + per_token_window)
    ctx = int(min(ctx, cap))
    return ctx if ctx >= 256 else None
