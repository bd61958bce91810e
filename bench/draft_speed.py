"""Draft speed (issue #5): ``python bench/draft_speed.py [--keep DIR] [--no-rss] [--preview-runs N]`` prints JSON.

The issue's draft: 20 s, 720x1280, cut from 4 clips, with music and a title, built with the real library
(``analyze_footage``, ``analyze_music``, ``templates.build_timeline`` with the ``beat-cut-showcase`` template at
720x1280) and rendered with ``templates.render.render``. Reported:

- ``analysis``: wall time of analysing the 4 clips and the track (not part of the render times);
- ``full``: ``render(..., preview=False)`` wall time and realtime factor (timeline s / wall s);
- ``ffmpeg``: one direct ffmpeg command doing the same cuts (input-seeked ``-ss/-t`` per timeline clip, crop +
  scale to 720x1280, the grade approximated with ``eq``, ``concat`` filter), the same music window with
  ``afade`` in/out, the title and caption as ``drawtext`` (static: no pop/fade animation) and the same encoder
  settings as ``templates.encoder.encoder_command`` (libx264 veryfast CRF 20, yuv420p, BT.709 matrix and tags,
  AAC 160k stereo, +faststart); ``ratio`` = ours / ffmpeg;
- ``preview``: ``render(..., preview=True)`` wall time (preview latency; target <= 5 s), the median of
  ``--preview-runs`` runs (each listed in ``runs_s``);
- ``rss``: for a 30 s and a 600 s 720x1280 clip, two fresh child processes each: ``analyze`` (analyze_footage of
  the long clip + the music) and ``render`` (build a 20 s draft from that analysis and render it full size,
  preview=False); each child reports its own peak RSS (``ru_maxrss`` of itself) and that of its children (the
  ffmpeg encoder / decoders it waited for).

Inputs are generated with the ffmpeg binary of ``imageio-ffmpeg`` (every call with a timeout); the 600 s clip is the
30 s clip stream-looped with ``-c copy`` (real 600 s of H.264 to decode, generated in seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

W, H, FPS = 720, 1280, 30
DRAFT_S = 20.0
TITLE, COPY = "Summer drop", "New colours, same fit."
TEMPLATE = "beat-cut-showcase"


def ffmpeg(args: list[str], *, timeout_s: float = 300.0) -> None:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    out = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{out.stderr.decode(errors='replace')[-2000:]}")


def make_music(path: Path, *, duration_s: float = 40.0, bpm: float = 120.0, rate: int = 44100) -> Path:
    """A 120 bpm drum pattern: kick on every beat (accented on the downbeat), snare on 2 and 4, hats on 8ths,
    over a quiet chord."""
    import numpy as np
    import soundfile as sf

    n = int(duration_s * rate)
    t = np.arange(n) / rate
    y = 0.05 * sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63))
    rng = np.random.default_rng(0)
    beat = 60.0 / bpm
    k_t = np.arange(int(0.25 * rate)) / rate
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-k_t * 30)) * k_t) * np.exp(-k_t * 12)
    snare = rng.standard_normal(int(0.15 * rate)) * np.exp(-np.arange(int(0.15 * rate)) / rate * 25)
    hat = rng.standard_normal(int(0.04 * rate)) * np.exp(-np.arange(int(0.04 * rate)) / rate * 90)

    def hit(at_s: float, sound, gain: float) -> None:
        i = int(at_s * rate)
        j = min(n, i + len(sound))
        if i < n:
            y[i:j] += gain * sound[: j - i]

    for b in range(int(duration_s / beat)):
        at = b * beat
        hit(at, kick, 0.9 if b % 4 == 0 else 0.6)
        if b % 4 in (1, 3):
            hit(at, snare, 0.35)
        hit(at, hat, 0.15)
        hit(at + beat / 2, hat, 0.1)
    y = np.clip(y, -1, 1).astype(np.float32)
    sf.write(str(path), np.stack([y, y], axis=1), rate)
    return path


CLIP_SOURCES = [
    f"testsrc2=s={W}x{H}:r={FPS}",
    f"mandelbrot=s=360x640:r={FPS},scale={W}:{H}",  # mandelbrot at full size is very slow to generate
    f"color=c=orange:s={W}x{H}:r={FPS},noise=alls=25:allf=t+u,hue=H=t*0.8",
    f"smptehdbars=s={W}x{H}:r={FPS},hue=H=t*0.5:s=1.3",
]


def make_inputs(folder: Path, *, rss: bool) -> dict:
    t0 = time.perf_counter()
    clips = []
    for i, src in enumerate(CLIP_SOURCES):
        p = folder / f"clip{i}.mp4"
        ffmpeg(["-f", "lavfi", "-i", f"{src},format=yuv420p", "-t", "8", "-c:v", "libx264", "-preset", "veryfast",
                "-crf", "23", "-pix_fmt", "yuv420p", p])
        clips.append(p)
    music = make_music(folder / "music.wav")
    out = {"clips": clips, "music": music}
    if rss:
        long30 = folder / "long_30s.mp4"
        ffmpeg(["-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r={FPS}:d=30,format=yuv420p", "-c:v", "libx264",
                "-preset", "ultrafast", "-b:v", "1500k", "-g", "60", "-pix_fmt", "yuv420p", long30])
        long600 = folder / "long_600s.mp4"
        ffmpeg(["-stream_loop", "19", "-i", long30, "-c", "copy", "-t", "600", long600])
        out.update(long30=long30, long600=long600)
    out["gen_s"] = round(time.perf_counter() - t0, 2)
    return out


def spec_720():
    from templates import get_template

    spec = get_template(TEMPLATE)
    return replace(spec, resolution=(W, H)), spec.resolution


def build(footage, music_analysis, music_path: Path):
    from templates import build_timeline

    spec, _ = spec_720()
    tl = build_timeline(spec, footage, music_analysis, TITLE, COPY, music_path=str(music_path), draft_s=DRAFT_S)
    if (tl.width, tl.height) != (W, H):
        tl = replace(tl, width=W, height=H)
    return tl


def _esc(value: str) -> str:
    """Escape a value for a filtergraph option in single quotes."""
    return value.replace("\\", "\\\\").replace("'", r"'\''").replace(":", r"\:")


def ffmpeg_equivalent(tl, out: Path, folder: Path) -> tuple[list[str], dict]:
    """One ffmpeg command that does the same cuts, music window, text and encoding as ``render(tl)``."""
    import imageio_ffmpeg

    from templates.encoder import full_settings
    from templates.fonts import font_path

    st = full_settings(tl)
    args: list[str] = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    chains, labels, notes = [], [], []
    for i, c in enumerate(tl.clips):
        dur = c.src_end_s - c.src_start_s
        args += ["-ss", f"{c.src_start_s:.6f}", "-t", f"{dur:.6f}", "-i", c.source]
        x, y, w, h = c.crop
        g = c.grade
        chain = (f"[{i}:v]crop=iw*{w:.6f}:ih*{h:.6f}:iw*{x:.6f}:ih*{y:.6f},scale={W}:{H}:flags=bilinear,setsar=1,"
                 f"fps={tl.fps},trim=duration={dur:.6f},setpts=PTS-STARTPTS")
        if (g.brightness, g.contrast, g.saturation) != (0.0, 1.0, 1.0):
            chain += f",eq=brightness={g.brightness}:contrast={g.contrast}:saturation={g.saturation}"
        if c.transition_in != "cut":
            notes.append(f"clip {i}: transition {c.transition_in} rendered as a cut")
        chains.append(chain + f"[v{i}]")
        labels.append(f"[v{i}]")
    n = len(tl.clips)
    graph = ";".join(chains) + ";" + "".join(labels) + f"concat=n={n}:v=1:a=0[vc]"
    font = str(font_path("noto-sans-cjk"))
    vlast = "vc"
    for j, o in enumerate(tl.overlays):
        if not o.text.strip():
            continue
        tf = folder / f"overlay{j}.txt"
        tf.write_text(o.text, encoding="utf-8")
        bx, by, bw, bh = o.box
        size = max(1, round(o.style.size * H))
        border = round(o.style.stroke * H)
        graph += (f";[{vlast}]drawtext=fontfile='{_esc(font)}':textfile='{_esc(str(tf))}':fontsize={size}"
                  f":fontcolor={o.style.colour}:borderw={border}:bordercolor={o.style.stroke_colour}"
                  f":x={bx * W:.1f}+({bw * W:.1f}-text_w)/2:y={by * H:.1f}+({bh * H:.1f}-text_h)/2"
                  f":enable='between(t,{o.start_s:.3f},{o.end_s:.3f})'[t{j}]")
        vlast = f"t{j}"
    graph += (f";[{vlast}]scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
              f"setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv[vout]")
    a = tl.audio
    if a is not None:
        alen = min(a.src_end_s - a.src_start_s, a.end_s - a.start_s)
        args += ["-ss", f"{a.src_start_s:.6f}", "-t", f"{alen:.6f}", "-i", a.source]
        achain = f"[{n}:a]aresample=44100,volume={a.gain_db}dB"
        if a.fade_in_s > 0:
            achain += f",afade=t=in:st=0:d={a.fade_in_s:.3f}"
        if a.fade_out_s > 0:
            achain += f",afade=t=out:st={alen - a.fade_out_s:.3f}:d={a.fade_out_s:.3f}"
        if a.start_s > 0:
            achain += f",adelay={round(a.start_s * 1000)}:all=1"
        achain += f",apad,atrim=duration={tl.duration_s:.6f}[aout]"
        graph += ";" + achain
    else:
        graph += f";anullsrc=r=44100:cl=stereo,atrim=duration={tl.duration_s:.6f}[aout]"
    args += ["-filter_complex", graph, "-map", "[vout]", "-map", "[aout]", "-r", str(tl.fps),
             "-c:v", "libx264", "-preset", st.preset, "-crf", str(st.crf), "-pix_fmt", "yuv420p",
             "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
             "-c:a", "aac", "-b:a", f"{st.audio_bitrate_kbps}k", "-ac", "2",
             "-t", f"{tl.duration_s:.6f}", "-movflags", "+faststart", "-f", "mp4", str(out)]
    notes.append("text: drawtext with noto-sans-cjk, static (ours animates the title 'pop' and fades text)")
    notes.append("grade: ffmpeg eq (brightness/contrast/saturation), ours a colour matrix incl. warmth")
    return args, {"notes": notes}


def probe_duration(path: Path) -> float | None:
    try:
        import av

        with av.open(str(path)) as f:
            return round(float(f.duration) / 1e6, 3) if f.duration else None
    except Exception:  # noqa: BLE001 - informational only
        return None


def _timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - t0, 3)


def _vm_hwm_mb() -> float | None:
    """Peak RSS of this process's own address space (VmHWM: reset by exec, unlike ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return None


def _peaks() -> dict:
    # ru_maxrss of RUSAGE_SELF is NOT used: Linux carries the forking parent's RSS into the child across exec, so
    # a child forked from a big benchmark process reports at least the parent's size. VmHWM is per address space.
    kb = 1024.0  # ru_maxrss is KiB on Linux
    return {"self_peak_rss_mb": _vm_hwm_mb(),
            "children_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / kb, 1)}


def child(mode: str, clip: str, music: str, state: str, out: str) -> None:
    """Runs in a fresh process; prints one JSON line."""
    from crossmodal_match.audio import analyze_music
    from crossmodal_match.footage import analyze_footage

    if mode == "analyze":
        (fo, ma), wall = _timed(lambda: (analyze_footage(clip), analyze_music(music)))
        Path(state).write_bytes(pickle.dumps((fo, ma)))
        print(json.dumps({"wall_s": wall, "footage_s": fo.duration_s, "shots": len(fo.shots), **_peaks()}))
    else:
        from templates.render import render

        fo, ma = pickle.loads(Path(state).read_bytes())
        tl = build(([fo]), ma, Path(music))
        _, wall = _timed(lambda: render(tl, out, preview=False))
        print(json.dumps({"wall_s": wall, "draft_s": tl.duration_s, "clips": len(tl.clips),
                          "sources_span_s": [round(min(c.src_start_s for c in tl.clips), 2),
                                             round(max(c.src_end_s for c in tl.clips), 2)], **_peaks()}))


def run_child(mode: str, clip: Path, music: Path, state: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, str(clip), str(music), str(state), str(out)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if res.returncode != 0:
        return {"error": res.stderr[-1500:], "rc": res.returncode}
    row = json.loads(res.stdout.strip().splitlines()[-1])
    row["process_wall_s"] = round(time.perf_counter() - t0, 2)
    return row


def rss_part(folder: Path, inputs: dict) -> dict:
    rss = {}
    for key in ("long30", "long600"):
        state = folder / f"{key}.pickle"
        rss[key] = {"analyze": run_child("analyze", inputs[key], inputs["music"], state, folder / "x.mp4")}
        rss[key]["render"] = run_child("render", inputs[key], inputs["music"], state, folder / f"{key}.mp4")
    return rss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", help="folder for inputs and outputs (default: a temporary one)")
    ap.add_argument("--no-rss", action="store_true", help="skip the 30 s / 600 s peak RSS part")
    ap.add_argument("--rss-only", action="store_true", help="only the 30 s / 600 s peak RSS part")
    ap.add_argument("--preview-runs", type=int, default=1, metavar="N",
                    help="render the preview N times and report the median (default 1)")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    tmp = None
    if args.keep:
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="draft_bench_")
        folder = Path(tmp.name)

    from crossmodal_match.audio import analyze_music
    from crossmodal_match.footage import analyze_footage
    from templates.render import render

    report: dict = {"cpus": os.cpu_count(), "load_1min_start": round(os.getloadavg()[0], 2),
                    "draft": {"width": W, "height": H, "fps": FPS, "draft_s_asked": DRAFT_S, "template": TEMPLATE,
                              "title": TITLE, "copy": COPY}}
    inputs = make_inputs(folder, rss=not args.no_rss)
    report["inputs_gen_s"] = inputs["gen_s"]
    if args.rss_only:
        report["rss"] = rss_part(folder, inputs)
        print(json.dumps(report, indent=2))
        return

    (footage, music_a), analysis_s = _timed(
        lambda: ([analyze_footage(p) for p in inputs["clips"]], analyze_music(inputs["music"])))
    report["analysis"] = {"wall_s": analysis_s, "tempo_bpm": music_a.tempo_bpm,
                          "shots": [len(f.shots) for f in footage]}
    tl = build(footage, music_a, inputs["music"])
    report["draft"].update(duration_s=tl.duration_s, template_resolution=list(spec_720()[1]),
                           clips=len(tl.clips), transitions=sorted({c.transition_in for c in tl.clips}),
                           overlays=[[o.kind, o.text, o.style.animation] for o in tl.overlays],
                           audio=None if tl.audio is None else
                           [tl.audio.src_start_s, tl.audio.src_end_s, tl.audio.fade_in_s, tl.audio.fade_out_s])

    ours = folder / "ours.mp4"
    _, full_s = _timed(lambda: render(tl, ours, preview=False))
    report["full"] = {"wall_s": full_s, "realtime_x": round(tl.duration_s / full_s, 3),
                      "size_mb": round(ours.stat().st_size / 1e6, 2), "file_s": probe_duration(ours)}

    direct = folder / "ffmpeg.mp4"
    cmd, info = ffmpeg_equivalent(tl, direct, folder)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    ff_s = round(time.perf_counter() - t0, 3)
    report["ffmpeg"] = {"wall_s": ff_s, "rc": res.returncode, "realtime_x": round(tl.duration_s / ff_s, 3),
                        "size_mb": round(direct.stat().st_size / 1e6, 2) if direct.exists() else None,
                        "file_s": probe_duration(direct), **info,
                        "filter_complex": cmd[cmd.index("-filter_complex") + 1]}
    if res.returncode != 0:
        report["ffmpeg"]["stderr"] = res.stderr[-1500:]
    report["ratio_ours_over_ffmpeg"] = round(full_s / ff_s, 2)

    prev = folder / "preview.mp4"
    # the median of several runs: one run on the shared 2-core machine swings with whatever else is running
    prev_runs = [_timed(lambda: render(tl, prev, preview=True))[1] for _ in range(args.preview_runs)]
    prev_s = sorted(prev_runs)[len(prev_runs) // 2]
    report["preview"] = {"wall_s": prev_s, "runs_s": prev_runs, "realtime_x": round(tl.duration_s / prev_s, 3),
                         "size_mb": round(prev.stat().st_size / 1e6, 2)}
    report["targets"] = {"ratio_le_2": report["ratio_ours_over_ffmpeg"] <= 2.0, "preview_le_5s": prev_s <= 5.0}

    if not args.no_rss:
        report["rss"] = rss = rss_part(folder, inputs)
        try:
            a30, a600 = rss["long30"]["analyze"]["self_peak_rss_mb"], rss["long600"]["analyze"]["self_peak_rss_mb"]
            r30, r600 = rss["long30"]["render"]["self_peak_rss_mb"], rss["long600"]["render"]["self_peak_rss_mb"]
            report["rss_growth_mb"] = {"analyze": round(a600 - a30, 1), "render": round(r600 - r30, 1)}
        except KeyError:
            pass
    report["load_1min_end"] = round(os.getloadavg()[0], 2)
    report["command"] = cmd_str = " ".join(cmd)  # noqa: F841 - the direct ffmpeg command line, for the record
    print(json.dumps(report, indent=2))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
