"""The live catalog: refresh straight from Hugging Face and OpenRouter, and add or remove one repo.

``refresh_from_sources()`` (``rigcheck catalog refresh`` and the GUI's Refresh with no feed URL) asks, from this
machine, Hugging Face for every catalog model's files, quantized versions, license and release date, and
OpenRouter for its model list and each open model's endpoints; it discovers new open models (OpenRouter's and
the Hub's most downloaded and trending), merges everything over the embedded catalog (``sources.merge``: curated
values win, fetched ones carry their source and date), validates the result fully and installs it in one step
under the refresh lock. A repo that is gated, missing or malformed is skipped with a note in the summary; a
cancel or a failure before the install leaves the catalog in use exactly as it was.

The models are fetched on ``WORKERS`` threads sharing one session (``parallel.run_in_order``: results and
notes in the order of the catalog, whichever request answers first), each with as few Hub API requests as
``sources.update`` can manage. When the Hub says its API budget for this window is (nearly) spent, no new API
request starts; the models not reached keep their previous facts and the summary says when to run again.

``add_model("ORG/REPO")`` adds one repo and its quantized versions for good (it is fetched again by every
refresh; ``<data>/added_models.json`` lists them); ``remove_model`` takes a user-added one out.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

import msgspec

from rigcheck.catalog import cache, paths
from rigcheck.catalog.net import (
    Deadlines,
    FeedInvalid,
    NetworkDisabled,
    NetworkError,
    RateLimited,
    RefreshCancelled,
    RefreshError,
    Session,
    TimeLimitReached,
    is_cancelled,
)
from rigcheck.catalog.outcome import CacheWriteError, RefreshResult, locked
from rigcheck.catalog.parallel import NOT_RUN, run_in_order
from rigcheck.catalog.records import Catalog, CatalogError, HostedOffer, Model, encode_catalog
from rigcheck.catalog.sources import discover, huggingface, openrouter
from rigcheck.catalog.sources.merge import merge_hosted, merge_model
from rigcheck.catalog.sources.update import RECHECK_AFTER_S, ModelFetcher
from rigcheck.probe.files import FileReadError, json_too_deep, read_capped

SOURCE_URL = "sources"
"""``CacheMeta.source_url`` of a catalog built here from Hugging Face and OpenRouter."""
DEFAULT_TIME_LIMIT_S = 20 * 60.0
MAX_NETWORK_FAILURES_IN_A_ROW = 3
WORKERS = 8
"""Requests in flight at once: enough to hide the network's latency, few enough to be polite (and the Hub's
API budget is counted per request, not per connection)."""
ADDED_FILE = "added_models.json"
RECHECK_HOURS = round(RECHECK_AFTER_S / 3600)

ProgressFn = Callable[..., None]
"""``progress(done, total, what)``: models done of total, and what is being fetched now."""


class UnknownAddedModel(ValueError):
    """``catalog remove`` of a model that was not added with ``catalog add``."""


MAX_ADDED_BYTES = 1024 * 1024


def added_models() -> list[str]:
    """The repos the user added with ``catalog add`` (in the order added)."""
    try:
        data = read_capped(paths.data_dir() / ADDED_FILE, MAX_ADDED_BYTES, "the list of added models")
        value = [] if json_too_deep(data) else msgspec.json.decode(data, type=list[str])
    except (FileNotFoundError, FileReadError, msgspec.DecodeError):
        return []
    return [v for v in value if huggingface.REPO_ID_RE.match(v)]


def _write_added(repos: list[str]) -> None:
    cache.atomic_write(paths.data_dir() / ADDED_FILE, msgspec.json.encode(sorted(set(repos), key=repos.index)))


class _Run:
    """One refresh's network side: a session, the Hub, OpenRouter, the worker threads, and the notes of what
    was skipped."""

    def __init__(self, *, cancel, sleep, time_limit_s, deadlines, hf_base_url, openrouter_base_url, max_children,
                 progress: ProgressFn | None, now: datetime | None = None, workers: int = WORKERS):
        self.user_cancel = cancel
        self.abort = threading.Event()
        """Set when the run stops early (cancel, time limit, no network): requests in flight end at once."""
        self.session = Session(deadlines=deadlines or Deadlines(), time_limit_s=time_limit_s, cancel=self._stopped,
                               sleep=sleep, etag_cache=paths.cache_dir() / "http")
        try:
            self.hub = huggingface.HubClient(base_url=hf_base_url or huggingface.default_base_url(),
                                             session=self.session, sleep=sleep, api_reserve=workers)
        except BaseException:
            self.session.close()
            raise
        self.openrouter_base_url = openrouter_base_url or openrouter.default_base_url()
        self.fetcher = ModelFetcher(self.hub, max_children=max_children,
                                    now_s=now.timestamp() if now is not None else None,
                                    gguf_listings=2 if _logged_in() else 1)
        self.workers = workers
        self.progress = progress
        self.notes: list[str] = []
        self.timed_out = False
        self.rate_limited: list[str] = []
        self.cached = 0
        self.deferred = 0
        self.listing: openrouter.OpenRouterListing | None = None

    def _stopped(self) -> bool:
        return self.abort.is_set() or is_cancelled(self.user_cancel)

    def close(self) -> None:
        self.session.close()

    def read_listing(self) -> None:
        try:
            self.listing = openrouter.fetch_models(self.session, self.openrouter_base_url)
        except (RefreshCancelled, NetworkDisabled, TimeLimitReached):
            raise
        except RefreshError as exc:
            self.notes.append(f"OpenRouter model list: {exc}")

    def fetch_models(self, targets: list[tuple[str, str]], curated: dict[str, Model]) -> dict[str, Model]:
        """Describe each (repo, kind) target on the worker threads; kind is "known" (in the catalog), "added"
        or "discovered". Results and notes come in the targets' order, whichever request answered first."""
        total = len(targets)
        state = {"done": 0, "ok": 0, "network": 0, "error": None}

        def work(target: tuple[str, str]):
            repo, kind = target
            fetched = self.fetcher.fetch_target(repo, kind=kind, curated=curated.get(repo))
            if fetched.model is not None:
                cache.check_record_numbers(fetched.model, repo)
            return fetched

        def done(_index: int, target: tuple[str, str], outcome) -> bool:
            state["done"] += 1
            if self.progress:
                self.progress(state["done"], total, target[0])
            if isinstance(outcome, (RefreshCancelled, NetworkDisabled)):
                state["error"] = outcome
                return True
            if isinstance(outcome, TimeLimitReached):
                self.timed_out = True
                return True
            if isinstance(outcome, NetworkError):
                state["network"] += 1
                if state["network"] >= MAX_NETWORK_FAILURES_IN_A_ROW and not state["ok"]:
                    state["error"] = NetworkError(f"Hugging Face could not be reached: {outcome}")
                    return True
            elif not isinstance(outcome, BaseException):
                state["ok"] += 1
            return False

        if self.progress:
            self.progress(0, total, targets[0][0] if targets else "")
        outcomes = self._run(targets, work, done)
        if is_cancelled(self.user_cancel):
            raise RefreshCancelled("cancelled; nothing was changed")
        if state["error"] is not None:
            raise state["error"]
        results: dict[str, Model] = {}
        for (repo, kind), outcome in zip(targets, outcomes, strict=True):
            self._take(repo, kind, outcome, results)
        if self.timed_out:
            self.notes.append(f"the time limit was reached after {len(results)} of {total} models; the rest keep "
                              f"their previous facts")
        if self.rate_limited:
            self.notes.append(self.rate_limit_note(len(self.rate_limited)))
        if self.deferred:
            self.notes.append(f"{self.deferred} more GGUF repos offer other quant types; they are read by the next "
                              f"refresh after {RECHECK_HOURS} h (one new file list per model per refresh keeps "
                              f"within the Hub's rate limit)")
        if self.progress:
            self.progress(total, total, "hosted prices")
        self.fetcher.save()
        return results

    def _run(self, items, work, done):
        """``parallel.run_in_order`` on the worker threads; stopping early ends the requests in flight."""
        try:
            return run_in_order(items, work, workers=self.workers, on_done=done, should_stop=self._stopped,
                                on_stop=self.abort.set)
        finally:
            self.abort = threading.Event()  # every worker has ended: the next batch starts unstopped

    def _take(self, repo: str, kind: str, outcome, results: dict[str, Model]) -> None:
        """One target's outcome into ``results`` and the notes (in target order)."""
        if outcome is NOT_RUN or isinstance(outcome, (TimeLimitReached, RefreshCancelled)):
            return
        if isinstance(outcome, RateLimited):
            self.rate_limited.append(repo)
            return
        if isinstance(outcome, (RefreshError, CatalogError)):
            self.notes.append(f"{repo}: skipped: {outcome}")
            return
        if isinstance(outcome, BaseException):
            raise outcome
        model, notes = outcome.model, outcome.notes
        self.cached += outcome.cached
        self.deferred += outcome.deferred
        self.notes.extend(notes)
        if model is None:
            return
        if kind == "discovered" and (model.notes or not model.num_layers):
            self.notes.append(f"{repo}: not added: {model.notes or 'architecture not understood'}")
            return
        if model.notes and kind != "known":
            self.notes.append(f"{repo}: {model.notes}")
        results[repo] = model

    def rate_limit_note(self, count: int) -> str:
        """The note for models left as they were because the Hub's API requests ran out in this window."""
        left_s = self.hub.api_spent_s() or self.session.rate_limits.spent(self.hub.host, "api") or 60.0
        minutes = max(1, math.ceil(left_s / 60))
        login = "" if _logged_in() else ", or log in (HF_TOKEN / hf auth login) for a higher limit"
        return (f"Hub rate limit: {count} model{'s' if count != 1 else ''} keep their previous facts; run again "
                f"in {minutes} min{login}")

    def fetch_offers(self, models: list[Model]) -> tuple[list[HostedOffer], set[str]]:
        """OpenRouter endpoint offers for the models it serves; (offers, ids of the models asked about)."""
        if self.listing is None or self.timed_out:
            return [], set()
        by_hf = {m.id.lower(): m.id for m in models}
        for m in models:
            for alias in m.aliases:
                by_hf.setdefault(alias.lower(), m.id)
        wanted: dict[str, str] = {}
        for entry in self.listing.models:
            model_id = by_hf.get((entry.hugging_face_id or "").lower())
            if model_id and not entry.id.endswith(":free"):
                wanted.setdefault(model_id, entry.id)
        today = datetime.now(timezone.utc).date().isoformat()

        def work(item: tuple[str, str]):
            return openrouter.fetch_endpoints(self.session, item[1], self.openrouter_base_url)

        def done(_index, _item, outcome) -> bool:
            if isinstance(outcome, (RefreshCancelled, NetworkDisabled)):
                return True
            if isinstance(outcome, TimeLimitReached):
                self.timed_out = True
                return True
            return False

        outcomes = self._run(list(wanted.items()), work, done)
        if is_cancelled(self.user_cancel):
            raise RefreshCancelled("cancelled; nothing was changed")
        offers: list[HostedOffer] = []
        asked: set[str] = set()
        for (model_id, openrouter_id), outcome in zip(wanted.items(), outcomes, strict=True):
            if isinstance(outcome, (RefreshCancelled, NetworkDisabled)):
                raise outcome
            if outcome is NOT_RUN or isinstance(outcome, TimeLimitReached):
                continue
            if isinstance(outcome, RefreshError):
                self.notes.append(f"OpenRouter endpoints of {openrouter_id}: {outcome}")
                continue
            if isinstance(outcome, BaseException):
                raise outcome
            endpoints, skipped, url = outcome
            found, bad = openrouter.offers_from_endpoints(model_id, openrouter_id, endpoints, source=url,
                                                          date_seen=today)
            self.notes.extend(skipped + bad)
            offers.extend(found)
            asked.add(model_id)
        if self.timed_out and len(asked) < len(wanted):
            self.notes.append("the time limit was reached while reading OpenRouter's endpoints; the rest keep "
                              "their previous prices")
        return offers, asked


def refresh_from_sources(*, progress: ProgressFn | None = None, cancel=None,
                         sleep: Callable[[float], None] = time.sleep, now: datetime | None = None,
                         discover_top: int = discover.DEFAULT_TOP, time_limit_s: float = DEFAULT_TIME_LIMIT_S,
                         max_children: int = huggingface.MAX_CHILDREN, hf_base_url: str | None = None,
                         openrouter_base_url: str | None = None, deadlines: Deadlines | None = None,
                         workers: int = WORKERS) -> RefreshResult:
    """Refresh the catalog from Hugging Face and OpenRouter (module docstring). ``discover_top``: how many of
    the Hub's most downloaded and of its trending text-generation models to consider (0: none).

    Raises ``NetworkDisabled`` (RIGCHECK_NO_NETWORK, HF_HUB_OFFLINE), ``NetworkError`` (nothing reachable),
    ``RefreshCancelled``, ``RefreshBusy``, ``FeedInvalid`` (the result failed validation) or
    ``CacheWriteError``; the catalog in use is then unchanged.
    """
    from rigcheck.catalog.store import load_embedded

    with locked():
        embedded = load_embedded()
        previous = _previous_from_sources()
        added = added_models()
        run = _Run(cancel=cancel, sleep=sleep, time_limit_s=time_limit_s, deadlines=deadlines,
                   hf_base_url=hf_base_url, openrouter_base_url=openrouter_base_url, max_children=max_children,
                   progress=progress, now=now, workers=workers)
        try:
            run.read_listing()
            known = {m.id.lower() for m in embedded.models}
            targets = [(m.id, "known") for m in embedded.models]
            for repo in added:
                if repo.lower() not in known:
                    targets.append((repo, "added"))
                    known.add(repo.lower())
            for m in previous.models if previous else ():
                if m.id.lower() not in known:  # discovered by an earlier refresh: kept, and refreshed
                    targets.append((m.id, "added"))
                    known.add(m.id.lower())
            found, notes = discover.candidates(run.fetcher, run.listing, known, top=discover_top,
                                               trending=discover_top)
            run.notes.extend(notes)
            targets += [(repo, "discovered") for repo in found]
            results = run.fetch_models(targets, {m.id: m for m in embedded.models})
            models = _assemble_models(embedded, previous, results, [t[0] for t in targets])
            offers, asked = run.fetch_offers(models)
        finally:
            run.close()
        if not results and not offers:
            raise NetworkError("nothing could be fetched from Hugging Face or OpenRouter: "
                               + (run.notes[0] if run.notes else "no answer"))
        hosted = merge_hosted(embedded.hosted, offers)
        if previous is not None:  # prices of models OpenRouter was not asked about this time stay as they were
            hosted += [o for o in previous.hosted if o.endpoint and o.model_id not in asked
                       and o.model_id in {m.id for m in models}]
        new_ids = [m.id for m in models if m.id.lower() not in {e.id.lower() for e in embedded.models}]
        catalog = _stamp(msgspec.structs.replace(embedded, models=models, hosted=_dedupe(hosted)), embedded, now)
        checked = f" ({run.cached} as checked less than {RECHECK_HOURS} h ago)" if run.cached else ""
        summary = (f"catalog refreshed from Hugging Face and OpenRouter: {len(results)} models fetched{checked}, "
                   f"{len(models)} in all ({len(new_ids)} beyond the built-in catalog), "
                   f"{sum(len(m.quants) for m in models)} quants, {len(catalog.hosted)} hosted offers")
        stopped = [n for n in run.notes if n.startswith(("Hub rate limit: ", "the time limit was reached"))]
        if stopped:  # said in the one line too: it is why some models are not up to date
            summary += "; " + "; ".join(stopped)
        return _install(catalog, summary, run.notes, source=SOURCE_URL)


def add_model(ref: str, *, progress: ProgressFn | None = None, cancel=None,
              sleep: Callable[[float], None] = time.sleep, now: datetime | None = None,
              hf_base_url: str | None = None, openrouter_base_url: str | None = None,
              deadlines: Deadlines | None = None, max_children: int = huggingface.MAX_CHILDREN) -> RefreshResult:
    """Add one Hugging Face repo (``ORG/REPO`` or its URL) and its quantized versions to the catalog in use, and
    keep it in every later refresh.

    Raises ``InvalidRepoId`` (a ValueError) for a malformed reference, ``HttpStatusError`` for a missing or gated
    repo (the message says how to get access), and the other ``RefreshError``s; nothing changes then.
    """
    from rigcheck.catalog.store import load_catalog

    repo = huggingface.parse_model_ref(ref)
    with locked():
        base = load_catalog()
        existing = next((m for m in base.models if m.id.lower() == repo.lower()), None)
        run = _Run(cancel=cancel, sleep=sleep, time_limit_s=DEFAULT_TIME_LIMIT_S, deadlines=deadlines,
                   hf_base_url=hf_base_url, openrouter_base_url=openrouter_base_url, max_children=max_children,
                   progress=progress)
        try:
            if progress:
                progress(0, 1, repo)
            info = run.hub.info(repo, files=True)
            run.fetcher.gguf_listings = max_children  # one model: every GGUF repo that adds types, at once
            model, notes = run.fetcher.fetch(info.id or repo, info=info)
            cache.check_record_numbers(model, repo)
            run.notes.extend(notes)
            if model.notes:
                run.notes.append(f"{model.id}: {model.notes}")
            run.fetcher.save()
            run.read_listing()
            merged = merge_model(existing, model) if existing is not None else model
            offers, _asked = run.fetch_offers([merged])
        except CatalogError as exc:
            raise FeedInvalid(f"{repo} has values rigcheck cannot use: {exc}") from None
        finally:
            run.close()
        models = [merged if m is existing else m for m in base.models] if existing else [*base.models, merged]
        hosted = merge_hosted(base.hosted, offers)
        catalog = _stamp(msgspec.structs.replace(base, models=models, hosted=_dedupe(hosted)), base, now)
        change = _AddedListChange(merged.id, add=True)
        try:
            return _install(catalog, f"added {merged.id}: {len(merged.quants)} quants, {len(offers)} hosted offers",
                            run.notes, source=_source_after_edit())
        except RefreshError:
            change.undo()
            raise


def remove_model(ref: str, *, now: datetime | None = None) -> RefreshResult:
    """Take a model added with ``add_model`` out of the catalog in use and out of later refreshes.

    Raises ``InvalidRepoId`` or ``UnknownAddedModel`` (both ValueError) for a model that was not added.
    """
    from rigcheck.catalog.store import load_catalog, load_embedded

    repo = huggingface.parse_model_ref(ref)
    with locked():
        added = added_models()
        match = next((a for a in added if a.lower() == repo.lower()), None)
        if match is None:
            raise UnknownAddedModel(f"{repo} was not added with `rigcheck catalog add`; only added models can be "
                                    f"removed" + (f" (added: {', '.join(added)})" if added else ""))
        base = load_catalog()
        built_in = {m.id.lower() for m in load_embedded().models}
        models = [m for m in base.models if m.id.lower() != repo.lower() or m.id.lower() in built_in]
        hosted = [o for o in base.hosted if o.model_id.lower() != repo.lower() or o.model_id.lower() in built_in]
        catalog = _stamp(msgspec.structs.replace(base, models=models, hosted=hosted), base, now)
        change = _AddedListChange(match, add=False)
        try:
            return _install(catalog, f"removed {match}", [], source=_source_after_edit())
        except RefreshError:
            change.undo()
            raise


# ----------------------------------------------------------------------------------------------- helpers

def _logged_in() -> bool:
    """Whether requests to the Hub carry a token (HF_TOKEN or the saved ``hf auth login``)."""
    try:
        return huggingface._hf().get_token() is not None
    except Exception:  # noqa: BLE001 - an unreadable token file is "not logged in" here
        return False


def _previous_from_sources() -> Catalog | None:
    """The cached catalog when an earlier refresh from sources (or add) built it; None otherwise."""
    meta = cache.read_meta()
    if meta is None or meta.kind != "sources":
        return None
    return cache.read_cached().catalog


def _source_after_edit() -> str:
    meta = cache.read_meta()
    return meta.source_url if meta is not None and meta.kind == "sources" else SOURCE_URL


def _assemble_models(embedded: Catalog, previous: Catalog | None, results: dict[str, Model],
                     order: list[str]) -> list[Model]:
    """Embedded models merged with this refresh's facts (or, where a fetch failed, the previous refresh's),
    then every other model fetched or kept, in ``order``."""
    prev = {m.id: m for m in previous.models} if previous else {}
    models = []
    built_in = set()
    for model in embedded.models:
        built_in.add(model.id)
        fetched = results.get(model.id) or prev.get(model.id)
        models.append(merge_model(model, fetched) if fetched is not None else model)
    for repo in order:
        if repo in built_in:
            continue
        model = results.get(repo) or prev.get(repo)
        if model is not None:
            built_in.add(repo)
            models.append(model)
    return models


def _dedupe(offers: list[HostedOffer]) -> list[HostedOffer]:
    seen, out = set(), []
    for offer in offers:
        key = openrouter.offer_key(offer)
        if key not in seen:
            seen.add(key)
            out.append(offer)
    return out


def _stamp(catalog: Catalog, base: Catalog, now: datetime | None) -> Catalog:
    """A build time as sequence (never below the base's + 1) and generation time; no expiry (built here)."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0, second=0)
    sequence = max(int(now.strftime("%Y%m%d%H%M")), base.sequence + 1)
    return msgspec.structs.replace(catalog, sequence=sequence, expires_at=None, source=None,
                                   generated_at=now.isoformat().replace("+00:00", "Z"))


def _install(catalog: Catalog, summary: str, notes: list[str], *, source: str) -> RefreshResult:
    data = encode_catalog(catalog)
    try:
        validated = cache.validate_catalog_bytes(data)
    except CatalogError as exc:
        raise FeedInvalid(f"the refreshed catalog failed validation ({exc}); the catalog in use is unchanged") from None
    meta = cache.CacheMeta(source_url=source, fetched_at=cache.utc_now_iso(), sequence=validated.sequence,
                           kind="sources")
    try:
        _installed, warning = cache.install_catalog(data, meta, validated=validated)
    except OSError as exc:
        raise CacheWriteError(f"could not write the catalog cache in {cache.catalog_path().parent}: "
                              f"{exc.strerror or exc}; the catalog in use is unchanged") from None
    warnings = (warning,) if warning else ()
    message = summary + (f"; {len(notes)} skipped or noted (listed below)" if notes else "")
    return RefreshResult(status="updated", catalog=msgspec.structs.replace(validated, source=source), message=message,
                         url=source, signed=False, changed=True, warnings=warnings, notes=tuple(notes))


class _AddedListChange:
    """Change ``added_models.json`` before installing, and put it back if the install fails, so the list and
    the catalog in use agree whatever happens (a failure to write the list fails the command, nothing changed)."""

    def __init__(self, repo: str, *, add: bool):
        self.before = added_models()
        after = [r for r in self.before if r.lower() != repo.lower()] + ([repo] if add else [])
        try:
            _write_added(after)
        except OSError as exc:
            raise CacheWriteError(f"could not write {paths.data_dir() / ADDED_FILE} ({exc.strerror or exc}); "
                                  f"nothing was changed") from None

    def undo(self) -> None:
        try:
            _write_added(self.before)
        except OSError:
            pass  # the list then names a repo the next refresh fetches again: harmless
