"""Cross-modal matching of footage, music, copy and templates (issue #4; not built yet).

This package will analyse footage and music, encode them, and rank music, copy lines and templates for a piece
of footage and a brief. It never imports ``titlegen`` or ``templates``.
"""
