"""Finding a model in the catalog from what a person types: a Hugging Face id, an alias, or part of one."""

from __future__ import annotations

import difflib

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
