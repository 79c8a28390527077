"""Finding a model in the catalog from what a person types: a Hugging Face id, an alias, or part of one."""

from __future__ import annotations

import difflib
import re

from rigcheck.catalog.records import Catalog, Model


class ModelLookupError(ValueError):
    """A model query that matches nothing or several models; the message lists suggestions."""


def find_model(catalog: Catalog, query: str) -> Model:
    """The one model ``query`` names, case-insensitively, in this order:

    the exact id ("Qwen/Qwen3-8B"), an exact alias, the exact name after the organisation ("qwen3-8b"),
    then an unambiguous part of an id or alias ("qwen3-30b-a3b"). When a part matches several models and
    exactly one of them has it as its whole name, that one wins ("GLM-5" is not also "GLM-5.1").
    Raises ModelLookupError with suggestions when nothing or several models match.
    """
    q = (query or "").strip().lower()
    if not q:
        raise ModelLookupError("empty model name; give a Hugging Face id such as Qwen/Qwen3-8B")
    models = catalog.models
    for model in models:
        if model.id.lower() == q:
            return model
    exact = [m for m in models if q in (a.lower() for a in m.aliases) or (m.name or "").lower() == q
             or m.id.split("/", 1)[-1].lower() == q]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise ModelLookupError(f"model {query!r} is ambiguous; say which: {', '.join(m.id for m in exact[:8])}")
    partial = [m for m in models if q in m.id.lower() or any(q in a.lower() for a in m.aliases)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        shown = ", ".join(m.id for m in partial[:8])
        more = f" and {len(partial) - 8} more" if len(partial) > 8 else ""
        raise ModelLookupError(f"model {query!r} matches {len(partial)} models: {shown}{more}; give more of the id")
    names = {m.id.lower(): m.id for m in models}
    names.update({m.id.split("/", 1)[-1].lower(): m.id for m in models})
    near = difflib.get_close_matches(q, list(names), n=6, cutoff=0.5)
    suggestions = list(dict.fromkeys(names[n] for n in near))
    hint = f"; did you mean: {', '.join(suggestions)}" if suggestions else "; `rigcheck fit` lists the catalog's models"
    raise ModelLookupError(f"unknown model {query!r}{hint}")


_QUANT_SUFFIX = re.compile(r"([-._](ud-)?(i?q\d\w*|f16|bf16|mxfp4|fp8)(_\w+)?)$", re.IGNORECASE)


def norm_name(text: str) -> str:
    """Lower case, runs of spaces, dots and underscores as one hyphen: how published names are compared."""
    return re.sub(r"[\s_.]+", "-", text.strip().lower())


_VARIANT_SUFFIX = re.compile(r"-(instruct|chat|it|hf|base|gguf)$")
_NAMES: list = [None, None]


def _normalized_names(catalog: Catalog) -> list[tuple[Model, tuple[str, ...]]]:
    """Each model with its names normalized, computed once per catalog (a scan matches hundreds of files)."""
    if _NAMES[0] is not catalog:
        _NAMES[1] = [(m, tuple(norm_name(n) for n in (m.id.split("/", 1)[-1], m.id, *(m.aliases or []))))
                     for m in catalog.models]
        _NAMES[0] = catalog
    return _NAMES[1]


def match_model(name: str, params_b: float | None, catalog: Catalog) -> Model | None:
    """The catalog model a published model name denotes, checked against its parameter count.

    The quant suffix is dropped ("gpt-oss-20b-mxfp4", "llama-2-7b.Q4_0"); when nothing matches, so are
    variant suffixes ("-Instruct", "-chat", "-it"), which share the architecture.
    """
    base = _QUANT_SUFFIX.sub("", name.strip())
    base = _QUANT_SUFFIX.sub("", base)
    query = norm_name(base)
    index = _normalized_names(catalog)
    while query:
        found = [model for model, names in index if any(query in n for n in names)]
        if params_b:
            # A different size of the same family is a different model; an unknown size is let through.
            found = [m for m in found
                     if not m.params_total_b or abs(m.params_total_b - params_b) <= 0.06 * params_b]
        if found:
            # Prefer the base repo over instruct/derived ones: the shortest id (same architecture).
            return min(found, key=lambda m: (len(m.id), m.id))
        shorter = _VARIANT_SUFFIX.sub("", query)
        if shorter == query:
            return None
        query = shorter
    return None


def _words(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t}


def match_words(name: str, params_b: float | None, catalog: Catalog) -> Model | None:
    """The catalog model whose id holds every word of ``name`` and whose size is within 6% of
    ``params_b``: llama.cpp's type labels ("qwen2 7B Q4_K - Medium" -> Qwen/Qwen2.5-7B-Instruct); the one
    with fewest other words. None without a parameter count (words alone say too little) or a match."""
    label = re.sub(r"\b(mostly\s+)?(i?q\d\w*|f16|bf16|f32|mxfp4)\b.*$", "", name, flags=re.IGNORECASE)
    words = _words(label)
    if not params_b or not words:
        return None
    best, best_key = None, None
    for model in catalog.models:
        ids = _words(model.id) | {w for a in model.aliases for w in _words(a)}
        if not words <= ids or not model.params_total_b:
            continue
        if abs(model.params_total_b - params_b) > 0.06 * params_b:
            continue
        key = (len(ids - words), len(model.id))
        if best_key is None or key < best_key:
            best, best_key = model, key
    return best
