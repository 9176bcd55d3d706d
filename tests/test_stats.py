"""lstmkit.stats: means over seeds with Student's t interval, and paired comparisons."""

import pytest
from scipy import stats as scipy_stats

from lstmkit.stats import compare, describe, t_975


@pytest.mark.parametrize("df", [1, 2, 4, 9, 29, 30, 31, 40, 100, 1000])
def test_t_quantile_is_students(df):
    assert t_975(df) == pytest.approx(scipy_stats.t.ppf(0.975, df), abs=1e-3)


def test_describe_gives_the_t_interval_of_the_mean():
    values = [87.56, 87.96, 87.11, 87.01, 87.98]
    spread = describe(values)
    low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=spread.mean, scale=scipy_stats.sem(values))
    assert (spread.n, spread.mean) == (5, pytest.approx(87.524))
    assert spread.sd == pytest.approx(scipy_stats.tstd(values))
    assert (spread.low, spread.high) == (pytest.approx(low, abs=1e-3), pytest.approx(high, abs=1e-3))
    assert str(spread).startswith("87.52 ± ")


def test_a_paired_comparison_removes_what_the_seed_does_to_both():
    lstm = {0: 87.6, 1: 88.0, 2: 87.1, 3: 87.0, 4: 88.0}
    shifted = {seed: value - 0.3 + 0.01 * seed for seed, value in lstm.items()}  # same seeds' noise, 0.3 lower
    assert compare(lstm, shifted).larger_than_noise  # the seeds' spread (sd 0.5) would hide 0.3 unpaired
    unpaired = describe(lstm.values()), describe(shifted.values())
    assert unpaired[0].low < unpaired[1].high
    noise = {0: 87.9, 1: 87.5, 2: 87.4, 3: 87.3, 4: 87.7}
    comparison = compare(lstm, noise)
    assert not comparison.larger_than_noise and "within the noise" in str(comparison)


def test_only_the_seeds_both_ran_are_compared():
    assert compare({0: 1.0, 1: 2.0, 5: 100.0}, {0: 0.0, 1: 0.5, 2: 9.0}).difference.n == 2


@pytest.mark.parametrize("call, said", [
    (lambda: describe([1.0]), "at least 2 values"),
    (lambda: describe([1.0, float("nan")]), "finite"),
    (lambda: compare({0: 1.0, 1: 2.0}, {1: 1.0, 2: 2.0}), "at least 2 seeds"),
    (lambda: t_975(0), "degrees of freedom"),
])
def test_too_little_to_say_anything_is_an_error(call, said):
    with pytest.raises(ValueError, match=said):
        call()


def bench_script(name: str, monkeypatch):
    """bench/NAME.py as a module, with bench/ on the path for the helpers it imports (seeded_runs)."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "bench"
    monkeypatch.syspath_prepend(str(folder))
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sentiment_claims_table_reads_runs_and_draws_them(tmp_path, monkeypatch):
    import json

    claims = bench_script("sentiment_claims", monkeypatch)
    lstm = [0.876, 0.880, 0.871, 0.870, 0.880]
    runs = [{"row": "lstm", "seed": seed, "test_accuracy": value} for seed, value in enumerate(lstm)]
    runs += [{"row": "simplernn", "seed": seed, "test_accuracy": value - 0.012 + 0.001 * seed}
             for seed, value in enumerate(lstm)]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(run) + "\n" for run in runs))
    claims.main(["--results", str(results), "--plot", str(tmp_path / "rows.png")])
    lines = claims.table(claims.accuracies(results))
    assert lines[2].startswith("| SimpleRNN(32) | 0, 1, 2, 3, 4 | 86.54 ± ")
    assert "| SimpleRNN(32) | +1.00 ± " in lines[3] and lines[3].endswith("**larger than the noise** |")
    assert (tmp_path / "rows.png").stat().st_size > 10_000


def test_the_pretraining_curve_says_where_frozen_vectors_stop_helping(tmp_path, monkeypatch):
    import json

    curve = bench_script("pretraining_curve", monkeypatch)
    ahead = {250: 0.10, 25_000: 0.0}  # frozen vectors: 10 points ahead with few labels, level with all of them
    runs = [{"embedding": embedding, "size": size, "seed": seed,
             "test_accuracy": 0.7 + (ahead[size] if embedding == "frozen" else 0) + 0.01 * seed + 0.001 * (seed == 1)
             * (embedding == "frozen")}
            for size in ahead for seed in range(3) for embedding in curve.EMBEDDINGS]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(run) + "\n" for run in runs))
    lines = curve.report(curve.accuracies(results), tmp_path / "curve.png")
    assert lines[2].startswith("| 250 | 71.00 ± ") and "larger than the noise" in lines[2]
    assert "within the noise" in lines[3]
    assert lines[5] == "frozen word2vec ahead of scratch by more than the noise at n = 250"
    assert (tmp_path / "curve.png").stat().st_size > 10_000


def test_a_seeded_run_cut_short_goes_on_where_it_stopped(tmp_path, monkeypatch, tiny_aclimdb):
    import json

    runs = bench_script("seeded_runs", monkeypatch)
    run, train = tmp_path / "run", ["sentiment", "train", "--data", tiny_aclimdb, "--embedding-dim", 8, "--units", 8,
                                    "--batch-size", 60, "--quiet"]
    runs.lstmkit(*train, "--epochs", 1, "--out", run)  # as a stopped run leaves it: an epoch saved, no scores
    first = (run / "history.jsonl").read_text(encoding="utf-8").splitlines()
    evaluation = runs.train_and_score(run, [*train, "--epochs", 2],
                                      ["sentiment", "evaluate", run, "--data", tiny_aclimdb])
    history = (run / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(history) == 2 and history[0] == first[0]  # the first epoch kept, the second added
    assert evaluation["train_seconds"] == round(sum(json.loads(line)["seconds"] for line in history))
    assert runs.train_and_score(run, train, []) is None  # scored: never trained again


def test_the_multitask_report_compares_shared_with_alone_by_seed(tmp_path, monkeypatch):
    import json

    multitask = bench_script("multitask", monkeypatch)
    gain = {5_000: 3.0, 20_000: 0.0, 80_000: 1.0}
    runs = [{"recipe": recipe, "size": size, "seed": seed,
             "test_bleu": 10 + seed + (0.1 * (seed == 1) + gain[size] if recipe == "shared" else 0)}
            for size in gain for seed in (range(3) if size < 80_000 else [0]) for recipe in ("alone", "shared")]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(run) + "\n" for run in runs))
    made = {"main": "nld", "partners": ["deu", "fra", "spa"]}
    lines = multitask.report(multitask.scores(results), made, tmp_path / "multitask.png")
    assert lines[0].startswith("| nld training pairs | alone | shared (+ deu, fra, spa) |")
    assert lines[2].startswith("| 5,000 | 11.00 ± ") and "larger than the noise" in lines[2]
    assert "within the noise" in lines[3]
    assert lines[4] == "| 80,000 | 10.00 (one seed) | 11.00 (one seed) | +1.00 (one seed: no interval) |"
    assert (tmp_path / "multitask.png").stat().st_size > 10_000
