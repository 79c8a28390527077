"""Calibration: published speed measurements, the estimator's error against them, and the fit of its constants.

``measurements`` reads speed.csv and ``llama-bench -o json`` into ``Measurement`` rows; ``matching``
finds each row's device, model, quant and machine in catalog terms; ``validation`` estimates every row on
the machine it names and reports the error per platform and the fit agreement; ``fitting`` re-derives
the efficiency constants of ``estimate/efficiency.py`` (and the bands) from the rows.
"""
