"""Cross-modal matching: analyse footage and music, rank music, copy lines and templates, learn from creators.

Entry points (imported lazily, so ``import crossmodal_match`` stays light and never loads torch or librosa)::

    from crossmodal_match import MatcherConfig, create_matcher, analyze_footage, analyze_music
    matcher = create_matcher(MatcherConfig(music_dir="music/"))
    result = matcher.match(analyze_footage("clip.mp4"), "a lazy sunday picnic")

This package never imports ``titlegen`` or ``templates``; ``templates`` imports only its plain data types.
"""

from __future__ import annotations

from crossmodal_match.errors import (CatalogueError, ComposeError, ConfigError, FeedbackStoreError, InvalidMediaError,
                                     MatchError, ModelLoadError, NoAudioError, WhisperWeightsError)

_LAZY = {"MatcherConfig": "matcher", "Matcher": "matcher", "MatchResult": "matcher", "create_matcher": "matcher",
         "analyze_footage": "footage", "Footage": "footage", "analyze_music": "audio", "MusicAnalysis": "audio",
         "best_moment": "audio", "FeedbackStore": "feedback", "TemplateCard": "template_card",
         "Transcriber": "speech", "SpeechConfig": "speech", "transcribe": "speech", "Transcript": "transcript",
         "compose_track": "compose", "ComposedTrack": "compose", "list_styles": "compose"}

__all__ = ["CatalogueError", "ComposeError", "ConfigError", "FeedbackStoreError", "InvalidMediaError", "MatchError",
           "ModelLoadError", "NoAudioError", "WhisperWeightsError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"crossmodal_match.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'crossmodal_match' has no attribute {name!r}")
