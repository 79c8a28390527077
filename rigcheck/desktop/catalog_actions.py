"""The main window's Catalog menu and what it starts: refresh (counts, an ETA, Cancel), add and remove a model,
the catalog source, and the list of what the last refresh skipped or noted.

A mixin of ``MainWindow`` (which supplies ``controller``, ``services``, ``store``, the status-bar widgets and
``_say``); the work itself runs on the controller's worker, never on the GUI thread.
"""

from __future__ import annotations

import time

from PySide6.QtGui import QAction, QKeySequence

from rigcheck import units
from rigcheck.desktop import state
from rigcheck.desktop.controller import sentence
from rigcheck.desktop.models import format as fmt

BUSY_TEXT = "Refreshing catalog…"


class CatalogActions:
    """Mixed into ``MainWindow``."""

    def _make_catalog_actions(self) -> None:
        self.act_refresh = QAction("Refresh catalog", self, shortcut=QKeySequence("Ctrl+R"))
        self.act_refresh.setToolTip("Ask Hugging Face and OpenRouter for new models, quants and prices (or the "
                                    "feed set in Catalog source…) (Ctrl+R)")
        self.act_cancel_refresh = QAction("Cancel refresh", self)
        self.act_cancel_refresh.setToolTip("Stop the refresh; the catalog in use stays as it is")
        self.act_cancel_refresh.setEnabled(False)
        self.act_add = QAction("Add model…", self, shortcut=QKeySequence("Ctrl+Shift+A"))
        self.act_add.setToolTip("Add a Hugging Face model by its id or URL, with its quantized versions (Ctrl+Shift+A)")
        self.act_remove = QAction("Remove model…", self, shortcut=QKeySequence("Ctrl+Shift+X"))
        self.act_remove.setToolTip("Take a model you added out of the catalog (Ctrl+Shift+X)")
        self.act_feed = QAction("Catalog source…", self, shortcut=QKeySequence("Ctrl+Shift+U"))
        self.act_feed.setToolTip("Where Refresh catalog fetches from: Hugging Face and OpenRouter, or a signed feed")
        self.act_refresh_details = QAction("Last refresh details…", self)
        self.act_refresh_details.setToolTip("What the last refresh skipped or noted, one repo a line")
        self.act_refresh_details.setEnabled(False)
        self._refresh_started_s = 0.0
        self._refresh_notes: tuple[str, list[str]] | None = None
        self._can_refresh(True)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_export)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        machine_menu = bar.addMenu("&Machine")
        machine_menu.addAction(self.act_whatif)
        machine_menu.addAction(self.act_back)
        machine_menu.addSeparator()
        machine_menu.addAction(self.act_folders)
        catalog_menu = bar.addMenu("&Catalog")
        for act in (self.act_refresh, self.act_cancel_refresh, None, self.act_add, self.act_remove, None,
                    self.act_feed, self.act_refresh_details):
            if act is None:
                catalog_menu.addSeparator()
            else:
                catalog_menu.addAction(act)
        self.catalog_menu = catalog_menu

    def _connect_catalog_actions(self) -> None:
        c = self.controller
        c.refresh_progress.connect(self._show_progress)
        c.refresh_done.connect(self._refresh_finished)
        self.act_refresh.triggered.connect(self.refresh_catalog)
        self.act_cancel_refresh.triggered.connect(c.cancel_refresh)
        self.act_feed.triggered.connect(self.feed_dialog)
        self.act_add.triggered.connect(self.add_model_dialog)
        self.act_remove.triggered.connect(self.remove_model_dialog)
        self.act_refresh_details.triggered.connect(self.show_refresh_details)
        self.cancel_button.clicked.connect(c.cancel_refresh)

    def _can_refresh(self, idle: bool) -> None:
        s = self.services
        self.act_refresh.setEnabled(idle and s.refresh_catalog is not None)
        if s.refresh_catalog is None:
            self.act_refresh.setToolTip("Catalog refresh is not part of this build")
        self.act_add.setEnabled(idle and s.add_model is not None)
        self.act_remove.setEnabled(idle and s.remove_model is not None)
        self.act_cancel_refresh.setEnabled(not idle)

    # progress ----------------------------------------------------------------------------------------
    def _show_refresh_busy(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self._can_refresh(not running)
        if running:
            self._refresh_started_s = time.monotonic()
            self.progress.setRange(0, 0)
            self.progress.setFormat("")

    def _show_progress(self, done, total, what: str = "") -> None:
        if not total:
            self.progress.setRange(0, 0)
            return
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(1000 * min(1.0, (done or 0) / total)))
        if not what:  # a feed: bytes read of its size
            self.progress.setFormat(f"{units.bytes_text(done)} / {units.bytes_text(total)}")
            return
        # a refresh from the sources: models done of total, the pace so far, and the one that just finished
        eta = units.eta_text(time.monotonic() - self._refresh_started_s, done, total)
        self.progress.setFormat(f"{done} / {total} models")
        self.busy_label.setText(f"{BUSY_TEXT} {eta}" if eta else BUSY_TEXT)
        self.progress.setToolTip(fmt.tooltip(f"{done} of {total} models checked; last: {what}"))

    def _refresh_finished(self, message: str, notes: list | tuple = ()) -> None:
        self._say(message)
        if notes:
            summary = message.rsplit(" (", 1)[0] if message.endswith("lists them.)") else message
            self._refresh_notes = (summary, list(notes))
            self.act_refresh_details.setEnabled(True)
            self.details_button.setVisible(True)
            self._details_are_notes = True

    def show_refresh_details(self) -> None:
        """What the last refresh skipped or noted, in a plain-text window."""
        from rigcheck.desktop.widgets.notes_dialog import NotesDialog

        if self._refresh_notes is None:
            return
        message, notes = self._refresh_notes
        dialog = NotesDialog(message, notes, self)
        dialog.open()
        self.notes_dialog_window = dialog

    # actions -----------------------------------------------------------------------------------------
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

    def remove_model_dialog(self) -> None:
        """Pick one of the models added with Add model… and take it out (in the background)."""
        from PySide6.QtWidgets import QInputDialog

        added = list(self.services.added_models()) if self.services.added_models is not None else []
        if not added:
            self._say("No model was added with Add model…; the built-in models cannot be removed.")
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Remove model")
        dialog.setLabelText("Take this added model out of the catalog (Add model… brings it back):")
        dialog.setComboBoxItems(added)
        dialog.setComboBoxEditable(False)

        def accepted() -> None:
            if not self.controller.remove_model(dialog.textValue()):
                self._say("A refresh is already running." if self.controller.refreshing
                          else "Removing models is not part of this build.")

        dialog.accepted.connect(accepted)
        dialog.open()
        self.remove_dialog_window = dialog
