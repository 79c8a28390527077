"""The main window's actions that open a dialog: Export, What if, Model folders, Settings (the catalog's are
``catalog_actions``).

A mixin of ``MainWindow`` (which assembles and wires the window): each action asks its dialog, then tells the
controller or the settings store; none computes a figure.
"""

from __future__ import annotations

from pathlib import Path

from rigcheck.desktop import state

EXPORT_FORMATS = (
    ("pdf", "PDF report (*.pdf)"),
    ("html", "HTML report (*.html)"),
    ("md", "Markdown (*.md)"),
    ("json", "JSON (*.json)"),
    ("csv", "CSV table (*.csv)"),
)


class WindowActions:
    """What the window's toolbar and menus open. Uses the window's ``controller``, ``store``, ``services``,
    ``settings_bar``, ``models_page`` and ``_say``."""

    def export_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # first use only: its Python enums cost ~10 ms to set up

        start = str(Path(self.store.value("export/dir", str(Path.cwd())) or "") / "rigcheck-report.pdf")
        filters = ";;".join(f for _, f in EXPORT_FORMATS)
        path, chosen = QFileDialog.getSaveFileName(self, "Export report", start, filters)
        if not path:
            return
        fmt_name = next((k for k, f in EXPORT_FORMATS if f == chosen), None)
        suffix = Path(path).suffix.lower().lstrip(".")
        if suffix in {k for k, _ in EXPORT_FORMATS}:
            fmt_name = suffix  # the extension typed wins over the filter left selected
        elif fmt_name:
            path = f"{path}.{fmt_name}"
        self.store.setValue("export/dir", str(Path(path).parent))
        self.export_to(fmt_name or "pdf", path)

    def export_to(self, fmt_name: str, path: str) -> bool:
        selected = self.models_page.selected_model_id()
        ok = self.controller.export(fmt_name, path, (selected,) if selected else ())
        if not ok:
            self._say("Nothing to export yet." if self.services.export_report else
                      "Report export is not part of this build.")
        return ok

    def what_if(self) -> None:
        from rigcheck.desktop.widgets.hardware_dialog import HardwareDialog

        if self.controller.catalog is None:
            self._say("The catalog is still loading; What if… needs its device table.")
            return
        dialog = HardwareDialog(self.services, self.controller.catalog, self)
        dialog.accepted.connect(lambda: dialog.machine and self.controller.show_machine(dialog.machine))
        dialog.open()
        self.hardware_dialog = dialog

    def model_folder_dialog(self) -> None:
        """The folders the installed-model scan looks in besides the tools' own: add, remove; accepting saves and
        scans again."""
        from rigcheck.desktop.widgets.folders_dialog import FoldersDialog

        dialog = FoldersDialog(self.controller.model_folders(), self)
        dialog.accepted.connect(lambda: self.controller.set_model_folders(dialog.folders()))
        dialog.open()
        self.folders_window = dialog

    def settings_dialog(self) -> None:
        """Usable thresholds and the hosted blend (the rules' settings); accepting re-evaluates."""
        from rigcheck.desktop.widgets.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.controller.settings, self)

        def accepted() -> None:
            settings = dialog.result_settings()
            self.settings_bar.set_base(settings)
            state.save_estimator_settings(self.store, settings)
            self._settings_changed(settings)

        dialog.accepted.connect(accepted)
        dialog.open()
        self.settings_window = dialog
