"""Catalog refresh: download + signature check + validation + atomic write of a 5 MB feed from localhost.

Target: <= 1 s per refresh. The feed is the embedded catalog padded with extra models to 5 MB, signed
with a throwaway key trusted for the run; a stdlib HTTP server on 127.0.0.1 serves it. The cache folder
is a temporary directory, so the user's cache is never touched.
"""

from __future__ import annotations

import http.server
import os
import statistics
import tempfile
import threading
import time

TARGET_S = 1.0
FEED_BYTES = 5_000_000


def _feed() -> bytes:
    import msgspec

    from rigcheck.catalog.records import encode_catalog
    from rigcheck.catalog.store import load_embedded

    base = load_embedded()
    models = list(base.models)
    i = 0
    while len(encode_catalog(msgspec.structs.replace(base, models=models))) < FEED_BYTES:
        extra = [msgspec.structs.replace(m, id=f"bench/{m.id.replace('/', '-')}-{i}-{j}")
                 for j, m in enumerate(base.models)]
        models.extend(extra)
        i += 1
    return encode_catalog(msgspec.structs.replace(base, models=models, sequence=base.sequence + 100))


def run() -> bool:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from rigcheck.catalog import signing
    from rigcheck.catalog.refresh import refresh_catalog

    body = _feed()
    key = Ed25519PrivateKey.generate()
    sig = signing.sign(body, key).encode()
    trusted = {"bench": signing.public_key_b64(key.public_key())}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            data = sig if self.path.endswith(".sig") else body
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/catalog.json"
    saved = os.environ.get("RIGCHECK_CACHE_DIR")
    times_s = []
    try:
        for _ in range(5):
            with tempfile.TemporaryDirectory() as cache_dir:
                os.environ["RIGCHECK_CACHE_DIR"] = cache_dir
                t0 = time.perf_counter()
                result = refresh_catalog(url, trusted_keys=trusted)
                times_s.append(time.perf_counter() - t0)
                assert result.status == "updated" and result.signed
    finally:
        server.shutdown()
        if saved is None:
            os.environ.pop("RIGCHECK_CACHE_DIR", None)
        else:
            os.environ["RIGCHECK_CACHE_DIR"] = saved
    median_s = statistics.median(times_s)
    print(f"refresh of a {len(body) / 1e6:.1f} MB signed feed ({len(result.catalog.models)} models) from "
          f"localhost: median {median_s * 1e3:.0f} ms, worst {max(times_s) * 1e3:.0f} ms "
          f"(target <= {TARGET_S * 1e3:.0f} ms)")
    return median_s <= TARGET_S


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
