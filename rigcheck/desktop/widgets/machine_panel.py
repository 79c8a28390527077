"""The machine panel: each GPU with its VRAM bar, bandwidth, compute and driver; RAM; CPU; live usage.

Every figure has a tooltip saying where it came from (driver, OS, spec table, you). With no usable GPU the
panel says why, from the probe's backend reasons, and what the app can still do.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from rigcheck import units
from rigcheck.desktop.models import format as fmt
from rigcheck.desktop.widgets.usage import UsageSample
from rigcheck.estimate.driver_rates import NO_SPEC_ROW, driver_compute
from rigcheck.probe.types import Gpu, Machine

if TYPE_CHECKING:  # a spec-table entry, or anything with its compute fields (the first look's GpuSpec)
    from rigcheck.catalog.records import Device

SPARK_POINTS = 60
"""One minute of history at one sample per second."""


def plain_label(text: str = "", parent: QWidget | None = None, *, bold: bool = False, wrap: bool = False) -> QLabel:
    """A label that never interprets its text as HTML (its text may come from a driver or the network)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    label.setWordWrap(wrap)
    if bold:
        f = label.font()
        f.setBold(True)
        label.setFont(f)
    return label


def _tip(sources, unavailable, name: str) -> str:
    return fmt.provenance_text(sources.get(name), unavailable.get(name))


def memory_bar(used: int | None, total: int | None, tooltip: str, *, described: bool = False) -> QProgressBar:
    """A used/total bar; ``described`` memory (a what-if machine) has no usage, so only its size is shown."""
    bar = QProgressBar()
    bar.setTextVisible(True)
    bar.setMinimumWidth(160)
    bar.setMaximumHeight(18)
    if total and (described or used is None):
        bar.setRange(0, 1)
        bar.setValue(0)
        bar.setFormat(f"{units.bytes_text(total)}" + ("" if described else " (use unknown)"))
    elif total:
        # Progress bars hold ints; MiB keeps well inside 2**31 for any real memory size.
        bar.setRange(0, max(1, total // 2**20))
        bar.setValue(0 if used is None else min(total, used) // 2**20)
        used_text = "?" if used is None else units.bytes_text(used)
        bar.setFormat(f"{used_text} / {units.bytes_text(total)}")
    else:
        bar.setRange(0, 1)
        bar.setValue(0)
        bar.setFormat("unknown")
    bar.setToolTip(fmt.tooltip(tooltip))
    return bar


GROUP_FROM = 3
"""This many identical GPUs or more share one card (an 8-GPU node would not fit side by side)."""


def _gpu_memory(gpu: Gpu) -> tuple[int | None, int | None]:
    """(used, total) bytes; for unified parts the total is the share the GPU may use."""
    total = gpu.gpu_usable_memory_bytes if gpu.unified_memory and gpu.gpu_usable_memory_bytes else gpu.vram_total_bytes
    used = gpu.vram_used_bytes
    if used is None and gpu.vram_free_bytes is not None and total is not None:
        used = total - gpu.vram_free_bytes
    return used, total


def group_gpus(gpus) -> list[list[Gpu]]:
    """Consecutive GPUs of the same model and memory, grouped when there are GROUP_FROM of them or more."""
    runs: list[list[Gpu]] = []
    for gpu in gpus:
        key = (gpu.name, gpu.vram_total_bytes, gpu.unified_memory, gpu.lost)
        if runs and (runs[-1][0].name, runs[-1][0].vram_total_bytes, runs[-1][0].unified_memory,
                     runs[-1][0].lost) == key:
            runs[-1].append(gpu)
        else:
            runs.append([gpu])
    out: list[list[Gpu]] = []
    for run in runs:
        out.extend([run] if len(run) >= GROUP_FROM else [[g] for g in run])
    return out


class GpuCard(QFrame):
    """One GPU, or a group of identical ones (one summed VRAM bar; each GPU's use in its tooltip)."""

    def __init__(self, gpus: Gpu | list[Gpu], spec: Device | None, parent: QWidget | None = None,
                 share: tuple[str, str, str] | None = None):
        """``share``: for a unified-memory GPU, (the share of RAM it may use, where that figure comes from, a tip)."""
        super().__init__(parent)
        gpus = [gpus] if isinstance(gpus, Gpu) else list(gpus)
        gpu = gpus[0]
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.gpu = gpu
        self.gpus = gpus
        src, una = gpu.sources, gpu.unavailable
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setVerticalSpacing(2)
        if len(gpus) == 1:
            heading = f"GPU {gpu.index}: {gpu.name}"
        else:
            heading = f"GPUs {gpus[0].index}–{gpus[-1].index}: {len(gpus)}× {gpu.name}"
        title = plain_label(heading + ("  (lost)" if gpu.lost else ""), bold=True)
        title.setToolTip(fmt.tooltip(_tip(src, una, "name")))
        grid.addWidget(title, 0, 0, 1, 2)
        memories = [_gpu_memory(g) for g in gpus]
        totals = [t for _u, t in memories]
        used_each = [u for u, _t in memories]
        total = sum(totals) if all(t is not None for t in totals) else None
        used = sum(used_each) if all(u is not None for u in used_each) else None
        described = gpu.sources.get("vram_total_bytes") in ("spec table", "user")
        mem_tip = _tip(src, una, "vram_total_bytes")
        if gpu.unified_memory:
            mem_tip += "\nUnified memory: the GPU uses system RAM; the bar shows the share the GPU may use."
        if len(gpus) > 1:
            mem_tip += "\nSummed over the group; each GPU:\n" + "\n".join(
                f"GPU {g.index}: {units.bytes_text(u) if u is not None else '?'} / {units.bytes_text(t)}"
                for g, (u, t) in zip(gpus, memories, strict=True))
        grid.addWidget(plain_label("Unified" if gpu.unified_memory else "VRAM"), 1, 0)
        self.vram_bar = memory_bar(used, total, mem_tip, described=described)
        grid.addWidget(self.vram_bar, 1, 1)
        self.share_label: QLabel | None = None
        row = 2
        if gpu.unified_memory and share is not None:
            amount, source, tip = share
            self.share_label = plain_label(amount)
            source_label = plain_label(source)
            for name, value in (("GPU share", self.share_label), ("Share from", source_label)):
                value.setToolTip(fmt.tooltip(tip))
                grid.addWidget(plain_label(name), row, 0)
                grid.addWidget(value, row, 1)
                row += 1

        bw = gpu.memory_bandwidth_bytes_per_s
        bw_src = _tip(src, una, "memory_bandwidth_bytes_per_s")
        if bw is None and spec is not None and spec.bandwidth_bytes_per_s:
            bw = spec.bandwidth_bytes_per_s
            bw_src = fmt.provenance_text("spec table") + f" ({spec.name})"
        tflops = None
        compute_tip = "Not in the device table: compute throughput unknown"
        if spec is not None:
            tflops = spec.fp16_tensor_tflops or spec.bf16_tensor_tflops or spec.fp16_vector_tflops
            kind = "dense FP16 tensor" if (spec.fp16_tensor_tflops or spec.bf16_tensor_tflops) else "FP16 shader"
            compute_tip = f"{kind} throughput. " + fmt.provenance_text("spec table") + f" ({spec.name})"
        elif (from_driver := driver_compute(gpu)) is not None:
            # The estimator's own figure for a GPU the table does not know (estimate/resolved.py).
            tflops = from_driver.fp16_flops_per_s / 1e12
            compute_tip = f"Dense FP16 throughput {NO_SPEC_ROW}: {from_driver.how}"
        each = " each" if len(gpus) > 1 else ""
        for label, text, tip in (
            ("Bandwidth", units.bandwidth_text(bw) + each, bw_src),
            ("Compute", units.tflops_text(tflops) + (each if tflops else ""), compute_tip),
            ("Driver", _driver_text(gpu), _tip(src, una, "driver_version")),
        ):
            name = plain_label(label)
            value = plain_label(text)
            value.setToolTip(fmt.tooltip(tip))
            name.setToolTip(fmt.tooltip(tip))
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            row += 1
        self.values_text = f"{units.bandwidth_text(bw)} {units.tflops_text(tflops)}"


def _driver_text(gpu: Gpu) -> str:
    parts = []
    if gpu.driver_version:
        parts.append(gpu.driver_version)
    if gpu.cuda_version:
        parts.append(f"CUDA {gpu.cuda_version}")
    return ", ".join(parts) if parts else units.DASH


class HostCard(QFrame):
    """RAM bar and the CPU."""

    def __init__(self, machine: Machine, parent: QWidget | None = None, unified_bandwidth: float | None = None):
        """``unified_bandwidth``: on a unified-memory machine, the memory's bandwidth from the GPU's spec row (the OS
        reports none)."""
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        mem, cpu = machine.memory, machine.cpu
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setVerticalSpacing(2)
        title = plain_label(machine.label or machine.hostname or "This machine", bold=True)
        grid.addWidget(title, 0, 0, 1, 2)
        used = None if mem.available_bytes is None else mem.total_bytes - mem.available_bytes
        grid.addWidget(plain_label("RAM"), 1, 0)
        ram_tip = _tip(mem.sources, mem.unavailable, "total_bytes")
        if mem.ram_type or mem.ram_speed_mhz:
            ram_tip += f"\n{mem.ram_type or ''} {f'{mem.ram_speed_mhz} MHz' if mem.ram_speed_mhz else ''}".rstrip()
        self.ram_bar = memory_bar(used, mem.total_bytes, ram_tip, described=machine.is_hypothetical)
        grid.addWidget(self.ram_bar, 1, 1)
        bw_tip = _tip(mem.sources, mem.unavailable, "bandwidth_bytes_per_s")
        if mem.bandwidth_bytes_per_s is None and unified_bandwidth:
            bw = plain_label(f"{units.bandwidth_text(unified_bandwidth)} (unified)")
            bw_tip = ("Unified memory: the GPU's bandwidth, from the device table; the CPU cores reach about half "
                      "of it")
        else:
            bw = plain_label(units.bandwidth_text(mem.bandwidth_bytes_per_s))
        bw.setToolTip(fmt.tooltip(bw_tip))
        grid.addWidget(plain_label("RAM bandwidth"), 2, 0)
        grid.addWidget(bw, 2, 1)
        cores = ""
        if cpu.physical_cores or cpu.logical_cores:
            cores = f"{cpu.physical_cores or '?'} cores / {cpu.logical_cores or '?'} threads"
        cpu_text = plain_label(cpu.model or ("not specified" if machine.is_hypothetical else "unknown CPU"))
        cpu_text.setToolTip(fmt.tooltip(_tip(cpu.sources, cpu.unavailable, "model")
                                        + (f"\nISA: {', '.join(cpu.isa_flags)}" if cpu.isa_flags else "")))
        grid.addWidget(plain_label("CPU"), 3, 0)
        grid.addWidget(cpu_text, 3, 1)
        self.cores_label = plain_label(cores or units.DASH)
        self.cores_label.setToolTip(fmt.tooltip(_tip(cpu.sources, cpu.unavailable, "physical_cores")))
        grid.addWidget(plain_label("Cores"), 4, 0)
        grid.addWidget(self.cores_label, 4, 1)


def no_gpu_text(machine: Machine) -> str:
    """Why no GPU is shown, from the backends' reasons, and what still works."""
    reasons = [f"{b.name}: {b.reason}" for b in machine.backends
               if b.name in ("nvidia", "amd", "intel", "apple") and b.reason]
    lost = [g for g in machine.gpus if g.lost]
    head = "No usable GPU found"
    if lost:
        head = f"{len(lost)} GPU(s) stopped responding (lost)"
    why = ("; ".join(reasons)) if reasons else "no GPU backend reported a device"
    return (f"{head} — {why}. Estimates below are for the CPU and RAM; use What if… to see how models "
            "would run on other hardware, and the hosted prices to compare.")


class Sparkline(QWidget):
    """VRAM and RAM use over the last minute; updates in place and stops sampling while hidden.

    The plot itself is built by ``enable_plot`` once the window has shown its first results (pyqtgraph is
    slow to import); samples taken before that are kept and drawn then.
    """

    def __init__(self, sampler: Callable[[Callable[[UsageSample], None]], None] | None,
                 interval_ms: int = 1000, parent: QWidget | None = None):
        super().__init__(parent)
        self._sampler = sampler
        self._ram: deque[float] = deque(maxlen=SPARK_POINTS)
        self._vram: deque[float] = deque(maxlen=SPARK_POINTS)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.plot = None
        self.ram_curve = self.vram_curve = None
        self.caption = plain_label("Memory in use, last minute")
        self._layout.addStretch(1)
        self._layout.addWidget(self.caption)
        self.setMinimumSize(160, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.sample_on_show = True
        """Take a sample as soon as shown; the main window turns this off and asks for the first sample once
        its table has painted (the first paint does not wait on it)."""
        self.setToolTip("RAM and VRAM in use on this machine, sampled once a second")

    def enable_plot(self) -> None:
        if self.plot is not None:
            return
        from rigcheck.desktop.widgets.plotting import pg as _pg

        pg = _pg()
        self.plot = pg.PlotWidget(background=None)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setYRange(0, 100, padding=0.02)
        self.plot.setXRange(-SPARK_POINTS + 1, 0, padding=0)
        self.plot.hideAxis("bottom")
        self.plot.getAxis("left").setWidth(28)
        self.plot.setLabel("left", "%")
        self.plot.setMaximumHeight(110)
        self.plot.addLegend(offset=(4, 2), labelTextSize="7pt")
        self.ram_curve = self.plot.plot([], [], pen=pg.mkPen("#0072B2", width=2), name="RAM")
        self.vram_curve = self.plot.plot([], [], pen=pg.mkPen("#E69F00", width=2), name="VRAM")
        self._layout.takeAt(0)  # the placeholder stretch
        self._layout.insertWidget(0, self.plot, 1)
        self._apply_palette()
        self._redraw()

    def _apply_palette(self) -> None:
        colour = self.palette().color(QPalette.ColorRole.WindowText)
        axis = self.plot.getAxis("left")
        axis.setPen(colour)
        axis.setTextPen(colour)

    def changeEvent(self, event) -> None:  # noqa: N802
        if self.plot is not None and event.type() in (QEvent.Type.PaletteChange,
                                                      QEvent.Type.ApplicationPaletteChange):
            self._apply_palette()
        super().changeEvent(event)

    def tick(self) -> None:
        if self._sampler is not None:
            self._sampler(self.add_sample)

    def add_sample(self, sample: UsageSample) -> None:
        if sample.ram_fraction is not None:
            self._ram.append(100 * sample.ram_fraction)
        if sample.vram_fraction is not None:
            self._vram.append(100 * sample.vram_fraction)
        self._redraw()
        parts = []
        if sample.ram_fraction is not None:
            parts.append(f"RAM {100 * sample.ram_fraction:.0f}%")
        if sample.vram_fraction is not None:
            parts.append(f"VRAM {100 * sample.vram_fraction:.0f}%")
        self.caption.setText(", ".join(parts) + " in use" if parts else "Memory in use: unknown")

    def _redraw(self) -> None:
        if self.plot is None:
            return
        # setData on the existing curves: no new items per tick (pyqtgraph's scrolling-plot pattern).
        self.ram_curve.setData(list(range(-len(self._ram) + 1, 1)), list(self._ram))
        self.vram_curve.setData(list(range(-len(self._vram) + 1, 1)), list(self._vram))

    @property
    def points(self) -> tuple[int, int]:
        return len(self._ram), len(self._vram)

    def set_sampler(self, sampler) -> None:
        self._sampler = sampler
        if sampler is None:
            self.timer.stop()
        elif self.isVisible():
            self.timer.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._sampler is not None:
            if self.sample_on_show:
                self.tick()
            self.timer.start()

    def hideEvent(self, event) -> None:  # noqa: N802
        # Nothing to draw while hidden: stop sampling (qutebrowser's clock widget does the same).
        self.timer.stop()
        super().hideEvent(event)


class MachinePanel(QWidget):
    """Shows one Machine. ``set_machine`` rebuilds the cards; the sparkline is kept across machines."""

    def __init__(self, sampler=None, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._cards = QWidget()
        self._cards_layout = QHBoxLayout(self._cards)
        self._cards_layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self._cards, 0)
        self.sparkline = Sparkline(sampler)
        self._layout.addWidget(self.sparkline, 1)
        self._live_sampler = sampler
        self.gpu_cards: list[GpuCard] = []
        self.host_card: HostCard | None = None
        self.no_gpu_label: QLabel | None = None
        self.machine: Machine | None = None
        self._specs: list | None = None

    def set_machine(self, machine: Machine, specs: list[Device | None] | None = None) -> None:
        specs = list(specs or [None] * len(machine.gpus))
        if machine is self.machine and specs == self._specs:
            return  # the same machine again (a catalog refresh): nothing to rebuild, relay out or repaint
        self.machine, self._specs = machine, specs
        while self._cards_layout.count():
            item = self._cards_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.gpu_cards = []
        self.no_gpu_label = None
        specs = specs or [None] * len(machine.gpus)
        spec_of = {id(g): s for g, s in zip(machine.gpus, specs, strict=False)}
        share = None
        if any(g.unified_memory for g in machine.usable_gpus):
            from rigcheck.desktop.models.picks import share_lines

            share = share_lines(machine)
        unified_bandwidth = None
        for group in group_gpus(machine.gpus):
            spec = spec_of.get(id(group[0]))
            card = GpuCard(group, spec, share=share if group[0].unified_memory else None)
            if group[0].unified_memory:
                unified_bandwidth = group[0].memory_bandwidth_bytes_per_s or (spec.bandwidth_bytes_per_s if spec else None)
            self.gpu_cards.append(card)
            self._cards_layout.addWidget(card)
        if not machine.usable_gpus:
            self.no_gpu_label = plain_label(no_gpu_text(machine), wrap=True)
            self.no_gpu_label.setMinimumWidth(260)
            self.no_gpu_label.setFrameShape(QFrame.Shape.StyledPanel)
            self.no_gpu_label.setMargin(6)
            self._cards_layout.addWidget(self.no_gpu_label, 2)
        self.host_card = HostCard(machine, unified_bandwidth=unified_bandwidth)
        self._cards_layout.addWidget(self.host_card)
        # Live usage only means something for the machine we are running on.
        live = machine.origin == "probed"
        self.sparkline.setVisible(live)
        self.sparkline.set_sampler(self._live_sampler if live else None)
