"""Installed-model scan: 500 GGUF files with real headers (llama.cpp's tensor tables, sparse sizes) in an
LM Studio-style tree, scanned cold (every header read) and warm (the header cache). Target: 500 files
< 1 s, headers only. Also the cost of one header with a real Llama 3 vocabulary (128k tokens, 128k merges)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 1.0
FILES = 500


def run() -> bool:
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    from rigcheck.catalog.installed.gguf_header import read_header
    from rigcheck.catalog.installed.roots import Roots
    from rigcheck.catalog.installed.scan import HeaderCache, scan
    from rigcheck.catalog.store import load_catalog
    from tests.installed.layouts import LLAMA_31_8B, LLAMA_32_1B, QWEN25_7B, write_gguf

    catalog = load_catalog()
    tmp = Path(tempfile.mkdtemp(prefix="rigcheck-bench-installed-"))
    try:
        models = tmp / "lmstudio"
        template = {spec: write_gguf(tmp / f"t{i}.gguf", spec)[0] for i, spec in enumerate((LLAMA_31_8B, QWEN25_7B))}
        for i in range(FILES):
            spec, src = list(template.items())[i % 2]
            dest = models / f"pub{i // 50}" / f"{spec.basename}-{i}-GGUF" / f"{spec.basename}-{i}-Q4_K_M.gguf"
            dest.parent.mkdir(parents=True, exist_ok=True)
            head = read_header(src)
            with open(src, "rb") as f:
                dest.write_bytes(f.read(head.data_end_bytes - head.tensor_bytes))  # the header, no data
            os.truncate(dest, src.stat().st_size)  # the rest a hole, as in the template
        roots = Roots(lmstudio=(models,))
        cache_file = tmp / "headers.json"
        t0 = time.perf_counter()
        found = scan(catalog, roots, cache=HeaderCache(cache_file))
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        scan(catalog, roots, cache=HeaderCache(cache_file))
        warm_s = time.perf_counter() - t0
        big = write_gguf(tmp / "vocab.gguf", LLAMA_32_1B, "Q8_0", vocab_tokens=None)[0]
        t0 = time.perf_counter()
        read_header(big)
        vocab_ms = (time.perf_counter() - t0) * 1e3
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    matched = sum(1 for m in found if m.model_id)
    print(f"installed scan of {len(found)} GGUF files ({matched} matched to the catalog): cold {cold_s:.2f} s, "
          f"warm {warm_s:.2f} s (target < {TARGET_S:.0f} s); one header with a real 128k-token vocabulary "
          f"{vocab_ms:.0f} ms")
    return len(found) == FILES and cold_s < TARGET_S and warm_s < TARGET_S


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
