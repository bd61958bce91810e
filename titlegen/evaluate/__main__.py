"""``python -m titlegen.evaluate {click-model,uplift} --data ../shared/data --out DIR``."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m titlegen.evaluate",
                                     description="Click-through evaluation on real A/B tests (see the package "
                                                 "docstring). Writes metrics.json, report.md and PNG plots.")
    sub = parser.add_subparsers(dest="command", required=True)
    cm = sub.add_parser("click-model", help="T1: pairwise accuracy, top-1, log-loss, calibration, MIND AUC")
    cm.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    cm.add_argument("--out", type=Path, default=Path("docs/titlegen/click_model"))
    cm.add_argument("--save", type=Path, default=None, help="also save the fitted click model in this folder")
    up = sub.add_parser("uplift", help="T2 replay uplift and T3 generator uplift on held-out tests")
    up.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    up.add_argument("--out", type=Path, default=Path("docs/titlegen/uplift"))
    up.add_argument("--model", type=Path, default=None, help="click model folder (default: the shipped one)")
    up.add_argument("--tests", type=int, default=150, help="held-out tests used for T3 (generation is slow)")
    up.add_argument("--candidates", type=int, default=32, help="titles generated per test for T3")
    up.add_argument("--tuning-tests", type=int, default=200,
                    help="held-out tests outside the T3 sample on which T3 chooses its ranking weights")
    up.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    command = "python -m titlegen.evaluate " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))

    from titlegen.evaluate.prepare import prepare

    prep = prepare(args.data)
    if args.command == "click-model":
        from titlegen.evaluate.click_eval import run_click_model_eval

        run_click_model_eval(prep, args.out, save_dir=args.save, command=command)
    else:
        from titlegen.evaluate.uplift_eval import run_uplift_eval

        run_uplift_eval(prep, args.out, data_root=args.data, model_dir=args.model, n_tests=args.tests,
                        n_candidates=args.candidates, seed=args.seed, command=command,
                        tuning_tests=args.tuning_tests)
    print(f"wrote {args.out}/metrics.json and report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
