"""``python -m crossmodal_match.evaluate {beats,...} --out DIR``: a registry of evaluation subcommands.

A new evaluation adds one ``_add_<name>`` function (its arguments) and one ``_run_<name>`` function (what it does)
to ``COMMANDS``; heavy imports stay inside the run functions so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Callable


def _add_beats(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("docs/crossmodal_match"),
                        help="folder for beats.json, beats.md and beats.png")
    parser.add_argument("--bpm-min", type=int, default=60, help="slowest tempo, bpm")
    parser.add_argument("--bpm-max", type=int, default=180, help="fastest tempo, bpm")
    parser.add_argument("--bpm-step", type=int, default=10, help="tempo step, bpm")
    parser.add_argument("--duration-s", type=float, default=20.0, help="length of each synthetic track, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--music-dir", default=None,
                        help="also analyse the recordings in this folder (e.g. ../shared/data/music) and list "
                             "their tempo, key and mood; they have no ground truth")


def _run_beats(args: argparse.Namespace, command: str) -> str:
    from crossmodal_match.evaluate.beats import BeatEvalConfig, BeatTrackingEvaluator, write_report

    config = BeatEvalConfig(bpms=tuple(float(b) for b in range(args.bpm_min, args.bpm_max + 1, args.bpm_step)),
                            duration_s=args.duration_s, seed=args.seed, music_dir=args.music_dir)
    metrics = BeatTrackingEvaluator(config)()
    write_report(metrics, out_dir=args.out, command=command)
    s = metrics["summary"]["all"]
    return (f"beat F {s['f_measure_mean']:.3f} (min {s['f_measure_min']:.3f}), tempo within 4% "
            f"{s['tempo_accuracy_4pct']:.0%} (octave-tolerant {s['tempo_accuracy_octave_4pct']:.0%}); "
            f"wrote {args.out}/beats.json, beats.md, beats.png")


def _add_feedback(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("docs/crossmodal_match"),
                        help="folder for feedback.json, feedback.md and feedback.png")
    parser.add_argument("--seeds", type=int, default=5, help="independent simulated worlds")
    parser.add_argument("--events", default="0,25,50,100,200,500,1000",
                        help="comma-separated numbers of events (shown lists with a kept track)")
    parser.add_argument("--catalogue-size", type=int, default=200, help="tracks in the synthetic catalogue")
    parser.add_argument("--choice-noise", type=float, default=0.03,
                        help="Gumbel scale of the simulated creators' choices, score units")


def _run_feedback(args: argparse.Namespace, command: str) -> str:
    from crossmodal_match.evaluate.feedback_sim import FeedbackSimConfig, FeedbackSimulator, write_report

    config = FeedbackSimConfig(seeds=args.seeds, event_counts=tuple(int(n) for n in args.events.split(",")),
                               catalogue_size=args.catalogue_size, choice_noise=args.choice_noise)
    metrics = FeedbackSimulator(config)()
    write_report(metrics, out_dir=args.out, command=command)
    pref, noise = metrics["curves"]["preference"], metrics["curves"]["noise"]
    return (f"R@{config.top_k}: zero-shot {metrics['baselines']['zero_shot']['mean']:.3f}, after "
            f"{pref[-1]['events']} preference events {pref[-1]['r_at_k']['mean']:.3f}, after {noise[-1]['events']} "
            f"noise events {noise[-1]['r_at_k']['mean']:.3f}; wrote {args.out}/feedback.json, feedback.md, "
            f"feedback.png")


def _add_retrieval_args(parser: argparse.ArgumentParser, *, name: str) -> None:
    parser.add_argument("--data", default="../shared/data", help="the shared data folder")
    parser.add_argument("--out", type=Path, default=Path("docs/crossmodal_match"),
                        help=f"folder for {name}.json, {name}.md and {name}.png")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for the 95%% intervals")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch CPU threads for MiniLM; 1 because two threads on two shared, busy cores were "
                             "measured up to 70x slower (spinning threads), 0 keeps torch's default")


def _set_threads(count: int) -> None:
    if count > 0:
        import torch

        torch.set_num_threads(count)


def _add_copy(parser: argparse.ArgumentParser) -> None:
    _add_retrieval_args(parser, name="copy")
    parser.add_argument("--max-videos", type=int, default=2000, help="videos (queries and candidate titles)")
    parser.add_argument("--brief-chars", type=int, default=200, help="the brief is this many first characters "
                                                                      "of the description")


def _run_copy(args: argparse.Namespace, command: str) -> str:
    from crossmodal_match.evaluate.copy_retrieval import CopyRetrievalConfig, CopyRetrievalEvaluator, report

    _set_threads(args.torch_threads)
    config = CopyRetrievalConfig(data_dir=args.data, max_videos=args.max_videos, brief_chars=args.brief_chars,
                                 n_boot=args.n_boot, seed=args.seed)
    metrics = CopyRetrievalEvaluator(config)()
    report(metrics, out_dir=args.out, command=command)
    s = metrics["systems"]
    return (f"R@10 over {s['matcher']['queries']} titles: matcher {s['matcher']['r_at_10']:.3f}, MiniLM "
            f"{s['minilm']['r_at_10']:.3f}, TF-IDF {s['tfidf']['r_at_10']:.3f}, random {s['random']['r_at_10']:.3f}; "
            f"wrote {args.out}/copy.json, copy.md, copy.png")


def _add_multilingual(parser: argparse.ArgumentParser) -> None:
    _add_retrieval_args(parser, name="copy_multilingual")
    parser.add_argument("--max-pairs", type=int, default=1000, help="pairs per Chinese pool (seeded sample)")
    parser.add_argument("--youtube-videos", type=int, default=2000, help="videos in the YouTube pool")
    parser.add_argument("--encoders", default="minilm,e5",
                        help="comma-separated: minilm, e5 (USE: bench/matcher_evals_with_use.py)")
    parser.add_argument("--cache-dir", default=None,
                        help="embedding cache folder (default: <cache root>/eval_embeddings; 'none' for no cache)")


def _run_multilingual(args: argparse.Namespace, command: str) -> str:
    import os

    from crossmodal_match.evaluate.multilingual_copy import (MultilingualCopyConfig, MultilingualCopyEvaluator,
                                                             report)

    _set_threads(args.torch_threads)
    cache = args.cache_dir or str(Path(os.environ.get("CREATOR_STUDIO_CACHE")
                                       or Path.home() / ".cache" / "creator-studio") / "eval_embeddings")
    config = MultilingualCopyConfig(data_dir=args.data, max_pairs=args.max_pairs, youtube_videos=args.youtube_videos,
                                    encoders=tuple(args.encoders.split(",")),
                                    cache_dir=None if cache == "none" else cache, n_boot=args.n_boot, seed=args.seed)
    metrics = MultilingualCopyEvaluator(config)()
    report(metrics, out_dir=args.out, command=command)
    chosen = metrics["chosen"]
    return ("chosen " + chosen["encoder"] + f" with lexical weight {chosen['weights'][chosen['encoder']]}; test R@10 "
            + ", ".join(f"{s} {t[chosen['encoder'] + '+lexical']['r_at_10']:.3f} (TF-IDF {t['tfidf']['r_at_10']:.3f})"
                        for s, t in metrics["test"].items())
            + f"; wrote {args.out}/copy_multilingual.json, .md, .png")


def _add_music(parser: argparse.ArgumentParser) -> None:
    _add_retrieval_args(parser, name="music")
    parser.add_argument("--smoothing", type=float, default=20.0,
                        help="pseudo-videos pulling each category's counts toward the whole training half")


def _run_music(args: argparse.Namespace, command: str) -> str:
    from crossmodal_match.evaluate.music_usage import MusicUsageConfig, MusicUsageEvaluator, report

    _set_threads(args.torch_threads)
    config = MusicUsageConfig(data_dir=args.data, smoothing=args.smoothing, n_boot=args.n_boot, seed=args.seed)
    metrics = MusicUsageEvaluator(config)()
    report(metrics, out_dir=args.out, command=command)
    s = metrics["systems"]
    return ("R@10: " + ", ".join(f"{k} {v['r_at_10']:.3f}" for k, v in s.items())
            + f"; wrote {args.out}/music.json, music.md, music.png")


def _add_music_mgsv(parser: argparse.ArgumentParser) -> None:
    _add_retrieval_args(parser, name="music_mgsv")
    parser.add_argument("--encoders", default="minilm,e5",
                        help="comma-separated text encoders: minilm (the old default), e5 "
                             "(USE: bench/matcher_evals_with_use.py)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds inside the development half")
    parser.add_argument("--cache-dir", default=None,
                        help="embedding cache folder (default: <cache root>/eval_embeddings; 'none' for no cache)")


def _run_music_mgsv(args: argparse.Namespace, command: str) -> str:
    import os

    from crossmodal_match.evaluate.multilingual_copy import build_encoder
    from crossmodal_match.evaluate.music_mgsv import MusicMgsvConfig, MusicMgsvEvaluator, report
    from crossmodal_match.multilingual import MultilingualEncoder

    _set_threads(args.torch_threads)
    cache = args.cache_dir or str(Path(os.environ.get("CREATOR_STUDIO_CACHE")
                                       or Path.home() / ".cache" / "creator-studio") / "eval_embeddings")
    cache_dir = None if cache == "none" else cache
    encoders = {k: (MultilingualEncoder(k, cache_dir=cache_dir) if k == "e5" else build_encoder(k))
                for k in args.encoders.split(",")}
    config = MusicMgsvConfig(data_dir=args.data, folds=args.folds, n_boot=args.n_boot, seed=args.seed)
    metrics = MusicMgsvEvaluator(config, encoders=encoders)()
    report(metrics, out_dir=args.out, command=command)
    return ("test R@10: " + ", ".join(f"{k} {v['r_at_10']:.4f}" for k, v in metrics["test"].items())
            + f" (chance {metrics['data']['chance']['r_at_10']:.4f}); wrote {args.out}/music_mgsv.json, .md, .png")


def _add_music_lexicon(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="../shared/data", help="the shared data folder (holding zh_music/)")
    parser.add_argument("--out", type=Path, default=Path("docs/crossmodal_match"),
                        help="folder for the build report mood_lexicon.md / .json")
    parser.add_argument("--lexicon", type=Path, default=None,
                        help="where to write the lexicon (default: the shipped crossmodal_match/data/mood_lexicon.json)")


def _run_music_lexicon(args: argparse.Namespace, command: str) -> str:
    from crossmodal_match.evaluate.music_lexicon import LEXICON_PATH, build, write

    lexicon, built = build(args.data)
    target = args.lexicon or LEXICON_PATH
    write(lexicon, built, lexicon_path=target, out_dir=args.out, command=command)
    loo = built["leave_one_out"]
    return (f"{len(lexicon['words'])} words, {len(lexicon['aliases'])} aliases; leave-one-out Pearson r "
            + ", ".join(f"{a} {m['pearson']:.2f}" for a, m in loo.items())
            + f"; wrote {target} and {args.out}/mood_lexicon.md")


# name -> (help, add arguments, run(args, command) -> one-line summary)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None],
                          Callable[[argparse.Namespace, str], str]]] = {
    "beats": ("beat F-measure, downbeats and tempo accuracy on synthetic clicks and drum loops", _add_beats,
              _run_beats),
    "feedback": ("R@10 of the learned fusion vs number of events, on simulated creators with a hidden "
                 "preference, with a pure-noise condition", _add_feedback, _run_feedback),
    "copy": ("copy retrieval on YouTube trending: each description (as the brief) ranks >= 1,000 titles; matcher "
             "vs MiniLM, TF-IDF and random", _add_copy, _run_copy),
    "multilingual": ("copy retrieval in Chinese and English (YouTube US/FR, Toutiao, LCSTS, Xiaohongshu): MiniLM, "
                     "USE, e5, lexical and their fusion, weights chosen on a development half",
                     _add_multilingual, _run_multilingual),
    "music": ("music co-usage on MGSV-EC: each video's category ranks the held-out half's tracks; co-usage, "
              "MiniLM and the matcher vs popularity and random", _add_music, _run_music),
    "music-mgsv": ("music for a video on MGSV-EC in both languages: each held-out video ranks the whole catalogue "
                   "from its category and length; text (MiniLM, USE, e5), learned priors and their fusion vs "
                   "popularity and chance, settings chosen on the development half", _add_music_mgsv,
                   _run_music_mgsv),
    "music-lexicon": ("build the mood lexicon (Chinese and English mood, scene and genre words -> valence, arousal, "
                      "energy) from the NetEase and Douyin tags", _add_music_lexicon, _run_music_lexicon),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crossmodal_match.evaluate",
                                     description="Evaluations of crossmodal_match; each writes JSON, a markdown "
                                                 "table and a PNG plot.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    command = "python -m crossmodal_match.evaluate " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    print(COMMANDS[args.command][2](args, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
