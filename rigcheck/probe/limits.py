"""Physically possible ranges for the numbers rigcheck reads: one table for profiles, catalogs, feeds and flags.

A number from a file, a feed or a flag is checked against these at the boundary, so everything past it
(the estimator, the planner, the reports) can do arithmetic without meeting NaN, infinity, a negative size
or a count so large that ``int(float)`` overflows. The ceilings are far above any real part (a hundred
times today's largest where that is cheap) and far below where floats lose their meaning; they are there
to turn a typo or a hostile value into a clear error naming the field, not to second-guess hardware.
"""

from __future__ import annotations

MAX_MEMORY_BYTES = 2**52
"""4 PiB: memory of one device or one machine (today's largest single-system machines have 32 TiB)."""
MAX_DISK_BYTES = 2**62
"""Free disk space: a network file system may be very large; still a finite integer."""
MAX_FILE_BYTES = 2**52
"""One model's weight files (today's largest are a few TB)."""
MIN_BANDWIDTH_BYTES_PER_S = 1e6
"""1 MB/s: any memory or link is thousands of times faster; below this a figure is a typo, and its
reciprocal (seconds per byte) would overflow."""
MAX_BANDWIDTH_BYTES_PER_S = 1e15
"""1 PB/s for one device or link (HBM3e parts reach 8 TB/s)."""
MIN_TFLOPS = 1e-3
"""A GFLOPS: slower than any GPU of this century."""
MAX_TFLOPS = 1e6
"""An exaflop per device (a B200 reaches 10 PFLOPS in dense FP4)."""
MAX_LATENCY_S = 10.0
"""A link's latency (a collective over a node takes microseconds)."""
MIN_CLOCK_MHZ = 1.0
"""A clock is 0 (not known) or at least 1 MHz: slower than any chip that runs a language model. Below it a
figure is a typo, and the time of a prompt computed from it overflows to infinity."""
MAX_CLOCK_MHZ = 100_000
MAX_POWER_W = 1e6
MAX_WIDTH_BITS = 65_536
"""Memory bus width."""
MAX_COUNT = 10_000_000
"""Cores, SMs, experts, heads and other counts of things."""
MAX_LAYERS = 100_000
MAX_DIMENSION = 10_000_000
"""Hidden size, head dimension, ranks, intermediate sizes."""
MAX_VOCAB = 100_000_000
MAX_CONTEXT_TOKENS = 1_000_000_000
"""A model's context or a hosted offer's (the longest today are 10 M tokens)."""
MIN_PARAMS_B = 1e-4
"""100 thousand parameters: smaller than any language model worth estimating."""
MAX_PARAMS_B = 100_000.0
"""Billions of parameters: 100 T (the largest open models have a few T)."""
MIN_BITS_PER_WEIGHT = 0.5
"""Ternary models store 1.58 bits per weight; nothing stores less than half a bit."""
MAX_BITS_PER_WEIGHT = 64.0
MAX_USD = 1e9
"""A price of one thing: a device, a GPU-hour, a million tokens."""
MAX_SCORE = 1e9
"""Published scores are percentages, Elo-like numbers or minutes; finite and bounded either way."""
MAX_PCIE_GEN = 32
MAX_GPUS = 1024
"""GPUs in one machine or one rented node."""
