"""The closed models table: supplement/closed_models.csv, plus a display name made from the id for every other
``closed:`` model a hosted offer or score mentions."""

from __future__ import annotations

import re
from pathlib import Path

from rigcheck.catalog.records import ClosedModel, HostedOffer, Score
from rigcheck.catalog.sources.reference.cells import read_csv

_VENDOR_NAMES = {"anthropic": "Anthropic", "openai": "OpenAI", "google": "Google", "xai": "xAI"}
_NAME_WORDS = {"gpt": "GPT", "claude": "Claude", "gemini": "Gemini", "grok": "Grok", "sonnet": "Sonnet",
               "opus": "Opus", "haiku": "Haiku", "pro": "Pro", "flash": "Flash", "mini": "mini"}


def read_closed_models(supplement_dir: Path, hosted: list[HostedOffer], scores: list[Score]) -> list[ClosedModel]:
    """The listed closed models, then one per unlisted ``closed:`` id of an offer or score, in id order.

    Raises BuildError when the file is missing or unreadable.
    """
    closed: dict[str, ClosedModel] = {}
    for row in read_csv(supplement_dir / "closed_models.csv"):
        closed[row["id"]] = ClosedModel(id=row["id"], name=row["name"], vendor=row["vendor"])
    for model_id in sorted({o.model_id for o in hosted} | {s.model_id for s in scores}):
        if model_id.startswith("closed:") and model_id not in closed:
            closed[model_id] = closed_model_from_id(model_id)
    return list(closed.values())


def closed_model_from_id(model_id: str) -> ClosedModel:
    """A display name from a ``closed:<vendor>/<model>`` id: "closed:openai/gpt-5-mini" -> "GPT-5 mini"."""
    vendor, _, slug = model_id.removeprefix("closed:").partition("/")
    words = [_NAME_WORDS.get(w, w) for w in slug.split("-")]
    name = " ".join(words)
    name = re.sub(r"^GPT (\d)", r"GPT-\1", name)  # GPT-5, GPT-4.1 keep their hyphen
    return ClosedModel(id=model_id, name=name, vendor=_VENDOR_NAMES.get(vendor, vendor))
