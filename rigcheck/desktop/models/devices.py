"""The device table as a list model for the what-if editor: name, memory, bandwidth; searchable."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from rigcheck import units
from rigcheck.catalog.records import Device
from rigcheck.desktop.models import format as fmt

DEVICE_ROLE = Qt.ItemDataRole.UserRole + 3


def device_summary(d: Device) -> str:
    mem = units.device_memory_text(d.memory_bytes, d.memory_options_bytes, d.unified_memory)
    mem = "memory not known" if mem == units.DASH else mem
    return f"{d.name} — {mem}, {units.bandwidth_text(d.bandwidth_bytes_per_s)}"


class DeviceListModel(QAbstractListModel):
    def __init__(self, devices: list[Device] | None = None, parent=None):
        super().__init__(parent)
        self._devices: list[Device] = list(devices or [])

    def set_devices(self, devices: list[Device]) -> None:
        self.beginResetModel()
        self._devices = list(devices)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._devices)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._devices):
            return None
        d = self._devices[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return device_summary(d)
        if role == DEVICE_ROLE:
            return d
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [d.name, f"{d.vendor}, {d.kind}"]
            fp16 = units.fp16_tflops_text(d.fp16_tensor_tflops, d.fp16_vector_tflops)
            if fp16 != units.DASH:
                lines.append(f"FP16 {fp16} TFLOPS")
            if d.street_price_usd or d.launch_price_usd:
                lines.append(f"Price {units.usd_text(d.street_price_usd or d.launch_price_usd)}")
            if d.sources:
                lines.append(f"Source: {d.sources[0]}")
            return fmt.tooltip("\n".join(lines))
        return None


class DeviceFilterProxy(QSortFilterProxyModel):
    """Matches every word of the search against the name, aliases, vendor and kind."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._words: list[str] = []

    def set_search(self, text: str) -> None:
        words = text.casefold().split()
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self._words = words
            self.endFilterChange()
        else:  # pragma: no cover - Qt < 6.10
            self._words = words
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row, source_parent) -> bool:  # noqa: N802
        d: Device | None = self.sourceModel().index(source_row, 0, source_parent).data(DEVICE_ROLE)
        if d is None:
            return False
        hay = " ".join([d.name, d.vendor, d.kind, *d.aliases]).casefold()
        return all(w in hay for w in self._words)
