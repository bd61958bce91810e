"""Start the studio: ``.venv/bin/python app/launch.py`` (the last step of the README's main command).

Makes the demo media (three synthetic clips, a photo and two drum tracks: ``templates.demo``, offline, a second or
two) under ``demo/media``, then replaces itself with ``streamlit run app/studio.py`` from the repository root (so
``.streamlit/config.toml`` applies), bound to 127.0.0.1, headless (no attempt to open a browser). The studio is
told where the demo media is (``CREATOR_STUDIO_DEMO_MEDIA``), so a new session opens on the Create page with the
demo footage and the demo brief filled in: one click on "Make my draft" gives a draft. ``--no-demo`` starts with an
empty Create page (the demo stays one button away). Arguments after ``--`` go to ``streamlit run``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_ENV = "CREATOR_STUDIO_DEMO_MEDIA"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python app/launch.py", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("STREAMLIT_SERVER_PORT") or 8501),
                        help="port to serve on (default: $STREAMLIT_SERVER_PORT or 8501)")
    parser.add_argument("--address", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 exposes it)")
    parser.add_argument("--demo-dir", type=Path, default=ROOT / "demo",
                        help="where the demo media goes (its media/ subfolder; default: demo/ in the repository)")
    parser.add_argument("--no-demo", action="store_true", help="do not fill in the demo footage and brief")
    parser.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="after --: more `streamlit run` options")
    return parser


def streamlit_command(args: argparse.Namespace) -> list[str]:
    extra = [a for a in args.streamlit_args if a != "--"]
    return [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "studio.py"),
            "--server.address", args.address, "--server.port", str(args.port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", *extra]


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    env = dict(os.environ)
    if not args.no_demo:
        sys.path.insert(1, str(ROOT))  # as `python -m` from the root would: works before `pip install -e .` too
        from templates.demo import make_demo_media

        media = make_demo_media(args.demo_dir / "media")
        print(f"demo media: {len(media['clips'])} clips, {len(media['photos'])} photo(s); the music is composed "
              "for each draft", file=sys.stderr)
        env[DEMO_ENV] = json.dumps(media)
    print(f"Creator studio: http://{args.address}:{args.port} (Ctrl+C stops it)", file=sys.stderr, flush=True)
    os.chdir(ROOT)
    cmd = streamlit_command(args)
    os.execve(cmd[0], cmd, env)


if __name__ == "__main__":
    main()
