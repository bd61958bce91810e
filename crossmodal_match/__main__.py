"""``python -m crossmodal_match {retrain,...}``: a registry of subcommands (``--help`` on each).

A new subcommand adds one ``_add_<name>`` function (its arguments) and one ``_run_<name>`` function (what it
does, returning a one-line summary) to ``COMMANDS``; heavy imports stay inside the run functions so ``--help``
is instant. A ``MatchError`` becomes ``error: ...`` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from crossmodal_match.errors import FeedbackStoreError, MatchError


def _add_retrain(parser: argparse.ArgumentParser) -> None:
    from crossmodal_match.feedback import KINDS, default_data_dir, default_store_path

    parser.add_argument("--store", type=Path, default=None,
                        help=f"feedback store written by the studio (default: {default_store_path()})")
    parser.add_argument("--models", type=Path, default=None,
                        help=f"fusion models folder (default: {default_data_dir() / 'fusion'})")
    parser.add_argument("--rollback", action="store_true",
                        help="point current.json back at the previous version instead of training")
    parser.add_argument("--kind", choices=KINDS, default=None, help="train on lists of this kind only "
                        "(default: all kinds)")
    parser.add_argument("--holdout", type=float, default=0.2, help="share of sessions held out for the gate")
    parser.add_argument("--l2", type=float, default=None, help="pull toward the current weights "
                        "(default: crossmodal_match.fusion.DEFAULT_L2)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the held-out session split")


def _run_retrain(args: argparse.Namespace) -> str:
    from crossmodal_match import fusion
    from crossmodal_match.feedback import FeedbackStore, default_data_dir, default_store_path

    models = args.models or default_data_dir() / "fusion"
    if args.rollback:
        if not args.kind:
            raise MatchError("--rollback needs --kind (music, copy or template): each kind has its own models")
        model = fusion.rollback(models / args.kind)
        return f"rolled back {models / args.kind}: current is now v{model.version:04d}"
    store_path = args.store or default_store_path()
    if not store_path.is_file():
        raise FeedbackStoreError(f"no feedback store at {store_path}; pass --store with the studio's file")
    store = FeedbackStore(store_path)
    # One model per kind (music, copy, template), in <models>/<kind>: what makes a track fit is not what makes a
    # caption fit, and the matcher loads them so.
    kinds = [args.kind] if args.kind else sorted(set(store.events()["kind"]))
    if not kinds:
        return f"retrain: no events in {store_path} yet; nothing to learn"
    return "\n".join(_retrain_kind(store, store_path, models / kind, kind, args) for kind in kinds)


def _retrain_kind(store, store_path: Path, models: Path, kind: str, args: argparse.Namespace) -> str:
    import dataclasses

    from crossmodal_match import fusion

    prior = fusion.load_current(models)
    fit = fusion.train_fusion(store.events(kind=kind), prior=prior, co_usage=store.co_usage(),
                              holdout=args.holdout, seed=args.seed,
                              l2=fusion.DEFAULT_L2 if args.l2 is None else args.l2)
    if not fit.accepted:
        return f"retrain {kind}: {fit.summary()}; current stays v{prior.version:04d}"
    model = dataclasses.replace(fit.model, trained_on={**fit.model.trained_on, "store": str(store_path),
                                                       "kind": kind})
    saved = fusion.save_model(model, models_dir=models)
    return f"retrain {kind}: {fit.summary()}; saved {fusion.model_path(models, saved.version)} as current"


def _add_match(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--footage", nargs="*", default=[], help="video clips and/or photos of one draft")
    parser.add_argument("--brief", default="", help="the one-line description of the post")
    parser.add_argument("--music", default=None, help="folder of audio files (with optional tracks.csv sidecar)")
    parser.add_argument("--copy", default=None, help="copy library, CSV or JSONL with a text column "
                        "(default: the bundled example lines)")
    parser.add_argument("--cache", default=None, help="music-analysis cache folder")
    parser.add_argument("--models", default=None, help="fusion models folder written by retrain")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")


def _run_match(args: argparse.Namespace) -> str:
    import json

    from crossmodal_match.footage import analyze_footage
    from crossmodal_match.matcher import KINDS, MatcherConfig, create_matcher

    config = MatcherConfig(music_dir=args.music, copy_file=args.copy, cache_dir=args.cache,
                           models_dir=args.models, top_k=args.top_k)
    footage = [analyze_footage(p) for p in args.footage] or None
    matcher = create_matcher(config)
    result = matcher.match(footage, args.brief)
    if args.json:
        return json.dumps(result.to_dict(), ensure_ascii=False, indent=2)
    lines = [f"note: {n}" for n in result.notes] + [f"skipped {p}: {why}" for p, why in matcher.skipped]
    for kind in KINDS:
        lines.append(f"{kind}:")
        for c in result.ranked(kind):
            moment = f" [{c.moment_s[0]:.1f}-{c.moment_s[1]:.1f} s]" if c.moment_s else ""
            lines.append(f"  {c.rank}. {c.title}{moment}  score {c.score:.3f}: {c.reason}")
    return "\n".join(lines)


def _add_transcribe(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="footage (mp4, mov, webm ...) or a voice file (wav, m4a, mp3 ...)")
    parser.add_argument("--language", default=None, help="ISO 639-1 code of the speech (zh, en ...); "
                        "default: detected")
    parser.add_argument("--out", type=Path, default=None, help="write the transcript as JSON here "
                        "(default: print it)")
    parser.add_argument("--cache", type=Path, default=None, help="transcript cache folder (default: none)")
    parser.add_argument("--model-dir", default=None, help="a faster-whisper model folder (default: the embedded "
                        "Whisper base)")
    parser.add_argument("--beam-size", type=int, default=5, help="decoding beams (1 = greedy, faster)")


def _run_transcribe(args: argparse.Namespace) -> str:
    import json

    from crossmodal_match.audio_decode import write_json_atomic
    from crossmodal_match.speech import SpeechConfig, Transcriber

    transcriber = Transcriber(SpeechConfig(model_dir=args.model_dir, beam_size=args.beam_size),
                              cache_dir=args.cache)
    transcript = transcriber.transcribe(args.file, language=args.language)
    if args.out is None:
        return json.dumps(transcript.to_dict(), ensure_ascii=False, indent=2)
    try:
        write_json_atomic(args.out, transcript.to_dict())
    except OSError as exc:
        raise MatchError(f"cannot write {args.out}: {exc}") from exc
    said = f"{len(transcript.words)} words in {transcript.language}" if transcript.has_speech else transcript.notes[0]
    return f"transcribed {args.file} ({transcript.duration_s:.1f} s): {said}; wrote {args.out}"


def _add_compose(parser: argparse.ArgumentParser) -> None:
    from crossmodal_match.compose import list_styles

    parser.add_argument("--length-s", type=float, required=True, help="length of the track, seconds (2-600)")
    parser.add_argument("--bpm", type=float, required=True, help="tempo, beats per minute (50-200, 4/4 time)")
    parser.add_argument("--style", default="lo-fi", help=f"style preset: {', '.join(list_styles())} "
                        "(default: lo-fi)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same settings and seed give the same "
                        "track (default: 0)")
    parser.add_argument("--valence", type=float, default=0.6, help="mood valence 0-1: sad/dark to happy/bright; "
                        "major at 0.5 and above (default: 0.6)")
    parser.add_argument("--arousal", type=float, default=0.5, help="mood arousal 0-1: calm to energetic "
                        "(default: 0.5)")
    parser.add_argument("--sr", type=int, default=44100, help="sample rate, Hz (default: 44100)")
    parser.add_argument("--out", type=Path, required=True, help="the .wav file to write (16-bit stereo)")


def _run_compose(args: argparse.Namespace) -> str:
    import json

    from crossmodal_match.audio_decode import write_json_atomic
    from crossmodal_match.compose import compose_track
    from crossmodal_match.errors import ComposeError

    if args.out.suffix.lower() != ".wav":
        raise ComposeError("--out", str(args.out), "a path ending in .wav")
    track = compose_track(length_s=args.length_s, bpm=args.bpm, style=args.style, seed=args.seed,
                          valence=args.valence, arousal=args.arousal, sr=args.sr)
    track.write_wav(args.out)
    meta = track.meta()
    sidecar = args.out.with_name(args.out.name + ".json")
    write_json_atomic(sidecar, {**meta, "beats_s": list(track.beats_s), "downbeats_s": list(track.downbeats_s)})
    return (f"composed {args.out} ({meta['length_s']:.2f} s, {meta['bars']} bars at {meta['bpm']:.2f} bpm, "
            f"{meta['style']}, {meta['key']}, {meta['loudness_lufs']:.1f} LUFS, true peak "
            f"{meta['true_peak_db']:.1f} dBTP); beat grid in {sidecar.name}: " + json.dumps(meta["sections"]))


# name -> (help, add arguments, run(args) -> one-line summary)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], str]]] = {
    "retrain": ("refit the fusion weights on the feedback store, behind a held-out gate; or --rollback",
                _add_retrain, _run_retrain),
    "match": ("rank music, copy lines and templates for footage and a brief, with reasons", _add_match,
              _run_match),
    "transcribe": ("transcribe a clip's speech (offline Whisper) with word times, as JSON", _add_transcribe,
                   _run_transcribe),
    "compose": ("compose a soundtrack offline (length, tempo, style, mood, seed) as a WAV with its beat grid",
                _add_compose, _run_compose),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m crossmodal_match",
                                     description="Footage/music matching: rank candidates, retrain from feedback.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        print(COMMANDS[args.command][2](args))
    except MatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
