"""SPAR-Bench: building the benchmark, running models on it, scoring and reporting.

Sub-packages: ``eval`` (run a model over the benchmark), ``scoring`` (the published metrics,
``compat`` and ``strict``), ``report`` (tables, confidence intervals and the paper's rows).
"""
