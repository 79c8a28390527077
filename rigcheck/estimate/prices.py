"""What hardware costs, from the catalog: a device's rental and purchase prices, and a configuration's.

Purchase prices are for the GPUs alone (a host server, CPUs and RAM are not in the device table);
unified-memory machines are whole computers. A launch price counts only while the part is current
(``is_current``: released within CURRENT_PART_YEARS of the catalog's date). Rental prices are the catalog's
on-demand $/GPU-hour.
"""

from __future__ import annotations

import datetime as _dt
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from rigcheck.catalog.records import Catalog, Device
from rigcheck.estimate.configs import GIB, Config
from rigcheck.estimate.serving import HOURS_PER_MONTH
from rigcheck.estimate.types import Band


def rental_price(
    catalog: Catalog, device: Device, resolve: Callable[[str], Device | None] | None = None
) -> tuple[Band, str] | None:
    """On-demand $/GPU-hour for a device from the catalog's rental offers: (band, sources line).

    The band runs from the cheapest "from" price to the dearest high end; the expected value is the
    median of each offer's midpoint (a typical price, not the best one found). Offers name GPUs as
    the device table does; ``resolve`` maps other spellings ("H200 SXM5") to a device when given.
    Returns None when no offer names this device.
    """
    matching = []
    for offer in catalog.rentals:
        name = offer.gpu
        if name == device.name or name in device.aliases:
            matching.append(offer)
        elif resolve is not None:
            resolved = resolve(name)
            if resolved is not None and resolved.name == device.name:
                matching.append(offer)
    if not matching:
        return None
    lows = [o.usd_per_gpu_hour for o in matching]
    highs = [o.usd_per_gpu_hour_high or o.usd_per_gpu_hour for o in matching]
    mids = [(lo + hi) / 2.0 for lo, hi in zip(lows, highs, strict=True)]
    providers = sorted({o.provider or "unnamed provider" for o in matching})
    line = f"{len(matching)} rental offer(s): {', '.join(providers)}"
    return Band(min(lows), statistics.median(mids), max(highs)), line


CURRENT_PART_YEARS = 4.0
"""A launch price is a price one can still pay for this many years after release: GPU lines turn over about every
two years, and a part two generations old is sold used or as old stock at prices the catalog does not hold."""


def part_age_years(device: Device, as_of: str | None) -> float | None:
    """Years from the device's release to ``as_of`` (ISO dates); None when either is unknown."""
    try:
        released = _dt.date.fromisoformat((device.release_date or "")[:10])
        now = _dt.date.fromisoformat((as_of or "")[:10])
    except ValueError:
        return None
    return (now - released).days / 365.25


def is_current(device: Device, as_of: str | None) -> bool:
    """Whether a buyer can still buy the device new: released within CURRENT_PART_YEARS of ``as_of`` (unknown
    dates count as current: no evidence otherwise)."""
    age = part_age_years(device, as_of)
    return age is None or age <= CURRENT_PART_YEARS


def purchase_price(device: Device, as_of: str | None = None) -> tuple[float, str] | None:
    """A device's purchase price (street price, else launch price) with which one it is; None if unknown.

    With ``as_of`` (the catalog's date), a launch price counts only for a current part (``is_current``): the
    launch price of a card released years ago is not what it costs now."""
    if device.street_price_usd:
        return device.street_price_usd, "street price"
    if device.launch_price_usd and (as_of is None or is_current(device, as_of)):
        return device.launch_price_usd, "launch price"
    return None


def stale_price_note(device: Device, as_of: str | None) -> str | None:
    """Why a known launch price is not used: "launch price $10,000 in 2018: not a current part"; else None."""
    if device.street_price_usd or not device.launch_price_usd or is_current(device, as_of):
        return None
    year = (device.release_date or "")[:4]
    return f"price unknown (launch price ${device.launch_price_usd:,.0f} in {year}: not a current part)"


@dataclass(frozen=True)
class Prices:
    """What a configuration costs: to buy, to rent, to power."""

    purchase_usd: float | None
    purchase_note: str
    rental_usd_per_hour: Band | None
    rental_note: str
    power_w: float | None

    @property
    def rental_usd_per_month(self) -> float | None:
        return None if self.rental_usd_per_hour is None else self.rental_usd_per_hour.expected * HOURS_PER_MONTH


class PriceBook:
    """Prices per device, looked up once per plan."""

    def __init__(self, catalog: Catalog, resolve: Callable[[str], Device | None] | None = None):
        self._catalog = catalog
        self._resolve = resolve
        self._rent: dict[str, tuple[Band, str] | None] = {}
        self.as_of = catalog.generated_at
        """The date prices are judged at: the catalog's (launch prices of parts no longer current do not count)."""

    def prices(self, config: Config) -> Prices:
        device = config.device
        buy = purchase_price(device, self.as_of)
        if buy is not None and config.kind == "unified" and device.memory_bytes and (
            config.memory_per_device_bytes != device.memory_bytes
        ):
            # One price per device row: it is the price of the memory size the row states.
            purchase, purchase_note = None, f"price unknown (known only with {device.memory_bytes / GIB:.0f} GB)"
        elif buy is None:
            purchase, purchase_note = None, stale_price_note(device, self.as_of) or "price unknown"
        else:
            purchase = buy[0] * config.count
            scope = "the machine" if config.kind == "unified" else "GPUs only, host not included"
            purchase_note = f"{buy[1]} x {config.count} ({scope})"
        if device.name not in self._rent:
            self._rent[device.name] = rental_price(self._catalog, device, self._resolve)
        rent = self._rent[device.name]
        if rent is None:
            rental, rental_note = None, "no rental offer in the catalog"
        else:
            per_gpu, note = rent
            rental = Band(per_gpu.low * config.count, per_gpu.expected * config.count, per_gpu.high * config.count)
            rental_note = note
        power = device.tdp_w * config.count if device.tdp_w else None
        return Prices(purchase, purchase_note, rental, rental_note, power)
