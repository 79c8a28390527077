"""Which open models a refresh adds: those OpenRouter serves with a Hugging Face id, and the Hub's most
downloaded and trending text-generation models.

Candidates are only named here; ``catalog.live`` then keeps a candidate whose repo is a text-generation (or
image-text-to-text) model with a config the estimator understands, and notes why each other one was left out.
Quantized copies and adapters (``base_model:quantized:``/``base_model:adapter:`` tags) are never candidates.
"""

from __future__ import annotations

from typing import Protocol

from rigcheck.catalog.net import RefreshError
from rigcheck.catalog.sources.huggingface import REPO_ID_RE, ChildRepo
from rigcheck.catalog.sources.openrouter import OpenRouterListing

DEFAULT_TOP = 15
"""Most downloaded text-generation models taken from the Hub per refresh (and as many trending ones)."""


class _Lists(Protocol):
    def text_models(self, sort: str, limit: int) -> list[ChildRepo]: ...


def candidates(client: _Lists | None, listing: OpenRouterListing | None, known: set[str], *,
               top: int = DEFAULT_TOP, trending: int = DEFAULT_TOP) -> tuple[list[str], list[str]]:
    """(repo ids not in ``known`` (lower-case ids), in the order found; notes on lists that failed).
    ``client``: a ``HubClient``, or a ``ModelFetcher`` that remembers the lists for a while."""
    found: dict[str, str] = {}
    notes: list[str] = []

    def take(repo: str | None) -> None:
        if repo and REPO_ID_RE.match(repo) and repo.lower() not in known:
            found.setdefault(repo.lower(), repo)

    if listing is not None:
        for entry in listing.models:
            if not entry.id.endswith(":free"):
                take((entry.hugging_face_id or "").strip())
    if client is not None:
        for sort, limit in (("downloads", top), ("trending_score", trending)):
            if limit <= 0:
                continue
            try:
                models = client.text_models(sort, limit)
            except RefreshError as exc:
                notes.append(f"the Hub's {sort.replace('_score', '')} list could not be read: {exc}")
                continue
            for model in models:
                if any(t.startswith(("base_model:quantized:", "base_model:adapter:")) for t in model.tags):
                    continue
                take(model.id)
    return list(found.values()), notes
