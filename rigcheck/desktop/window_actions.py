"""The main window's actions that open a dialog: catalog source, Add model, Export, What if, Model folders, Settings.

A mixin of ``MainWindow`` (which assembles and wires the window): each action asks its dialog, then tells the
controller or the settings store; none computes a figure.
"""

from __future__ import annotations

from pathlib import Path

from rigcheck.desktop import state
from rigcheck.desktop.controller import sentence

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

    def refresh_catalog(self) -> None:
        if not self.controller.refresh():
            self._say("A refresh is already running." if self.controller.refreshing
                      else "Catalog refresh is not part of this build.")

    def feed_dialog(self) -> None:
        """Set where Refresh catalog fetches from; remembered in rigcheck.ini."""
        from rigcheck.desktop.widgets.feed_dialog import FeedDialog

        c = self.controller
        dialog = FeedDialog(c.refresh_url, c.allow_unsigned, self)

        def accepted() -> None:
            c.refresh_url, c.allow_unsigned = dialog.url, dialog.allow_unsigned
            state.save_refresh_url(self.store, dialog.url, dialog.allow_unsigned)
            where = "Hugging Face and OpenRouter" if dialog.url is None else dialog.url
            unsigned = " (an unsigned feed is accepted from it)" if dialog.allow_unsigned else ""
            self._say(f"Refresh catalog will fetch {where}{unsigned}.")

        dialog.accepted.connect(accepted)
        dialog.open()
        self.feed_dialog_window = dialog

    def add_model_dialog(self) -> None:
        """Ask for a Hugging Face repo id or URL and add it (in the background, with progress and cancel)."""
        from PySide6.QtWidgets import QInputDialog, QLineEdit

        dialog = QInputDialog(self)
        dialog.setWindowTitle("Add model")
        dialog.setLabelText("Hugging Face model (ORG/REPO or its URL), with its quantized versions:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue("")

        def accepted() -> None:
            ref = dialog.textValue().strip()
            if not ref:
                return
            from rigcheck.catalog.sources.huggingface import InvalidRepoId, parse_model_ref

            try:
                parse_model_ref(ref)
            except InvalidRepoId as exc:
                self._say(sentence(str(exc)))
                return
            if not self.controller.add_model(ref):
                self._say("A refresh is already running." if self.controller.refreshing
                          else "Adding models is not part of this build.")

        dialog.accepted.connect(accepted)
        dialog.open()
        self.add_dialog_window = dialog

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
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(self, "Add a folder of models")
        if folder:
            self.controller.add_model_folder(folder)

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
