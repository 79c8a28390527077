"""The pages of the main window: the model list and the model detail pane."""
