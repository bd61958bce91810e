"""Feedback store (SQLite, two writers, atomic writes), fusion training with its gate, model versions, the CLI and
the feedback simulation, on tiny synthetic events."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3

import numpy as np
import pytest

from crossmodal_match import feedback, fusion
from crossmodal_match.__main__ import main as cli_main
from crossmodal_match.errors import ConfigError, FeedbackStoreError, ModelLoadError
from crossmodal_match.feedback import FeedbackStore
from crossmodal_match.fusion import FusionModel, train_fusion
from crossmodal_match.preferences import pairs_from_events
from crossmodal_match.scoring import FEATURES

# Hidden taste of the simulated creators: energy and popularity, unlike the zero-shot weights.
HIDDEN = np.array([0.05, 0.10, 0.45, 0.0, 0.0, 0.40])


def _candidates(x: np.ndarray) -> list[tuple[str, dict[str, float]]]:
    return [(f"t{j}", dict(zip(FEATURES, map(float, row)))) for j, row in enumerate(x)]


def _fill(store: FeedbackStore, *, lists: int, seed: int, hidden: np.ndarray | None) -> None:
    """``lists`` shown lists of 6 random candidates; the creator keeps the hidden-best (or a random one)."""
    rng = np.random.default_rng(seed)
    for i in range(lists):
        x = rng.uniform(0, 1, (6, len(FEATURES)))
        kept = int(np.argmax(x @ hidden + rng.gumbel(0, 0.02, 6))) if hidden is not None else int(rng.integers(6))
        session = f"s{seed}-{i // 2}"
        store.record_shown(session_id=session, kind="music", candidates=_candidates(x), context={"i": i})
        store.record_action(session_id=session, kind="music", candidate_id=f"t{kept}", action="kept")


def test_round_trip_links_actions_to_their_list(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    x = np.full((3, len(FEATURES)), 0.5)
    first = store.record_shown(session_id="s1", kind="music", candidates=_candidates(x), context={"category": "t"})
    second = store.record_shown(session_id="s1", kind="music", candidates=_candidates(x[:2]))
    store.record_action(session_id="s1", kind="music", candidate_id="t2", action="skipped")  # only in list 1
    store.record_action(session_id="s1", kind="music", candidate_id="t1", action="kept")  # latest: list 2
    store.record_action(session_id="s1", kind="music", candidate_id="t1", action="swapped_out")
    store.record_action(session_id="s1", kind="music", candidate_id="elsewhere", action="swapped_in")
    store.record_shown(session_id="s2", kind="copy", candidates=[("line-1", {"semantic": 0.7})])
    assert store.count() == 7 and store.count(kind="copy") == 1
    events = store.events(kind="music")
    assert list(events.columns) == ["shown_id", "session_id", "kind", "created_at", "position", "candidate_id",
                                    "features", "context", "actions"]
    acts = {(r.shown_id, r.candidate_id): r.actions for r in events.itertuples()}
    assert acts[(first, "t2")] == ("skipped",) and acts[(first, "t1")] == ()
    assert acts[(second, "t1")] == ("kept", "swapped_out")
    assert events.iloc[0].features == dict.fromkeys(FEATURES, 0.5) and events.iloc[0].context == {"category": "t"}
    with sqlite3.connect(tmp_path / "fb.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "1"


@pytest.mark.parametrize(("call", "message"), [
    (lambda s: s.record_shown(session_id="s", kind="video", candidates=[("a", {})]),
     r"kind must be one of 'music', 'copy', 'template'; got 'video'"),
    (lambda s: s.record_action(session_id="s", kind="music", candidate_id="a", action="liked"),
     r"action must be one of 'kept', 'exported', 'skipped', 'swapped_in', 'swapped_out'; got 'liked'"),
    (lambda s: s.record_shown(session_id="s", kind="music", candidates=[("a", {"tempo": float("nan")})]),
     "finite number"),
    (lambda s: s.record_shown(session_id="s", kind="music", candidates=[("a", {}), ("a", {})]), "repeat"),
    (lambda s: s.record_shown(session_id="", kind="music", candidates=[("a", {})]), "session_id"),
    (lambda s: s.add_co_usage([("travel", "a", -1)]), "count"),
])
def test_invalid_values_raise_config_error_naming_them(tmp_path, call, message):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    with pytest.raises(ConfigError, match=message):
        call(store)
    assert store.count() == 0


def test_unusable_paths_raise_feedback_store_error_naming_them(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(FeedbackStoreError, match="a-file"):
        FeedbackStore(blocker / "fb.sqlite")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(FeedbackStoreError, match="garbage.sqlite"):
        FeedbackStore(garbage)
    newer = tmp_path / "newer.sqlite"
    FeedbackStore(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(FeedbackStoreError, match="schema version 99"):
        FeedbackStore(newer)


def test_an_error_mid_transaction_leaves_nothing_behind(tmp_path, monkeypatch):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    real, calls = feedback._candidate_row, []

    def fail_on_third(*args):
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("disk pulled out")
        return real(*args)

    monkeypatch.setattr(feedback, "_candidate_row", fail_on_third)
    with pytest.raises(RuntimeError, match="disk pulled out"):
        store.record_shown(session_id="s", kind="music", candidates=_candidates(np.zeros((4, 6))))
    assert len(calls) == 3 and store.count() == 0 and store.events().empty
    with pytest.raises(ConfigError):  # the second row is bad: the first must not be kept either
        store.add_co_usage([("travel", "a", 3), ("travel", "b", "many")])
    assert store.co_usage() == {}
    store.add_co_usage([("travel", "a", 3)])
    store.add_co_usage([("travel", "a", 2), ("food", "a", 1)])
    assert store.co_usage() == {("travel", "a"): 5, ("food", "a"): 1}


def _writer(path: str, seed: int, barrier) -> None:
    barrier.wait()  # both processes open the (new) file and write at the same moment
    store = FeedbackStore(path, busy_timeout_s=60)
    _fill(store, lists=30, seed=seed, hidden=None)


def test_two_processes_writing_at_once_both_succeed(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(path, seed, barrier)) for seed in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    store = FeedbackStore(path)
    assert store.count() == 2 * 30 * 2
    events = store.events()
    assert events["shown_id"].nunique() == 60 and sum(len(a) for a in events["actions"]) == 60


def test_retrain_learns_a_consistent_preference(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    _fill(store, lists=120, seed=0, hidden=HIDDEN)
    prior = FusionModel.zero_shot()
    fit = train_fusion(store.events(), prior=prior)
    assert fit.accepted and fit.model.version == 1 and fit.lists == 120
    assert fit.heldout_accuracy_new > fit.heldout_accuracy_prior + 0.05
    learned = fit.model.vector()
    cosine = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    assert cosine(learned, HIDDEN) > cosine(prior.vector(), HIDDEN) + 0.2
    assert abs(np.abs(learned).sum() - 1) < 1e-9
    assert fit.model.trained_on["parent_version"] == 0 and fit.model.trained_on["heldout_pairs"] > 0


@pytest.mark.parametrize("seed", [4, 8])
def test_retrain_on_noise_does_not_degrade(tmp_path, seed):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    _fill(store, lists=120, seed=seed, hidden=None)
    prior = FusionModel.zero_shot()
    fit = train_fusion(store.events(), prior=prior, seed=seed)
    if fit.accepted:  # then the weights barely moved: sharpness, not the weights, absorbed the noise
        assert fit.heldout_accuracy_new >= fit.heldout_accuracy_prior
        np.testing.assert_allclose(fit.model.vector(), prior.vector(), atol=0.06)
        x = np.random.default_rng(0).uniform(0, 1, (1000, len(FEATURES)))
        assert np.corrcoef(x @ fit.model.vector(), x @ prior.vector())[0, 1] > 0.98
    else:
        assert fit.model is prior and "kept v0000" in fit.reason


def test_too_few_events_keep_the_prior_and_say_so(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    _fill(store, lists=2, seed=0, hidden=HIDDEN)
    prior = FusionModel.zero_shot()
    fit = train_fusion(store.events(), prior=prior)
    assert not fit.accepted and fit.model is prior and "too few held-out pairs" in fit.reason
    assert fusion.fit_fusion(store.events(), prior=prior) is prior
    with pytest.raises(ConfigError, match="holdout"):
        train_fusion(store.events(), prior=prior, holdout=1.5)


def test_co_usage_adds_weaker_pairs(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite")
    x = np.eye(3, len(FEATURES))
    store.record_shown(session_id="s", kind="music", candidates=_candidates(x), context={"category": "travel"})
    store.add_co_usage([("travel", "t0", 10), ("travel", "t1", 2)])
    pairs = pairs_from_events(store.events(), co_usage=store.co_usage(), co_usage_weight=0.25)
    assert not pairs.explicit.any() and len(pairs.diffs) == 3  # t0 > t1, t0 > t2, t1 > t2 (3 vs 1 use)
    np.testing.assert_allclose(pairs.weights.sum(), 0.25)
    np.testing.assert_allclose(pairs.diffs[0], x[0] - x[1])


def test_save_load_and_rollback(tmp_path):
    models = tmp_path / "models"
    assert fusion.load_current(models).version == 0  # nothing trained yet: the zero-shot weights
    tilted = dict(fusion.DEFAULT_WEIGHTS, semantic=0.5, popularity=-0.15)
    first = fusion.save_model(FusionModel(weights=tilted, version=7), models_dir=models)
    second = fusion.save_model(FusionModel.zero_shot(), models_dir=models)
    assert (first.version, second.version) == (1, 2)
    assert sorted(p.name for p in models.iterdir()) == ["current.json", "fusion-v0001.json", "fusion-v0002.json"]
    assert json.loads((models / "fusion-v0001.json").read_text())["format_version"] == fusion.FORMAT_VERSION
    assert fusion.load_current(models).version == 2
    assert fusion.rollback(models) == first and fusion.load_current(models).weights == tilted
    assert fusion.rollback(models).version == 0
    with pytest.raises(ConfigError, match="nothing to roll back"):
        fusion.rollback(models)
    (models / "current.json").write_text('{"version": 5}')
    with pytest.raises(ModelLoadError, match="fusion-v0005.json"):
        fusion.load_current(models)
    with pytest.raises(ConfigError, match="exactly"):
        FusionModel(weights={"semantic": 1.0}, version=1)


def _kind_of(store_path) -> str:
    return str(FeedbackStore(store_path).events()["kind"].iloc[0])


def test_cli_retrain_and_rollback(tmp_path, capsys):
    store_path, models = tmp_path / "fb.sqlite", tmp_path / "models"
    _fill(FeedbackStore(store_path), lists=120, seed=0, hidden=HIDDEN)
    assert cli_main(["retrain", "--store", str(store_path), "--models", str(models)]) == 0
    line = capsys.readouterr().out.strip()
    kind = _kind_of(store_path)
    assert line.startswith(f"retrain {kind}: 120 shown lists") and "accepted" in line and "fusion-v0001.json" in line
    saved = fusion.load_current(models / kind)  # one model per kind, where the matcher looks for it
    assert saved.version == 1 and saved.trained_on["store"] == str(store_path)
    assert cli_main(["retrain", "--models", str(models), "--rollback"]) == 2
    assert "needs --kind" in capsys.readouterr().err
    assert cli_main(["retrain", "--models", str(models), "--rollback", "--kind", kind]) == 0
    assert "current is now v0000" in capsys.readouterr().out
    assert cli_main(["retrain", "--store", str(tmp_path / "missing.sqlite"), "--models", str(models)]) == 2
    assert "no feedback store at" in capsys.readouterr().err


def test_feedback_simulation_writes_its_report(tmp_path):
    from crossmodal_match.evaluate.feedback_sim import FeedbackSimConfig, FeedbackSimulator, write_report

    config = FeedbackSimConfig(seeds=1, event_counts=(0, 60), test_requests=40, catalogue_size=60)
    metrics = FeedbackSimulator(config)()
    write_report(metrics, out_dir=tmp_path, command="test")
    assert {p.name for p in tmp_path.iterdir()} == {"feedback.json", "feedback.md", "feedback.png"}
    pref, noise = metrics["curves"]["preference"], metrics["curves"]["noise"]
    zero = metrics["baselines"]["zero_shot"]["mean"]
    assert pref[0]["r_at_k"]["mean"] == noise[0]["r_at_k"]["mean"] == zero
    assert pref[1]["r_at_k"]["mean"] >= zero and noise[1]["r_at_k"]["mean"] >= zero - 0.05
