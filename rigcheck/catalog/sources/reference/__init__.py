"""The builder of the embedded catalog from the sourced reference CSVs and rigcheck's own supplement files.

    python -m rigcheck.catalog.sources.reference [--reference DIR] [--output FILE] [--generated-at ISO]

Inputs: ``/work/shared/reference/*.csv`` (or ``--reference``/``RIGCHECK_REFERENCE_DIR``): models, devices,
scores, hosted prices, GPU rentals, each row with its ``source``; and ``rigcheck/catalog/data/supplement/*.csv``:
facts the reference lacks (GLM-5.2, real quant file sizes, essay scores, device tensor rates and prices in
device_overrides.csv, providers' data-handling policies in provider_policies.csv), each row with its source too.
Output: ``rigcheck/catalog/data/catalog.json`` (committed; the wheel ships it).

Nothing here is invented. A value with no source stays empty. Values rigcheck derives (full-attention layer
counts from a pattern sentence, use cases from names, quant sizes from parameters x bits per weight, Apple
variants split by GPU-core count) are computed by the rules in these modules and say so in the record's sources.

One module per table: ``models`` (models.csv, model_overrides.csv, variants.csv), ``quants`` (which quants
exist, quant_files.csv), ``devices`` (devices.csv, device_overrides.csv), ``hosted_prices`` (hosted_prices.csv,
provider_policies.csv), ``scores``, ``gpu_rental``, ``closed_models``; ``cells`` is what they share (reading a
CSV, typed cells, ``BuildError``); ``build`` assembles the catalog, writes it and holds the command line.

This package's own namespace is empty: nothing at run time imports the builder, and importing a table module
loads only what that table needs.
"""
