"""Click-through evaluation on real A/B tests: ``python -m titlegen.evaluate {click-model,uplift} --help``.

* ``click-model`` (T1): is the click model valid? Pairwise accuracy within tests (all pairs and significant
  ones), top-1 winner accuracy against chance, log-loss, calibration, MIND AUC, beside baselines.
* ``uplift`` (T2, T3): replayed uplift of picking arms with the model on held-out tests, and the generator's
  uplift (its best title by the click model against the human winner), with guardrails.

Every command writes ``metrics.json``, ``report.md`` and PNG plots into ``--out``.
"""
