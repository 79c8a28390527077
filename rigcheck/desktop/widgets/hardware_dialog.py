"""The "what if" hardware editor: GPUs with counts and RAM from the device table, or a machine profile file."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from rigcheck.catalog.records import Catalog, Device
from rigcheck.desktop.models.devices import DEVICE_ROLE, DeviceFilterProxy, DeviceListModel
from rigcheck.desktop.services import Services
from rigcheck.desktop.widgets.machine_panel import plain_label
from rigcheck.probe.types import Machine


class HardwareDialog(QDialog):
    """On accept, ``machine`` holds the hypothetical (or loaded) machine."""

    def __init__(self, services: Services, catalog: Catalog, parent=None, *, start_dir: str = ""):
        super().__init__(parent)
        self.setWindowTitle("What if — another machine")
        self.services = services
        self.catalog = catalog
        self.machine: Machine | None = None
        self._start_dir = start_dir

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the device table: 4090, H100, M3 Ultra, Strix…")
        self.search.setClearButtonEnabled(True)
        self.devices = DeviceListModel(catalog.devices, self)
        self.proxy = DeviceFilterProxy(self)
        self.proxy.setSourceModel(self.devices)
        self.proxy.sort(0)
        self.search.textChanged.connect(self.proxy.set_search)
        self.device_view = QListView()
        self.device_view.setModel(self.proxy)
        self.device_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.device_view.doubleClicked.connect(lambda _i: self.add_selected())
        self.count = QSpinBox()
        self.count.setRange(1, 64)
        self.count.setPrefix("× ")
        self.count.setToolTip("How many of this GPU")
        add = QPushButton("Add")
        add.clicked.connect(self.add_selected)
        self.chosen = QListWidget()
        self.chosen.setToolTip("GPUs of the hypothetical machine")
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove)
        self.ram = QLineEdit()
        self.ram.setPlaceholderText("e.g. 64GB, 512 GiB (leave empty for a GPU-only sizing)")
        self.error = plain_label("", wrap=True)
        self.error.setStyleSheet("")  # palette text colour; the message itself says it is an error
        self.error.hide()
        load = QPushButton("Load profile…")
        load.setToolTip("A machine profile written by `rigcheck probe --json`")
        load.clicked.connect(self.load_profile)

        grid = QGridLayout()
        grid.addWidget(self.search, 0, 0, 1, 3)
        grid.addWidget(self.device_view, 1, 0, 1, 3)
        row = QHBoxLayout()
        row.addWidget(QLabel("Count"))
        row.addWidget(self.count)
        row.addWidget(add)
        row.addStretch(1)
        grid.addLayout(row, 2, 0, 1, 3)
        grid.addWidget(QLabel("GPUs"), 3, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.chosen, 3, 1)
        grid.addWidget(remove, 3, 2, Qt.AlignmentFlag.AlignTop)
        ram_label = QLabel("RAM")
        ram_label.setBuddy(self.ram)
        grid.addWidget(ram_label, 4, 0)
        grid.addWidget(self.ram, 4, 1, 1, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(load, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, 560)

    def add_gpu(self, name: str, count: int = 1) -> None:
        item = QListWidgetItem(f"{count} x {name}")
        item.setData(Qt.ItemDataRole.UserRole, (count, name))
        self.chosen.addItem(item)

    def add_selected(self) -> None:
        idx = self.device_view.currentIndex()
        if not idx.isValid() and self.proxy.rowCount() == 1:
            idx = self.proxy.index(0, 0)
        device: Device | None = idx.data(DEVICE_ROLE) if idx.isValid() else None
        if device is None:
            self._show_error("Pick a GPU from the list first.")
            return
        self.add_gpu(device.name, self.count.value())
        self._show_error("")

    def gpu_specs(self) -> list[str]:
        specs = []
        for i in range(self.chosen.count()):
            count, name = self.chosen.item(i).data(Qt.ItemDataRole.UserRole)
            specs.append(f"{count} x {name}")
        return specs

    def load_profile(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Open a machine profile", self._start_dir,
                                                  "Machine profiles (*.json);;All files (*)")
            if not path:
                return
        try:
            self.machine = self.services.load_profile(path)
        except ValueError as exc:  # ProfileError: one sentence
            self._show_error(str(exc))
            return
        super().accept()

    def accept(self) -> None:
        specs = self.gpu_specs()
        text = self.ram.text().strip()
        try:
            ram_bytes = self.services.parse_size(text) if text else None
        except ValueError as exc:
            self._show_error(f"RAM: {exc}")
            return
        if not specs and ram_bytes is None:
            self._show_error("Add at least one GPU or give the RAM size.")
            return
        try:
            self.machine = self.services.hypothetical_machine(specs, ram_bytes, self.catalog)
        except ValueError as exc:  # DeviceLookupError names suggestions
            self._show_error(str(exc))
            return
        super().accept()

    def _remove(self) -> None:
        for item in self.chosen.selectedItems():
            self.chosen.takeItem(self.chosen.row(item))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
