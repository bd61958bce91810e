"""Declarative templates, the beat-synced timeline, the renderer and ``make_draft`` (issue #5; not built yet).

``import templates`` must stay free of torch: it receives a title generator and a matcher as arguments.
"""
