"""The builder of the embedded catalog (``build``); ``python -m rigcheck.catalog.sources.reference`` runs it."""
