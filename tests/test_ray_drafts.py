"""Batch drafts on a batch engine, reached by name (``titlegen.engine:run_groups``): the same status rows as the
local batch (whose resume ``tests/test_draft.py`` checks), a dead Ray address as one error line, and (slow) the CLI
on a local Ray instance."""

import json
import socket

import pytest

from templates.batch import STATUS_FILE
from templates.draft_worker import DraftWorkerConfig, run_batch_on_engine
from tests.test_draft import media  # noqa: F401  (the module's footage and music fixture)


def _manifest(path, clip):
    path.write_text(json.dumps({"id": "x", "footage": [str(clip)], "brief": "lake", "preview": True}) + "\n"
                    + json.dumps({"id": "y", "footage": ["nope.mp4"], "brief": "lake"}) + "\n", encoding="utf-8")
    return path


def test_drafts_through_the_engine_runner_report_each_item(media, tmp_path):  # noqa: F811
    clip, _, music = media
    manifest = _manifest(tmp_path / "m.jsonl", clip)
    config = DraftWorkerConfig(out_dir=str(tmp_path / "out"), generator="tests.test_draft:fake_factory",
                               music=str(music))
    summary = run_batch_on_engine(manifest, config, engine={"engine": "local"})
    assert (summary["ok"], summary["failed"], summary["engine"]["rows"]) == (1, 1, 2)
    assert "nope.mp4" in summary["failures"][0]["error"]
    rows = [json.loads(line) for line in (tmp_path / "out" / STATUS_FILE).read_text(encoding="utf-8").splitlines()]
    assert {r["id"]: r["status"] for r in rows} == {"x": "ok", "y": "failed"}
    assert (tmp_path / "out" / "batch-x" / "draft.json").is_file()


def test_a_dead_ray_address_is_one_error_line(media, tmp_path, capsys):  # noqa: F811
    pytest.importorskip("ray")
    from templates.__main__ import main

    clip, _, music = media
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        code = main(["draft", "--manifest", str(_manifest(tmp_path / "m.jsonl", clip)), "--out-dir",
                     str(tmp_path / "out"), "--music", str(music), "--generator", "tests.test_draft:fake_factory",
                     "--engine", "ray", "--address", f"127.0.0.1:{port}"])
    assert code == 2 and f"no Ray cluster answers at 127.0.0.1:{port}" in capsys.readouterr().err


@pytest.mark.slow
def test_drafts_on_a_local_ray_instance(media, tmp_path, capsys):  # noqa: F811
    pytest.importorskip("ray")
    from templates.__main__ import main

    clip, _, music = media
    code = main(["draft", "--manifest", str(_manifest(tmp_path / "m.jsonl", clip)), "--out-dir",
                 str(tmp_path / "out"), "--music", str(music), "--generator", "tests.test_draft:fake_factory",
                 "--engine", "ray", "--workers", "2"])
    assert code == 0 and "1 ok, 1 failed" in capsys.readouterr().out
    assert (tmp_path / "out" / "batch-x" / "draft.json").is_file()
