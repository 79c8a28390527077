"""Model folders: the folders the installed-model scan looks in besides the tools' own, added and removed here.

They are kept in the config folder (``catalog.installed.settings``) and read by ``rigcheck installed`` too; the
tools' own folders (Ollama, LM Studio, the Hugging Face and llama.cpp caches) are always looked in and listed
for reference. Accepting saves the list and scans again.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rigcheck.desktop.widgets.machine_panel import plain_label

TOOLS_TEXT = ("Always looked in: Ollama's models, LM Studio's models, the Hugging Face cache and llama.cpp's cache "
              "(their usual places, or where OLLAMA_MODELS, HF_HUB_CACHE, HF_HOME and LLAMA_CACHE say). "
              "Your folders are searched four levels down for .gguf files and safetensors models.")


class FoldersDialog(QDialog):
    """Edits a list of folders; ``folders()`` after accepting. ``choose_folder`` (for tests) replaces the file
    dialog: a callable returning a path or "" for none."""

    def __init__(self, folders: list[str], parent: QWidget | None = None, choose_folder=None):
        super().__init__(parent)
        self.setWindowTitle("Model folders")
        self._choose = choose_folder or self._ask_folder
        self.list = QListWidget()
        self.list.addItems(folders)  # plain text items: a folder name is never markup
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.add_button = QPushButton("Add…")
        self.remove_button = QPushButton("Remove")
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        side = QVBoxLayout()
        side.addWidget(self.add_button)
        side.addWidget(self.remove_button)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(side)
        self.empty_note = plain_label("No folders of your own yet.", wrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label("Folders to look for installed models in:", bold=True))
        layout.addLayout(row)
        layout.addWidget(self.empty_note)
        layout.addWidget(plain_label(TOOLS_TEXT, wrap=True))
        layout.addWidget(buttons)
        self.resize(560, 320)
        self._update_buttons()

    def folders(self) -> list[str]:
        """The folders listed, in order."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Add a folder of models")

    def _add(self) -> None:
        folder = self._choose()
        if folder and folder not in self.folders():
            self.list.addItem(folder)
        self._update_buttons()

    def _remove(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.list.selectedItems()))
        self.empty_note.setVisible(self.list.count() == 0)
