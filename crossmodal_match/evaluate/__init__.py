"""Evaluation entry points of ``crossmodal_match``: ``python -m crossmodal_match.evaluate <command> --out DIR``.

Commands (see ``--help``):
    beats: beat tracking, bars and tempo on synthetic click tracks and drum loops at 60-180 bpm
        (``crossmodal_match.evaluate.beats``).
    copy: copy retrieval on YouTube trending, description -> its own title among 2,000 (``copy_retrieval``).
    music: music co-usage on MGSV-EC, video category -> the track its creator used (``music_usage``).
    feedback: learning from simulated creators with a hidden preference, R@10 vs events (``feedback_sim``).

Each evaluator is a callable object returning a dict of metrics; the CLI writes it as JSON next to a markdown
table and a PNG plot, with the exact command that made them.
"""
