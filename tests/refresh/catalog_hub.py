"""A fake Hugging Face Hub and OpenRouter that serve the WHOLE embedded catalog, counted by rate-limit bucket.

Used by the request-economy tests (tests/refresh/test_economy.py) and by benchmarks/bench_live_refresh.py
(imported by name: tests/ is not a package). Payload shapes are those of tests/data/recorded (the public APIs);
the values are synthesized from the embedded catalog's own records, the way real publishers lay repos out:

- every catalog model has a repo with ``config.json``, its own BF16 weights (sharded at 5 GB with
  ``model.safetensors.index.json`` above that, one ``model.safetensors`` below), ``sha``, license and date;
  ``meta-llama/*`` and ``google/gemma-*`` are gated (their files answer 401), as on the real Hub;
- quantized children (``base_model:quantized:``): GGUF repos from unsloth (every type plus UD quants), bartowski
  (every type plus IQ extras), lmstudio-community, mradermacher and a small publisher (types others already
  have), a merge tagged ``merge``; one mlx-community repo per MLX quant; the FP8/AWQ/GPTQ/NVFP4/MXFP4 repos the
  catalog names. GGUF files over 50 GB are split into ``-0000k-of-0000n`` shards in a folder;
- three new models on the trending list (copies of catalog models under new ids), so discovery costs something;
- OpenRouter: one listing entry per catalog model with hosted offers and its endpoints.

Every Hub response carries ``RateLimit: "api";r=REMAINING;t=SECONDS`` (or ``"resolvers"``) and
``RateLimit-Policy``; a spent bucket answers 429. ``counts`` holds requests per bucket ("api", "resolvers",
"openrouter"); ``latency_s`` delays every answer (the benchmark's network).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import msgspec
from werkzeug import Request, Response

from rigcheck.catalog.records import Catalog, Model

SHARD_BYTES = 5_000_000_000
GGUF_SHARD_BYTES = 49_500_000_000
HEADER_BYTES = 48_000  # a safetensors file's JSON header: on disk beside the tensor bytes
NEW_MODELS = {"newlab/Nova-8B": "Qwen/Qwen3-8B", "newlab/Nova-32B": "Qwen/Qwen3-32B",
              "otherlab/Orbit-MoE-30B": "Qwen/Qwen3-30B-A3B"}
DTYPE_BYTES = {"BF16": 2, "F16": 2, "F32": 4, "I32": 4, "U32": 4, "U8": 1, "F8_E4M3": 1}


@dataclass
class Repo:
    id: str
    sha: str
    files: dict[str, int] = field(default_factory=dict)
    """Path -> size in bytes."""
    config: dict | None = None
    index: dict | None = None
    tags: list[str] = field(default_factory=list)
    pipeline_tag: str | None = "text-generation"
    library_name: str | None = "transformers"
    downloads: int = 0
    gated: bool | str = False
    license: str | None = "apache-2.0"
    created_at: str = "2025-01-01T00:00:00.000Z"
    parameters: dict[str, int] | None = None
    children: list[str] = field(default_factory=list)

    def info(self, *, blobs: bool) -> dict:
        doc = {"_id": self.sha[:24], "id": self.id, "modelId": self.id, "author": self.id.split("/")[0],
               "sha": self.sha, "private": False, "gated": self.gated, "disabled": False,
               "downloads": self.downloads, "likes": 1, "library_name": self.library_name,
               "pipeline_tag": self.pipeline_tag, "tags": self.tags, "createdAt": self.created_at,
               "lastModified": self.created_at}
        if self.license:
            doc["cardData"] = {"license": self.license}
        if self.parameters:
            doc["safetensors"] = {"parameters": self.parameters, "total": sum(self.parameters.values())}
        doc["siblings"] = [_sibling(path, size) if blobs else {"rfilename": path} for path, size in self.files.items()]
        return doc


def _sibling(path: str, size: int) -> dict:
    entry = {"rfilename": path, "size": size, "blobId": "b" * 40}
    if size > 10_000_000:
        entry["lfs"] = {"size": size, "sha256": "0" * 64, "pointerSize": 134}
    return entry


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _config(model: Model) -> dict:
    config = {"architectures": ["ForCausalLM"], "model_type": model.family, "torch_dtype": "bfloat16",
              "num_hidden_layers": model.num_layers, "hidden_size": model.hidden_size,
              "num_attention_heads": model.num_attention_heads, "num_key_value_heads": model.num_kv_heads,
              "head_dim": model.head_dim, "vocab_size": model.vocab_size,
              "max_position_embeddings": model.max_context_tokens}
    if model.moe_num_experts:
        config.update(num_experts=model.moe_num_experts, num_experts_per_tok=model.moe_experts_per_token,
                      moe_intermediate_size=model.moe_intermediate_size)
    return {k: v for k, v in config.items() if v is not None}


def _own_files(model: Model, size: int) -> tuple[dict[str, int], dict | None]:
    files = {"config.json": 1_500, "README.md": 9_000, "tokenizer.json": 9_000_000}
    if size <= SHARD_BYTES:
        files["model.safetensors"] = size + HEADER_BYTES
        return files, None
    count = -(-size // SHARD_BYTES)
    weight_map = {}
    for i in range(count):
        name = f"model-{i + 1:05d}-of-{count:05d}.safetensors"
        files[name] = min(SHARD_BYTES, size - i * SHARD_BYTES) + HEADER_BYTES
        weight_map[f"layer.{i}.weight"] = name
    files["model.safetensors.index.json"] = 30_000
    return files, {"metadata": {"total_size": size}, "weight_map": weight_map}


def _gguf_files(stem: str, sizes: dict[str, int], projector: int | None) -> dict[str, int]:
    files = {"README.md": 5_000}
    for qtype, size in sizes.items():
        if size <= GGUF_SHARD_BYTES:
            files[f"{stem}-{qtype}.gguf"] = size
            continue
        count = -(-size // GGUF_SHARD_BYTES)
        for i in range(count):
            files[f"{qtype}/{stem}-{qtype}-{i + 1:05d}-of-{count:05d}.gguf"] = min(GGUF_SHARD_BYTES,
                                                                                size - i * GGUF_SHARD_BYTES)
    if projector:
        files[f"mmproj-{stem}-F16.gguf"] = projector
    return files


def _parameters(fmt: str, size: int) -> dict[str, int]:
    """Tensor counts by dtype whose bytes add up to ``size`` exactly (as the Hub's safetensors metadata)."""
    main, rest = {"fp8": ("F8_E4M3", "BF16"), "awq": ("I32", "F16"), "gptq": ("I32", "F16"),
                  "mlx": ("U32", "BF16"), "nvfp4": ("U8", "F8_E4M3"), "mxfp4": ("U8", "BF16")}.get(fmt, ("BF16", "F32"))
    small = (size // 20) // DTYPE_BYTES[rest] * DTYPE_BYTES[rest]
    big = size - small
    big -= big % DTYPE_BYTES[main]
    small = size - big
    small -= small % DTYPE_BYTES[rest]
    return {main: big // DTYPE_BYTES[main], rest: small // DTYPE_BYTES[rest]}


def _quant_config(model_config: dict, fmt: str, name: str) -> dict:
    config = dict(model_config)
    if fmt == "mlx":
        config["quantization"] = {"group_size": 64, "bits": int("".join(c for c in name if c.isdigit()) or 4)}
    elif fmt == "fp8":
        config["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3"}
    elif fmt in ("awq", "gptq"):
        config["quantization_config"] = {"quant_method": fmt, "bits": 4, "group_size": 128}
    elif fmt == "nvfp4":
        config["quantization_config"] = {"quant_method": "modelopt", "quant_algo": "NVFP4"}
    elif fmt == "mxfp4":
        config["quantization_config"] = {"quant_method": "mxfp4"}
    return config


class CatalogHub:
    """The whole catalog as Hub repos; ``handle(request)`` answers one request (werkzeug Request)."""

    def __init__(self, catalog: Catalog, *, latency_s: float = 0.0, api_quota: int = 100_000,
                 resolver_quota: int = 100_000, window_s: int = 300, clock=time.monotonic):
        self.latency_s = latency_s
        self.quotas = {"api": api_quota, "resolvers": resolver_quota}
        self.window_s = window_s
        self.clock = clock
        self.window_start = clock()
        self.used = {"api": 0, "resolvers": 0}
        self.counts: dict[str, int] = {"api": 0, "resolvers": 0, "openrouter": 0}
        self.calls: list[str] = []
        self.quiet = False
        """True: no ``RateLimit`` header on answers that succeed (only a 429 says the budget is spent)."""
        self.delays: dict[str, float] = {}
        """Extra delay by path fragment (the concurrency tests reorder completions with it)."""
        self._lock = threading.Lock()
        self.repos: dict[str, Repo] = {}
        self.bases: list[str] = []
        models = list(catalog.models)
        by_id = {m.id: m for m in models}
        for new_id, original in NEW_MODELS.items():
            if original in by_id:
                models.append(msgspec.structs.replace(by_id[original], id=new_id, aliases=[]))
        for model in models:
            self._add_model(model)
        self.top = [m.id for m in catalog.models[:15]]
        self.trending = [*[n for n in NEW_MODELS if n in self.repos], *[m.id for m in catalog.models[-12:]]]
        self._openrouter(catalog)

    # ------------------------------------------------------------------------------------------ building
    def _add_model(self, model: Model) -> None:
        org, name = model.id.split("/", 1)
        config = _config(model)
        own = next((q for q in model.quants if q.repo == model.id and q.format == "safetensors"), None)
        size = (own.file_size_bytes if own and own.file_size_bytes else int((model.params_total_b or 1) * 2e9))
        files, index = _own_files(model, size)
        gated = "manual" if org == "meta-llama" or model.id.startswith("google/gemma") else False
        base = Repo(id=model.id, sha=_sha(model.id), files=files, config=config, index=index, gated=gated,
                    license=model.license, created_at=f"{model.release_date or '2025-01-01'}T00:00:00.000Z",
                    parameters=_parameters("safetensors", size), downloads=100_000,
                    tags=["transformers", "safetensors", model.family])
        self.repos[model.id] = base
        self.bases.append(model.id)
        gguf = {q.name: q.file_size_bytes or 1_000_000_000 for q in model.quants if q.format == "gguf"}
        if gguf:
            q4 = gguf.get("Q4_K_M") or min(gguf.values())
            publishers = [
                (f"unsloth/{name}-GGUF", {**gguf, "UD-Q4_K_XL": int(q4 * 1.06), "UD-Q2_K_XL": int(q4 * 0.62)}, 90_000),
                (f"bartowski/{org}_{name}-GGUF", {**gguf, "IQ2_M": int(q4 * 0.55), "Q4_0": int(q4 * 0.95)}, 60_000),
                (f"lmstudio-community/{name}-GGUF", {k: v for k, v in gguf.items() if k in ("Q4_K_M", "Q6_K", "Q8_0")}, 30_000),
                (f"mradermacher/{name}-GGUF", dict(list(gguf.items())[:4]), 8_000),
                (f"someone/{name}-GGUF", {k: v for k, v in gguf.items() if k == "Q4_K_M"}, 120),
            ]
            for repo_id, sizes, downloads in publishers:
                if sizes:
                    self._child(base, Repo(id=repo_id, sha=_sha(repo_id), downloads=downloads,
                                           files=_gguf_files(name, sizes, model.vision_projector_bytes),
                                           tags=["gguf", "text-generation"], library_name=None))
            self._child(base, Repo(id=f"mergers/{name}-merge-GGUF", sha=_sha(name + "merge"), downloads=50,
                                   files=_gguf_files(name, {"Q4_K_M": q4}, None),
                                   tags=["gguf", "merge", "mergekit"], library_name=None))
        for quant in model.quants:
            if quant.format in ("gguf", "safetensors") or (quant.repo and quant.repo == model.id):
                continue
            repo_id = quant.repo or f"mlx-community/{name}-{quant.name.removeprefix('MLX-')}"
            if repo_id in self.repos:
                continue
            qsize = quant.file_size_bytes or 1_000_000_000
            qfiles, qindex = _own_files(model, qsize)
            self._child(base, Repo(id=repo_id, sha=_sha(repo_id), files=qfiles, index=qindex,
                                   config=_quant_config(config, quant.format, quant.name),
                                   parameters=_parameters(quant.format, qsize),
                                   downloads=40_000 if quant.format != "mlx" else 10_000,
                                   library_name="mlx" if quant.format == "mlx" else "transformers",
                                   tags=["safetensors", quant.format]))

    def _child(self, base: Repo, child: Repo) -> None:
        child.tags = [*child.tags, f"base_model:quantized:{base.id}"]
        child.license = base.license
        self.repos[child.id] = child
        base.children.append(child.id)

    def _openrouter(self, catalog: Catalog) -> None:
        ids = {m.id for m in catalog.models}
        self.listing: list[dict] = []
        self.endpoints: dict[str, dict] = {}
        for model_id in dict.fromkeys(o.model_id for o in catalog.hosted):
            if model_id not in ids:
                continue
            offers = [o for o in catalog.hosted if o.model_id == model_id]
            slug = model_id.lower()
            cheapest = min(offers, key=lambda o: o.usd_per_m_input)
            self.listing.append({
                "id": slug, "canonical_slug": slug, "hugging_face_id": model_id, "name": model_id,
                "context_length": 131072,
                "pricing": {"prompt": f"{cheapest.usd_per_m_input / 1e6:.10f}",
                            "completion": f"{cheapest.usd_per_m_output / 1e6:.10f}"}})
            self.endpoints[slug] = {"data": {"id": slug, "name": model_id, "endpoints": [
                {"name": f"{o.provider} | {slug}", "provider_name": o.provider, "tag": f"{o.provider.lower()}/bf16",
                 "context_length": 131072, "quantization": "bf16", "status": 0,
                 "pricing": {"prompt": f"{o.usd_per_m_input / 1e6:.10f}",
                             "completion": f"{o.usd_per_m_output / 1e6:.10f}"}}
                for o in offers if o.provider.lower() != "openrouter"]}}

    # ----------------------------------------------------------------------------------------- serving
    def reset_counts(self) -> None:
        with self._lock:
            self.counts = {k: 0 for k in self.counts}
            self.calls.clear()

    def new_window(self) -> None:
        """Start a new rate-limit window (as if 5 minutes had passed)."""
        with self._lock:
            self.window_start = self.clock()
            self.used = {k: 0 for k in self.used}

    def handle(self, request: Request) -> Response:
        path = request.path
        bucket = ("openrouter" if path.startswith("/api/v1/") else "resolvers" if "/resolve/" in path else "api")
        with self._lock:
            self.counts[bucket] += 1
            self.calls.append(f"{request.method} {path}?{request.query_string.decode()}")
            limited = None
            if bucket in self.used:
                if self.clock() - self.window_start >= self.window_s:
                    self.window_start, self.used = self.clock(), {k: 0 for k in self.used}
                self.used[bucket] += 1
                left = self.quotas[bucket] - self.used[bucket]
                reset = max(1, int(self.window_start + self.window_s - self.clock()))
                limited = {"RateLimit": f'"{bucket}";r={max(0, left)};t={reset}',
                           "RateLimit-Policy": f'"fixed window";"{bucket}";q={self.quotas[bucket]};w={self.window_s}'}
        delay = self.latency_s + sum(s for key, s in self.delays.items() if key in path)
        if delay:
            time.sleep(delay)
        if limited is not None and left < 0:
            return Response("Too Many Requests", status=429, headers=limited)
        response = self._route(request, path)
        if limited is not None and not self.quiet:
            response.headers.update(limited)
        return response

    def _json(self, value, **kwargs) -> Response:
        return Response(json.dumps(value), content_type="application/json", **kwargs)

    def _route(self, request: Request, path: str) -> Response:
        args = parse_qs(request.query_string.decode())
        if path == "/api/v1/models":
            return self._json({"data": self.listing})
        if path.startswith("/api/v1/models/"):
            slug = path.removeprefix("/api/v1/models/").removesuffix("/endpoints")
            if slug in self.endpoints:
                return self._json(self.endpoints[slug])
            return self._json({"error": {"code": 404, "message": "No endpoints found"}}, status=404)
        if path == "/api/models":
            return self._search(args)
        if path.startswith("/api/models/"):
            rest = path.removeprefix("/api/models/")
            if "/tree/main" in rest:
                repo = self.repos.get(rest.split("/tree/main")[0])
                if repo is None:
                    return _not_found()
                return self._json([{"type": "file", "oid": "a" * 40, "path": p, "size": s,
                                    **({"lfs": {"oid": "0" * 64, "size": s, "pointerSize": 134}} if s > 10_000_000 else {})}
                                   for p, s in repo.files.items()])
            repo = self.repos.get(rest)
            if repo is None:
                return _not_found()
            return self._json(repo.info(blobs=args.get("blobs", [""])[0].lower() == "true"))
        if "/resolve/main/" in path:
            name, _, filename = path.lstrip("/").partition("/resolve/main/")
            return self._resolve(request, self.repos.get(name), filename)
        return Response("not found", status=404)

    def _search(self, args: dict) -> Response:
        flt = (args.get("filter") or [""])[0]
        limit = int((args.get("limit") or ["1000"])[0])
        expand = set(args.get("expand") or [])
        if flt.startswith("base_model:quantized:"):
            base = self.repos.get(flt.removeprefix("base_model:quantized:"))
            ids = sorted(base.children, key=lambda c: -self.repos[c].downloads) if base else []
        elif (args.get("pipeline_tag") or [""])[0] == "text-generation":
            ids = self.top if (args.get("sort") or [""])[0] == "downloads" else self.trending
        else:
            ids = []
        out = []
        for repo_id in ids[:limit]:
            doc = self.repos[repo_id].info(blobs=False)
            if expand:
                doc = {k: v for k, v in doc.items() if k in expand or k in ("_id", "id")}
                if "cardData" in expand and "cardData" not in doc and self.repos[repo_id].license:
                    doc["cardData"] = {"license": self.repos[repo_id].license}
            else:
                doc.pop("siblings", None)
            out.append(doc)
        return self._json(out)

    def _resolve(self, request: Request, repo: Repo | None, filename: str) -> Response:
        if repo is None:
            return _not_found()
        headers = {"X-Repo-Commit": repo.sha}
        if repo.gated:
            return Response("Access to model is restricted", status=401,
                            headers={**headers, "X-Error-Code": "GatedRepo", "X-Error-Message": "gated"})
        if filename not in repo.files:
            return Response("Entry not found", status=404, headers={**headers, "X-Error-Code": "EntryNotFound"})
        size = repo.files[filename]
        if request.method == "HEAD" or size > 10_000_000:
            return Response(status=302, headers={**headers, "X-Linked-Size": str(size),
                                                 "Location": f"https://cdn.invalid/{repo.id}/{filename}",
                                                 "X-Linked-Etag": '"' + "0" * 64 + '"'})
        body = {"config.json": repo.config, "model.safetensors.index.json": repo.index}.get(filename)
        if body is None:
            return Response("Entry not found", status=404, headers={**headers, "X-Error-Code": "EntryNotFound"})
        data = json.dumps(body).encode()
        etag = '"' + _sha(data.decode()) + '"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={**headers, "ETag": etag})
        return Response(data, content_type="application/json", headers={**headers, "ETag": etag})


def _not_found() -> Response:
    return Response(json.dumps({"error": "Repository not found"}), status=404, content_type="application/json",
                    headers={"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"})


def serve(hub: CatalogHub):
    """A threaded local HTTP server for ``hub``; returns (server, base URL). Stop with ``server.shutdown()``."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request

    @Request.application
    def app(request: Request) -> Response:
        return hub.handle(request)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"
