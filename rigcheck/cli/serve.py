"""``rigcheck serve --model ID --gpu "N x NAME"``: what a node serves to many users at once, by engine."""

from __future__ import annotations

import argparse

from rigcheck import units
from rigcheck.cli import UsageError, _pricing
from rigcheck.cli._args import token_count
from rigcheck.cli._machine import add_machine_args, machine_from_args

ENGINE_CHOICES = ("vllm", "sglang", "trtllm", "llama.cpp")


def concurrency(text: str) -> int | None:
    """A number of concurrent requests, or "max" (None) for the saturated case."""
    if text.strip().lower() in ("max", "offline"):
        return None
    return _pricing.positive_int(text)


def register(subparsers) -> None:
    from rigcheck.estimate.serving import Workload

    default = Workload()  # the default request, as `cost`, `plan` and the app assume it
    parser = subparsers.add_parser(
        "serve", help="multi-user throughput of a node: output tokens/s, per-user speed, time to first token",
        description="Continuous batching on a node: each engine step decodes the active requests and fills the "
        "rest of its token budget with prefill; the KV pool and the engine's limits cap how many run at once. "
        "Prints the node's output tokens/s (prefill time counted), each user's decode tokens/s (1 / time per "
        "output token), input tokens/s and time to first token at a concurrency, and a sweep.",
    )
    parser.add_argument("--model", metavar="ID", required=True, help="a Hugging Face id or an unambiguous part")
    parser.add_argument("--quant", metavar="Q", help="quant to serve (default: best quality the engine serves there)")
    parser.add_argument("--engine", default="vllm", metavar="E",
                        help=f"serving engine: {', '.join(ENGINE_CHOICES)} (default %(default)s)")
    parser.add_argument("--input-len", metavar="N", type=token_count, default=default.input_tokens_per_request,
                        help="input tokens per request (default %(default)s: the prompt length of `fit` and the "
                        "app, the request `cost` prices)")
    parser.add_argument("--output-len", metavar="N", type=token_count, default=default.output_tokens_per_request,
                        help="output tokens per request (default %(default)s, as `cost` and the app)")
    parser.add_argument("--concurrency", metavar="N|max", type=concurrency, default=default.peak_concurrency,
                        help="requests kept in flight, or max for the saturated (offline) case "
                        f"(default {default.peak_concurrency}, as `cost`)")
    parser.add_argument("--static", action="store_true",
                        help="a fixed batch of --concurrency requests started together (no continuous batching)")
    parser.add_argument("--tp", metavar="K", type=_pricing.positive_int,
                        help="GPUs per replica (tensor parallel); below the GPU count, N/K data-parallel replicas")
    parser.add_argument("--ep", action="store_true", help="spread MoE experts over the node's GPUs (expert parallel)")
    parser.add_argument("--kv-type", choices=("auto", "bf16", "fp8"), default="auto",
                        help="KV cache type (default: the engine's default for the checkpoint)")
    add_machine_args(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rigcheck.estimate.engines import engine_named
    from rigcheck.estimate.serve import ServeError, ServeRequest
    from rigcheck.estimate.serve_answer import serve, single_request_fit

    catalog, _status = _pricing.load_catalog_and_status()
    model = _pricing.find_model(catalog, args.model)
    try:
        engine_named(args.engine)
        request = ServeRequest(input_tokens=int(args.input_len), output_tokens=int(args.output_len),
                               concurrency=args.concurrency, static=args.static, engine=args.engine,
                               tp=args.tp, expert_parallel=args.ep, kv_type=args.kv_type)
    except (ServeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    machine = machine_from_args(args, catalog)
    try:
        answer = serve(model, machine, list(catalog.devices), request, args.quant)
    except ServeError as exc:
        raise UsageError(str(exc)) from None
    # At one request, fit and serve describe the same first token: say what fit says beside it, and whether they agree.
    alone = single_request_fit(answer, machine, catalog) if request.concurrency == 1 and not request.static else None
    if args.json:
        body = answer.to_dict()
        if alone is not None:
            body["single_request_fit"] = {"runtime": alone.runtime, "ttft_s": round(alone.ttft_s, 4),
                                          "prefill_tokens_per_s": round(alone.prefill_tokens_per_s, 2),
                                          "note": alone.note}
        _pricing.print_json(body)
    else:
        note = None if alone is None else (
            f"one request alone, `rigcheck fit` says {units.seconds_text(alone.ttft_s)} "
            f"({alone.prefill_tokens_per_s:,.0f} prompt tokens/s with {alone.runtime}), this serving model "
            f"{units.seconds_text(answer.ttft_s.expected)}; {alone.note}")
        print(render(answer, note))
    return 0


def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def render(answer, single_request_note: str | None = None) -> str:
    """The answer as text: the headline at the asked concurrency, the sweep, then the basis."""
    s = answer.setup
    req = s.request
    out, user, ttft = answer.output_tokens_per_s, answer.per_user_tokens_per_s, answer.ttft_s
    asked = ("saturated (max)" if req.concurrency is None else
             f"{req.concurrency:,} concurrent request{'s' if req.concurrency != 1 else ''}")
    if req.static:
        asked = f"a static batch of {req.concurrency:,} requests"
    from rigcheck.estimate.serve import NODE_OUTPUT_MEANS, PER_USER_MEANS
    from rigcheck.estimate.serving import Workload

    default = Workload()
    shape = (f" (the default request: the prompt of `fit` and the app, a {default.output_tokens_per_request}-token "
             "answer, as `cost` prices it)"
             if (req.input_tokens, req.output_tokens) == (default.input_tokens_per_request,
                                                          default.output_tokens_per_request) else "")
    lines = [
        f"{s.model.id} {s.quant.name} on {s.node.label} with {s.engine.label}: {s.parallelism.label()}",
        f"{req.input_tokens:,} input + {req.output_tokens:,} output tokens per request{shape}; KV cache "
        f"{s.pool.kv_dtype.upper()}; the node runs {answer.max_concurrency:,} requests at once (KV pool and "
        f"engine limit)",
        "",
        f"at {asked}: the node outputs {_rate(out.expected)} tokens/s ({_rate(out.low)}-{_rate(out.high)}), "
        f"each user decodes at {_rate(user.expected)} tokens/s, first token in {units.seconds_text(ttft.expected)}",
        f"saturated: the node outputs {_rate(answer.saturated.output_tokens_per_s)} tokens/s at "
        f"{answer.saturated.active:,.0f} requests, each user decodes at "
        f"{_rate(answer.saturated.per_user_tokens_per_s)} tokens/s",
        *([f"first token: {single_request_note}"] if single_request_note else []),
        "",
    ]
    rows = []
    for p in answer.sweep:
        label = f"{p.concurrency:,.0f}" if p is not answer.sweep[-1] else f"max ({p.active:,.0f})"
        rows.append([label, _rate(p.output_tokens_per_s), _rate(p.per_user_tokens_per_s), _rate(p.input_tokens_per_s),
                     units.seconds_text(p.ttft_s), f"{p.queued:,.0f}"])
    lines.append(_pricing.table(rows, ["concurrency", "node output tok/s", "per-user decode tok/s", "input tok/s",
                                       "first token", "queued"]))
    lines.extend((f"node output tok/s: {NODE_OUTPUT_MEANS};", f"per-user decode tok/s: {PER_USER_MEANS}."))
    lines.append("")
    lines.append("basis:")
    lines.extend(f"  - {line}" for line in answer.basis())
    return "\n".join(lines)
