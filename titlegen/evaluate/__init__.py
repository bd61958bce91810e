"""Title evaluations: ``python -m titlegen.evaluate {click-model,engagement-zh,clickbait-zh,uplift,titles,briefs}
--help``.

* ``click-model`` (T1): is the click model's English head valid? Pairwise accuracy within held-out Upworthy tests
  (all pairs and significant ones), top-1 winner accuracy against chance, log-loss, calibration, MIND AUC, beside
  baselines (the plain embedding + logistic floor on the multilingual encoder and on MiniLM).
* ``engagement-zh`` (Z1): the Chinese head on held-out Bilibili uploaders (relative engagement within a category
  and week), beside "shorter title wins", follower-count (the leak check) and embedding baselines.
* ``clickbait-zh``: the Chinese clickbait guardrail (HanCD) and the Chinese restraint patterns on held-out titles.
* ``uplift`` (T2, T3): replayed uplift of picking arms with the model on held-out tests, and the generator's
  uplift (its best title by the click model against the human winner), with guardrails.

* ``titles``: the generator against the human titles of the grouped validation pairs of each language (ROUGE,
  faithfulness, language match, within-limit), beside the lead baseline, the zero-shot base and the old default.
* ``briefs``: the top three titles for the creator briefs in ``docs/titlegen/creator_briefs.csv``, to read.

The click-through commands write ``metrics.json``, ``report.md`` and PNG plots into ``--out``.
"""
