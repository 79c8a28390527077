"""A fake Hugging Face Hub and OpenRouter for the live-refresh tests (imported by name: tests/ is not a package).

Payload shapes follow the public APIs (see tests/data/recorded/README.md): ``/api/models/{repo}`` (model info with
``safetensors.total``, ``cardData.license``, ``createdAt``, ``pipeline_tag``, ``sha``), the tree API (entries
``{type, oid, size, path, lfs: {oid, size, pointerSize}}``, paginated with ``Link: rel="next"``), the model
search (``filter=base_model:quantized:X``, ``pipeline_tag=text-generation&sort=...``), ``resolve/main/FILE`` with
HTTP Range, and OpenRouter's ``/api/v1/models`` and ``/api/v1/models/{author}/{slug}/endpoints``.
The new model ``newlab/Nova-12B-Instruct`` (not in the embedded catalog) is multimodal with its language model
under ``text_config``; its GGUF child ships split shards; ``ggufonly/Tiny-GGUF`` has no config.json, only GGUF.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
from werkzeug import Request, Response

RECORDED = Path(__file__).parents[1] / "data" / "recorded"
NEW = "newlab/Nova-12B-Instruct"
NEW_GGUF = "bartowski/newlab_Nova-12B-Instruct-GGUF"
GATED = "gatedlab/Secret-70B"
GGUF_ONLY = "ggufonly/Tiny-GGUF"


def _lfs(size: int, oid: str = "0" * 64) -> dict:
    return {"oid": oid, "size": size, "pointerSize": 134}


def _file(path: str, size: int, lfs: bool = True) -> dict:
    entry = {"type": "file", "oid": "a" * 40, "size": size, "path": path}
    if lfs:
        entry["lfs"] = _lfs(size)
    return entry


NEW_CONFIG = {
    "architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
    "text_config": {"model_type": "gemma3_text", "num_hidden_layers": 48, "hidden_size": 3840,
                    "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 256, "vocab_size": 262208,
                    "max_position_embeddings": 131072, "sliding_window": 1024, "sliding_window_pattern": 6},
    "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 1152},
    "torch_dtype": "bfloat16",
}
NEW_INFO = {"_id": "x", "id": NEW, "sha": "1111", "createdAt": "2026-11-20T10:00:00.000Z", "pipeline_tag":
            "image-text-to-text", "tags": ["transformers", "safetensors", "license:apache-2.0"], "downloads": 5000,
            "library_name": "transformers", "gated": False, "cardData": {"license": "apache-2.0"},
            "safetensors": {"parameters": {"BF16": 12_187_325_040}, "total": 12_187_325_040}}
NEW_TREE_PAGES = [
    [_file("config.json", 2000, lfs=False), _file("model.safetensors.index.json", 90000, lfs=False),
     _file("model-00001-of-00002.safetensors", 15_000_000_000)],
    [_file("model-00002-of-00002.safetensors", 9_400_000_000),
     # the Mistral layout: the same weights again in one file, which the index does not name
     _file("consolidated.safetensors", 24_400_000_000)],
]
NEW_INDEX = {"metadata": {"total_size": 24_374_650_080},
             "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
NEW_GGUF_TREE = [
    _file("newlab_Nova-12B-Instruct-Q4_K_M.gguf", 7_300_000_000),
    _file("newlab_Nova-12B-Instruct-IQ2_XXS.gguf", 3_400_000_000),
    _file("Q8_0/newlab_Nova-12B-Instruct-Q8_0-00001-of-00002.gguf", 8_000_000_000),
    _file("Q8_0/newlab_Nova-12B-Instruct-Q8_0-00002-of-00002.gguf", 4_950_000_000),
    _file("newlab_Nova-12B-Instruct-BF16.gguf", 24_400_000_000),
    _file("mmproj-newlab_Nova-12B-Instruct-f16.gguf", 850_000_000),
]
OPENROUTER_NEW = {
    "id": "newlab/nova-12b-instruct", "canonical_slug": "newlab/nova-12b-instruct-20261120",
    "hugging_face_id": NEW, "name": "NewLab: Nova 12B Instruct", "created": 1795000000, "context_length": 131072,
    "architecture": {"modality": "text+image->text", "input_modalities": ["text", "image"],
                     "output_modalities": ["text"], "tokenizer": "Gemini", "instruct_type": None},
    "pricing": {"prompt": "0.00000005", "completion": "0.0000001", "request": "0", "image": "0"},
    "top_provider": {"context_length": 131072, "max_completion_tokens": 8192, "is_moderated": False},
}
NEW_ENDPOINTS = {"data": {
    "id": "newlab/nova-12b-instruct", "name": "NewLab: Nova 12B Instruct", "created": 1795000000,
    "description": "...", "architecture": OPENROUTER_NEW["architecture"],
    "endpoints": [
        {"name": "DeepInfra | newlab/nova-12b-instruct", "model_name": "NewLab: Nova 12B Instruct",
         "context_length": 131072, "pricing": {"prompt": "0.00000005", "completion": "0.0000001", "request": "0",
                                              "image": "0"},
         "provider_name": "DeepInfra", "tag": "deepinfra/bf16", "quantization": "bf16",
         "max_completion_tokens": 8192, "max_prompt_tokens": None, "supported_parameters": ["max_tokens"],
         "status": 0, "uptime_last_30m": 99.9, "supports_implicit_caching": False},
        {"name": "Together | newlab/nova-12b-instruct", "model_name": "NewLab: Nova 12B Instruct",
         "context_length": 65536, "pricing": {"prompt": "0.0000001", "completion": "0.0000002",
                                             "input_cache_read": "0.00000002", "request": "0", "image": "0"},
         "provider_name": "Together", "tag": "together/fp8", "quantization": "fp8",
         "max_completion_tokens": 4096, "max_prompt_tokens": None, "supported_parameters": ["max_tokens"],
         "status": 0, "uptime_last_30m": 99.1, "supports_implicit_caching": True},
    ]}}
QWEN_ENDPOINTS = {"data": {"id": "qwen/qwen3-30b-a3b", "name": "Qwen: Qwen3 30B A3B", "created": 1745884800,
                           "description": "...", "architecture": OPENROUTER_NEW["architecture"], "endpoints": [
    {"name": "DeepInfra | qwen/qwen3-30b-a3b", "context_length": 40960,
     "pricing": {"prompt": "0.00000009", "completion": "0.0000003"}, "provider_name": "DeepInfra",
     "tag": "deepinfra/fp8", "quantization": "fp8", "status": 0}]}}


def tiny_gguf(path: Path) -> bytes:
    """A real GGUF file (written by the gguf package) of a small llama-style model."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("Tiny")
    writer.add_block_count(4)
    writer.add_embedding_length(256)
    writer.add_head_count(8)
    writer.add_head_count_kv(2)
    writer.add_context_length(8192)
    writer.add_token_list([f"t{i}" for i in range(5000)])
    writer.add_tensor("token_embd.weight", np.zeros((5000, 256), dtype=np.float16))
    for i in range(4):
        writer.add_tensor(f"blk.{i}.attn_q.weight", np.zeros((256, 256), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


class FakeHub:
    """Routes for pytest-httpserver: one handler for every path; ``faults`` inject 401/429/500/slow/garbage."""

    def __init__(self, httpserver, gguf_bytes: bytes):
        self.server = httpserver
        self.gguf = gguf_bytes
        self.faults: dict[str, list] = {}
        self.calls: list[str] = []
        qwen = RECORDED / "huggingface"
        self.infos = {NEW: NEW_INFO,
                      NEW_GGUF: {"id": NEW_GGUF, "sha": "2222", "pipeline_tag": "image-text-to-text",
                                 "tags": ["gguf", f"base_model:quantized:{NEW}"]},
                      GGUF_ONLY: {"id": GGUF_ONLY, "sha": "3333", "pipeline_tag": "text-generation",
                                  "createdAt": "2026-10-01T00:00:00.000Z", "cardData": {"license": "mit"},
                                  "tags": ["gguf"]},
                      GATED: {"id": GATED, "sha": "4444", "gated": "manual", "pipeline_tag": "text-generation"},
                      "Qwen/Qwen3-30B-A3B": json.loads((qwen / "Qwen--Qwen3-30B-A3B.info.json").read_text())}
        self.trees = {NEW_GGUF: [NEW_GGUF_TREE],
                      GGUF_ONLY: [[_file("Tiny-Q8_0.gguf", len(gguf_bytes)), _file("README.md", 10, lfs=False)]],
                      NEW: NEW_TREE_PAGES}
        for name in ("Qwen--Qwen3-30B-A3B", "Qwen--Qwen3-30B-A3B-GGUF", "unsloth--Qwen3-30B-A3B-GGUF",
                     "Qwen--Qwen3-30B-A3B-FP8", "mlx-community--Qwen3-30B-A3B-4bit"):
            self.trees[name.replace("--", "/")] = [json.loads((qwen / f"{name}.tree.json").read_text())]
        self.configs = {NEW: NEW_CONFIG}
        for name in ("Qwen--Qwen3-30B-A3B", "Qwen--Qwen3-30B-A3B-FP8", "mlx-community--Qwen3-30B-A3B-4bit"):
            self.configs[name.replace("--", "/")] = json.loads((qwen / f"{name}.config.json").read_text())
        self.children = {NEW: [{"id": NEW_GGUF, "downloads": 900, "sha": "2222", "tags": ["gguf"]}],
                         "Qwen/Qwen3-30B-A3B": json.loads((qwen / "Qwen--Qwen3-30B-A3B.children.json").read_text())}
        listing = json.loads((RECORDED / "openrouter" / "models.json").read_text())
        listing["data"].append(OPENROUTER_NEW)
        self.openrouter_models = listing
        self.endpoints = {"newlab/nova-12b-instruct": NEW_ENDPOINTS, "qwen/qwen3-30b-a3b": QWEN_ENDPOINTS}
        self.top = [{"id": NEW, "downloads": 5000, "pipeline_tag": "image-text-to-text", "tags": []},
                    {"id": "someone/Nova-12B-Instruct-GGUF", "downloads": 10,
                     "tags": [f"base_model:quantized:{NEW}"]}]
        httpserver.no_handler_status_code = 404
        httpserver.expect_request(path_matcher_all()).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def handle(self, request: Request) -> Response:
        path = request.path
        self.calls.append(path)
        for key, faults in self.faults.items():
            if key in path and faults:
                fault = faults.pop(0)
                if isinstance(fault, Response):
                    return fault
                return fault(request)
        if path.startswith("/api/v1/models"):
            return self._openrouter(path)
        if path == "/api/models":
            return self._search(request)
        if path.startswith("/api/models/"):
            return self._api_models(request, path.removeprefix("/api/models/"))
        if "/resolve/main/" in path:
            repo, _, filename = path.lstrip("/").partition("/resolve/main/")
            return self._file(request, repo, filename)
        return Response("not found", status=404)

    def _json(self, value, **kwargs) -> Response:
        return Response(json.dumps(value), content_type="application/json", **kwargs)

    def _openrouter(self, path: str) -> Response:
        if path == "/api/v1/models":
            return self._json(self.openrouter_models)
        slug = path.removeprefix("/api/v1/models/").removesuffix("/endpoints")
        if slug in self.endpoints:
            return self._json(self.endpoints[slug])
        return self._json({"error": {"code": 404, "message": "No endpoints found"}}, status=404)

    def _search(self, request: Request) -> Response:
        args = parse_qs(request.query_string.decode())
        flt = (args.get("filter") or [""])[0]
        if flt.startswith("base_model:quantized:"):
            return self._json(self.children.get(flt.removeprefix("base_model:quantized:"), []))
        if (args.get("pipeline_tag") or [""])[0] == "text-generation":
            return self._json(self.top)
        return self._json([])

    def _api_models(self, request: Request, rest: str) -> Response:
        if "/tree/main" in rest:
            repo = rest.split("/tree/main")[0]
            pages = self.trees.get(repo)
            if pages is None:
                return self._not_found(repo)
            page = int(parse_qs(request.query_string.decode()).get("cursor", ["0"])[0])
            headers = {}
            if page + 1 < len(pages):
                headers["Link"] = f'<{self.url}/api/models/{repo}/tree/main?recursive=true&cursor={page + 1}>; rel="next"'
            return self._json(pages[page], headers=headers)
        repo = rest
        if repo not in self.infos:
            return self._not_found(repo)
        info = dict(self.infos[repo])
        if parse_qs(request.query_string.decode()).get("blobs") == ["true"] and repo in self.trees:
            info["siblings"] = [{"rfilename": e["path"], "size": e["size"], "blobId": e.get("oid"),
                                 **({"lfs": {"size": e["lfs"]["size"], "sha256": e["lfs"]["oid"],
                                             "pointerSize": e["lfs"]["pointerSize"]}} if e.get("lfs") else {})}
                                for page in self.trees[repo] for e in page if e["type"] == "file"]
        return self._json(info)

    def _not_found(self, repo: str) -> Response:
        return Response(json.dumps({"error": "Repository not found"}), status=404,
                        headers={"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"},
                        content_type="application/json")

    def _file(self, request: Request, repo: str, filename: str) -> Response:
        response = self._file_body(request, repo, filename)
        sha = (self.infos.get(repo) or {}).get("sha")
        if sha:  # the Hub names the commit it resolved in every resolver answer
            response.headers["X-Repo-Commit"] = sha
        return response

    def _file_body(self, request: Request, repo: str, filename: str) -> Response:
        if repo == GATED:
            return Response("Access to model is restricted", status=401,
                            headers={"X-Error-Code": "GatedRepo", "X-Error-Message": "gated"})
        if filename == "config.json" and repo in self.configs:
            return self._json(self.configs[repo])
        if filename == "model.safetensors.index.json" and repo == NEW:
            return self._json(NEW_INDEX)
        if filename.endswith(".gguf") and repo == GGUF_ONLY:
            start, end = request.headers["Range"].removeprefix("bytes=").split("-")
            return Response(self.gguf[int(start):int(end) + 1], status=206)
        return Response("Entry not found", status=404, headers={"X-Error-Code": "EntryNotFound"})


def path_matcher_all():
    import re

    return re.compile(".*")
